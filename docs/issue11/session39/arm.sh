#!/usr/bin/env bash
# Issue 11, session 39: session 36's arm.sh (one arm of a real-phase ablation, capped at 5M real frames, then 100 games)
# with its logs, evaluations and metrics copied into docs/issue11/session39.
#   ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash docs/issue11/session39/arm.sh hpc8 "--controller.h-components 8" 0
#   ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash docs/issue11/session39/arm.sh zpc12 "--controller.z-components 12" 0 1 2
set -euo pipefail
OUT=docs/issue11/session39 exec bash "$(dirname "$0")/../session36/arm.sh" "$@"

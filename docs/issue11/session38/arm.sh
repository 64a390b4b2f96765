#!/usr/bin/env bash
# Issue 11, session 38: session 36's arm.sh (one arm of a real-phase ablation, capped at 5M real frames, then 100 games)
# with its logs, evaluations and metrics copied into docs/issue11/session38.
#   ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash docs/issue11/session38/arm.sh hpc16 "--controller.h-components 16" 1 2 0
set -euo pipefail
OUT=docs/issue11/session38 exec bash "$(dirname "$0")/../session36/arm.sh" "$@"

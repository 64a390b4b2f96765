#!/usr/bin/env bash
# Issue 11, session 40: session 36's arm.sh (one arm of a real-phase ablation on the world models runs/mt/s<SEED>,
# capped at 5M real frames, then 100 games on seeds 10,000-10,099) with its logs, evaluations and metrics copied here.
#   ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash docs/issue11/session40/arm.sh refine25 "--controller.real-refine 0.25" 0 1 2
set -euo pipefail
OUT=docs/issue11/session40 exec bash "$(dirname "$0")/../session36/arm.sh" "$@"

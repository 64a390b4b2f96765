#!/usr/bin/env bash
# Issue 11, session 40: session 39's rerun.sh (the arm again on world model WM with controller seed CSEED, capped at 5M
# real frames, then the same 100 games) with its files copied here, and the run's main search pick evaluated too
# (main_pick_eval.sh). The default's reruns (session 39) used controller seeds 100, 101, 102 on world models 0, 1, 2, so
# the refinement's main search replays their first generations.
#   ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash docs/issue11/session40/rerun.sh refine25 "--controller.real-refine 0.25" 0 100
set -euo pipefail
here=$(dirname "$0")
name=$1 flags=$2 wm=$3; shift 3
for cseed in "$@"; do
  OUT=docs/issue11/session40 bash "$here/../session39/rerun.sh" "$name" "$flags" "$wm" "$cseed"
  bash "$here/main_pick_eval.sh" "${name}_c$cseed" "$wm"
done

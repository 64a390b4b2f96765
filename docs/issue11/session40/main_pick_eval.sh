#!/usr/bin/env bash
# Issue 11, session 40: the main search's pick of an arm's run (before its refinement), on the same 100 games.
#   ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash docs/issue11/session40/main_pick_eval.sh refine25 0 1 2
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
name=$1; shift
for seed in "$@"; do
  run=runs/mt/s${seed}_$name
  $PY docs/issue11/session40/main_pick.py "$run" | tee -a "$run.log"
  $PY evaluate.py --run-dir "$run" --controller "$run/controller/main_pick" --eval.num-episodes 100 \
    --output "${run}_main_pick_eval100.json" --no-wandb --logging.progress false >> "$run.log" 2>&1
  cp "${run}_main_pick_eval100.json" docs/issue11/session40/
done

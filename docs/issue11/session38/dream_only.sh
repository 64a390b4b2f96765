#!/usr/bin/env bash
# Issue 11, session 38: an arm's dream-only controllers (runs/mt/s<SEED>_<NAME>/controller/dream, before any real game)
# on 100 games (seeds 10,000-10,099); the default's are session 36's (docs/issue11/session36/s<SEED>_dream_eval100.json).
#   bash docs/issue11/session38/dream_only.sh NAME SEED...
# OUT (default docs/issue11/session38) is where the evaluations are written.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
name=$1; shift
for seed in "$@"; do
  run=runs/mt/s${seed}_$name
  out=${OUT:-docs/issue11/session38}/$(basename "$run")_dream_eval100.json
  [ -f "$out" ] || $PY evaluate.py --run-dir "$run" --controller "$run/controller/dream" --eval.num-episodes 100 \
    --output "$out" --no-wandb --logging.progress false > /dev/null
  $PY -c "import json,sys; a=json.load(open(sys.argv[1]))['agent']; s=a['action_share']; print(sys.argv[1], round(a['mean'],1), round(a['std'],1), max(s, key=s.get), round(a['top_action_share'],2))" "$out"
done

#!/usr/bin/env bash
# Issue 11: `make train` (default preset) over training seeds, each then scored on 100 games (seeds 10,000-10,099)
# for the final agent and for its dream-only controller. Seed 0's run is docs/make_train_xeon/.
#   bash docs/make_train_seeds.sh SEED...        # writes runs/make_train_xeon_s<SEED>/{eval_100,eval_dream_100}.json
#   PREFIX=runs/make_train_epyc_s bash docs/make_train_seeds.sh 1 2   # another run folder prefix
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
for seed in "$@"; do
  run=${PREFIX:-runs/make_train_xeon_s}$seed
  /usr/bin/time -f "make train seed $seed wall %e s" make train ARGS="--seed $seed --run-dir $run --no-wandb --logging.progress false"
  $PY evaluate.py --run-dir "$run" --eval.num-episodes 100 --output "$run/eval_100.json" --no-wandb --logging.progress false
  $PY evaluate.py --run-dir "$run" --eval.num-episodes 100 --controller "$run/controller/dream" \
    --output "$run/eval_dream_100.json" --no-wandb --logging.progress false
done

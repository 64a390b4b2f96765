#!/usr/bin/env bash
# Issue 11, hypothesis "the dream proposes, a few real games choose": an arm plus --controller.select-candidates 8
# --controller.select-games 4, on training seeds 0 1 2. One run gives both sides of the ablation on the same world
# model: controller/dream (the dream's own choice, dream only) and controller (the real-game selection's choice).
# Both play the 100 evaluation games (seeds 10,000-10,099).
#   bash docs/issue11/select.sh [SEED...]                          # dirichlet_select; default 0 1 2; ~25 min a seed
#   ARM=dirichlet_fg10_select bash docs/issue11/select.sh 0 1 2    # first the dirichlet_fg10 arm (its data and VAE)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
ROOT=${ROOT:-runs/ablation}
ARM=${ARM:-dirichlet_select}
for seed in ${*:-0 1 2}; do
  if [[ $ARM == dirichlet_fg10_select && ! -f $ROOT/dirichlet_fg10_s$seed/eval/results.json ]]; then
    bash docs/ablation_dream.sh "$seed" dirichlet_fg10
  fi
  bash docs/ablation_dream.sh "$seed" "$ARM"
  run=$ROOT/${ARM}_s$seed
  $PY evaluate.py --run-dir "$run" --seed "$seed" --no-wandb --logging.progress false --eval.num-episodes 100 \
      --output "$run/eval_select_100.json"
  $PY evaluate.py --run-dir "$run" --seed "$seed" --no-wandb --logging.progress false --eval.num-episodes 100 \
      --controller "$run/controller/dream" --output "$run/eval_dream_100.json"
done

#!/usr/bin/env bash
# Issue 11: the dirichlet_fg10 world model (Dirichlet data, VAE foreground weight 10) with real-game selection of its
# dream candidates (--controller.select-candidates 8 --controller.select-games 4), per training seed: the fg10 arm
# (its data, VAE, dream-only controller), then the selection arm on the same data and VAE; both controllers of the
# selection run (controller = selection's choice, controller/dream = the dream's own) play the 100 evaluation games.
#   bash docs/issue11/fg10_select.sh [SEED...]      # default 0 1 2; about 20 min a seed on 2 cores
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
ROOT=${ROOT:-runs/ablation}
for seed in ${*:-0 1 2}; do
  [[ -f $ROOT/dirichlet_fg10_s$seed/eval/results.json ]] || bash docs/ablation_dream.sh "$seed" dirichlet_fg10
  bash docs/ablation_dream.sh "$seed" dirichlet_fg10_select
  run=$ROOT/dirichlet_fg10_select_s$seed
  $PY evaluate.py --run-dir "$run" --seed "$seed" --no-wandb --logging.progress false --eval.num-episodes 100 \
      --output "$run/eval_select_100.json"
  $PY evaluate.py --run-dir "$run" --seed "$seed" --no-wandb --logging.progress false --eval.num-episodes 100 \
      --controller "$run/controller/dream" --output "$run/eval_dream_100.json"
done

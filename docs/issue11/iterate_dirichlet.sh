#!/usr/bin/env bash
# Issue 11, hypothesis "iterative rounds that explore with Dirichlet habits": the dirichlet arm's world model
# (seed 0; data, VAE and MDN-RNN copied from runs/ablation/dirichlet_select_s0 when present), dream-only
# controller, then 3 rounds of 40k frames played by the current controller with epsilon 0.3 random actions
# drawn from each game's own Dirichlet(0.5) preferences. Last round's controller on the 100 evaluation games.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
R=${R:-runs/iter_dirichlet_s0}
/usr/bin/time -f "iterate wall %e s" $PY train_world_model.py --seed 0 --logging.progress false --no-wandb \
  --controller.real_epochs 0 --data.action_alpha 0.5 --iterate.rounds 3 --iterate.frames-per-round 40000 \
  --iterate.epsilon 0.3 --iterate.action-alpha 0.5 --run-dir "$R"
$PY evaluate.py --run-dir "$R/rounds/round_03" --seed 0 --no-wandb --logging.progress false --eval.num-episodes 100 \
  --output "$R/eval_round3_100.json"

#!/usr/bin/env bash
# Issue 13: one training seed's CarRacing data, VAE and MDN-RNN (the `carracing` preset: 100 random tracks), which
# controller_arms.sh then copies into each controller arm.
#   bash docs/issue13/models.sh SEED      # writes runs/car/sSEED
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
SEED=$1
RUN=runs/car/s$SEED
COMMON=(--preset carracing --seed "$SEED" --data.num-rollouts 100 --run-dir "$RUN" --no-wandb --logging.progress false)
/usr/bin/time -f "data+vae wall %e s" $PY train_vae.py "${COMMON[@]}"
/usr/bin/time -f "mdn_rnn wall %e s" $PY train_mdn_rnn.py "${COMMON[@]}"

#!/usr/bin/env bash
# Issue 11, session 46: does on-policy data make the dream rank candidates near a trained controller?
# On the world model and default controller of runs/xeon_s0_default (docs/issue11/session36/arm.sh default "" 0 with
# SRC=runs/xeon_s), session 40's local_rank.py draws 64 candidates around the trained controller at half its main
# search's last step and scores each on 2 + 16 real validation games (truth) and in the dream; then one iterative round
# (--iterate.rounds 1, VAE kept as it is: --iterate.vae-epochs 0; MDN-RNN fine-tuned 10 epochs on the random data plus
# FRAMES real frames; no CMA-ES in the round) and the same measurement on the round's world model. ARM is the name
# and EPS the round's exploration: 0.1 (the controller's own games, 10% held random actions: on-policy) or 1.0 (held
# random actions only: the same amount of off-policy data, the control).
#   bash docs/issue11/session46/onpolicy.sh base
#   bash docs/issue11/session46/onpolicy.sh onpolicy 0.1
#   bash docs/issue11/session46/onpolicy.sh random 1.0
# EXTRA adds flags to the round's command and OUT moves the logs (session 47:
#   OUT=docs/issue11/session47 EXTRA="--mdn-rnn.freeze-lstm true" bash docs/issue11/session46/onpolicy.sh frozen 0.1).
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
arm=$1 eps=${2:-}
src=runs/xeon_s0_default out=${OUT:-docs/issue11/session46} frames=${FRAMES:-400000}
sigma=$($PY -c "import json; print(round(0.5 * json.load(open('$src/controller/metrics.json'))['real']['history'][-1]['sigma'], 4))")
if [ "$arm" = base ]; then
  run=$src
else
  run=runs/xeon_s0_$arm
  if [ ! -f "$run/rounds/round_01/round.json" ]; then
    mkdir -p "$run" && cp -r "$src"/{config.json,data,vae,mdn_rnn,controller,latents.json,latents.npz} "$run"/
    /usr/bin/time -f "round wall %e s" $PY train_world_model.py --seed 0 --run-dir "$run" --no-wandb --logging.progress false \
      --iterate.rounds 1 --iterate.frames-per-round "$frames" --iterate.epsilon "$eps" --iterate.vae-epochs 0 \
      --iterate.mdn-rnn-epochs 10 --iterate.dream-epochs 0 --iterate.real-epochs 0 --iterate.eval-episodes 16 ${EXTRA:-} \
      > "$out/${arm}_round.log" 2>&1
  fi
  run=$run/rounds/round_01
fi
echo "local_rank $arm around $run/controller, sigma $sigma"
/usr/bin/time -f "local_rank wall %e s" $PY docs/issue11/session40/local_rank.py "$run" --controller "$run/controller" \
  --sigma "$sigma" --json "$out/local_rank_$arm.json" > "$out/local_rank_$arm.log" 2>&1

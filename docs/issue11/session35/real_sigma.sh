#!/usr/bin/env bash
# Issue 11, session 35: the real phase's step size (controller.real_sigma0, 2.0 logit units since the start, never
# varied) as an ablation. For each training seed, the world model of `make train --seed SEED` (its data, VAE and
# MDN-RNN, in runs/mt/s<SEED>; made here with the real phase skipped when missing) is copied into a new run folder,
# and train_controller.py runs the default preset's dream and real phases with --controller.real-sigma0 SIGMA;
# then 100 games on the evaluation seeds (10,000-10,099).
#   bash docs/issue11/session35/real_sigma.sh SIGMA SEED...   # writes runs/mt/s<SEED>_sig<SIGMA>{,.log,_eval100.json}
# With REAL_FRAMES=N the real phase runs up to 40 generations and stops before the run's real frames pass N
# (--controller.real-frames N); the folders are then runs/mt/s<SEED>_sig<SIGMA>_f<N>.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
sigma=$1; shift
budget=()
[ -n "${REAL_FRAMES:-}" ] && budget=(--controller.real-frames "$REAL_FRAMES" --controller.real-epochs 40)
for seed in "$@"; do
  src=runs/mt/s$seed run=runs/mt/s${seed}_sig$sigma${REAL_FRAMES:+_f$REAL_FRAMES}
  if [ ! -f "$src/mdn_rnn/model.safetensors" ]; then  # the world model only: collection, VAE, MDN-RNN, dream
    /usr/bin/time -f "world model seed $seed wall %e s" $PY train_world_model.py --seed "$seed" --run-dir "$src" \
      --controller.real-epochs 0 --no-wandb --logging.progress false >> "$src.log" 2>&1
  fi
  mkdir -p "$run"
  cp -r "$src"/{config.json,data,vae,mdn_rnn,latents.json,latents.npz} "$run"/
  /usr/bin/time -f "controller seed $seed sigma $sigma wall %e s" $PY train_controller.py --seed "$seed" --run-dir "$run" \
    --controller.real-sigma0 "$sigma" "${budget[@]}" --no-wandb --logging.progress false > "$run.log" 2>&1
  $PY evaluate.py --run-dir "$run" --eval.num-episodes 100 --output "${run}_eval100.json" --no-wandb \
    --logging.progress false >> "$run.log" 2>&1
done

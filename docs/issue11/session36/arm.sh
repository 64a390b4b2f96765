#!/usr/bin/env bash
# Issue 11, session 36: one arm of a real-phase search ablation on the world models of `make train --seed SEED`
# (runs/mt/s<SEED>: data, VAE, MDN-RNN; made with the real phase skipped when missing). Each seed's world model is
# copied into runs/mt/s<SEED>_<NAME>, train_controller.py runs the default preset's dream and real phases with the
# arm's flags under a 5M-frame cap (--controller.real-frames 5000000, up to 40 generations, as session 35's capped
# runs), then 100 games on the evaluation seeds (10,000-10,099).
#   bash docs/issue11/session36/arm.sh NAME "FLAGS" SEED...
#   bash docs/issue11/session36/arm.sh zonly "--controller.inputs z" 0 1 2
#   bash docs/issue11/session36/arm.sh pop64x1 "--controller.real-population 64 --controller.real-rollouts 1" 0 1 2
# OUT (default docs/issue11/session36) is where the logs, evaluations and metrics are copied; SRC (default runs/mt/s)
# the world models' folder prefix, e.g. SRC=runs/make_train_epyc_s for `make train --seed SEED`'s (session 42):
#   SRC=runs/make_train_epyc_s OUT=docs/issue11/session42 bash docs/issue11/session36/arm.sh norefine "--controller.real-refine 0" 1 2
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
name=$1 flags=$2; shift 2
out=${OUT:-docs/issue11/session36}
for seed in "$@"; do
  src=${SRC:-runs/mt/s}$seed
  run=${src}_$name
  if [ ! -f "$src/mdn_rnn/model.safetensors" ]; then
    /usr/bin/time -f "world model seed $seed wall %e s" $PY train_world_model.py --seed "$seed" --run-dir "$src" \
      --controller.real-epochs 0 --no-wandb --logging.progress false >> "$src.log" 2>&1
  fi
  mkdir -p "$run"
  cp -r "$src"/{config.json,data,vae,mdn_rnn,latents.json,latents.npz} "$run"/
  # shellcheck disable=SC2086
  /usr/bin/time -f "controller seed $seed $name wall %e s" $PY train_controller.py --seed "$seed" --run-dir "$run" \
    $flags --controller.real-frames 5000000 --controller.real-epochs 40 --no-wandb --logging.progress false > "$run.log" 2>&1
  $PY evaluate.py --run-dir "$run" --eval.num-episodes 100 --output "${run}_eval100.json" --no-wandb \
    --logging.progress false >> "$run.log" 2>&1
  mkdir -p "$out"
  cp "$run.log" "${run}_eval100.json" "$out"/
  cp "$run/controller/metrics.json" "$out/$(basename "$run")_controller_metrics.json"
done

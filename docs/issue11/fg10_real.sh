#!/usr/bin/env bash
# Issue 11: does a z that knows where the cannon is make the real-game CMA-ES better per frame? `make train`'s recipe
# (40 dream + 30 real generations, the default preset) on the world model of the `dirichlet_fg10` ablation arm
# (Dirichlet(0.5) random data, VAE foreground weight 10: cannon probe R^2 0.95 against 0.15 for make train's VAE),
# scored on the 100 evaluation games (seeds 10,000-10,099) as docs/make_train_seeds.sh scores `make train`.
#   bash docs/issue11/fg10_real.sh SEED...     # needs runs/ablation/dirichlet_fg10_s<SEED> (bash docs/ablation_dream.sh SEED dirichlet_fg10)
# Its data and VAE are copied (the same seed and flags make them byte for byte); the MDN-RNN and controller train here.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
COMMON=(--no-wandb --logging.progress false)
FLAGS=(--data.action_alpha 0.5 --vae.foreground_weight 10 "${COMMON[@]}")
for seed in "$@"; do
  src=runs/ablation/dirichlet_fg10_s$seed run=runs/ablation/dirichlet_fg10_real_s$seed
  [[ -f $src/vae/metrics.json ]] || { echo "train $src first: bash docs/ablation_dream.sh $seed dirichlet_fg10" >&2; exit 1; }
  if [[ ! -d $run ]]; then mkdir -p "$run" && cp -r "$src/data" "$src/vae" "$src/latents.npz" "$src/latents.json" "$run/"; fi
  /usr/bin/time -f "fg10_real seed $seed wall %e s" $PY train_world_model.py --seed "$seed" --run-dir "$run" "${FLAGS[@]}"
  $PY evaluate.py --run-dir "$run" --eval.num-episodes 100 --output "$run/eval_100.json" "${COMMON[@]}"
  $PY evaluate.py --run-dir "$run" --eval.num-episodes 100 --controller "$run/controller/dream" --output "$run/eval_dream_100.json" "${COMMON[@]}"
done

#!/usr/bin/env bash
# Issue 11, session 39: one arm that changes the MDN-RNN. The collected data, VAE and latents of `make train --seed SEED`
# (runs/mt/s<SEED>) are copied into runs/mt/s<SEED>_<NAME>, the MDN-RNN is trained again there with MDN_FLAGS, then
# train_controller.py runs the default preset with CTRL_FLAGS (real phase capped at 5M real frames, up to 40 generations;
# pass --controller.real-epochs 0 for the dream phase alone). Its dream-only controller (controller/dream) plays the
# 100 games 10,000-10,099, and the final controller too when a real phase ran.
#   ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash docs/issue11/session39/wm_arm.sh zmean "--mdn_rnn.z_target mean" "--controller.real-epochs 0" 0 1 2
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
name=$1 mdn_flags=$2 ctrl_flags=$3; shift 3
out=docs/issue11/session39
for seed in "$@"; do
  src=runs/mt/s$seed run=runs/mt/s${seed}_$name
  if [ ! -f "$run/mdn_rnn/model.safetensors" ]; then
    mkdir -p "$run"
    cp -r "$src"/{config.json,data,vae,latents.json,latents.npz} "$run"/
    # shellcheck disable=SC2086
    /usr/bin/time -f "mdn_rnn seed $seed $name wall %e s" $PY train_mdn_rnn.py --seed "$seed" --run-dir "$run" $mdn_flags \
      --no-wandb --logging.progress false > "$run.log" 2>&1
  fi
  # shellcheck disable=SC2086
  /usr/bin/time -f "controller seed $seed $name wall %e s" $PY train_controller.py --seed "$seed" --run-dir "$run" \
    --controller.real-frames 5000000 --controller.real-epochs 40 $ctrl_flags --no-wandb \
    --logging.progress false >> "$run.log" 2>&1
  $PY evaluate.py --run-dir "$run" --controller "$run/controller/dream" --eval.num-episodes 100 \
    --output "${run}_dream_eval100.json" --no-wandb --logging.progress false >> "$run.log" 2>&1
  if grep -q '"real"' "$run/controller/metrics.json"; then
    $PY evaluate.py --run-dir "$run" --eval.num-episodes 100 --output "${run}_eval100.json" --no-wandb \
      --logging.progress false >> "$run.log" 2>&1
    cp "${run}_eval100.json" "$out"/
  fi
  cp "$run.log" "${run}_dream_eval100.json" "$out"/
  cp "$run/controller/metrics.json" "$out/s${seed}_${name}_controller_metrics.json"
  $PY -c "import json,sys; a=json.load(open(sys.argv[1]))['agent']; print(sys.argv[1], round(a['mean'],1), round(a['std'],1), round(a['top_action_share'],2))" "${run}_dream_eval100.json"
done

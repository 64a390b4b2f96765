#!/usr/bin/env bash
# Issue 11, session 39: how much one real-phase run varies by itself. The world model of `make train --seed WM`
# (runs/mt/s<WM>) is copied into runs/mt/s<WM>_<NAME>_c<CSEED> and train_controller.py runs the default preset's dream and
# real phases with controller seed CSEED (rerun_controller.py: its CMA-ES draws, dream starts and real-game seeds; the world
# model and h's principal directions are the same), capped at 5M real frames as session36/arm.sh, then the same 100 games (seeds 10,000-10,099).
#   ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash docs/issue11/session39/rerun.sh hpc16 "" 0 100
#   ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash docs/issue11/session39/rerun.sh hpc16 "" 1 101
#   ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash docs/issue11/session39/rerun.sh hpc16 "" 2 102
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
name=$1 flags=$2 wm=$3; shift 3
out=${OUT:-docs/issue11/session39}  # where the logs, evaluations and metrics are copied
for cseed in "$@"; do
  src=${SRC:-runs/mt/s}$wm  # SRC: another world models' folder prefix (session 48: runs/xeon_s)
  run=${src}_${name}_c$cseed
  mkdir -p "$run"
  cp -r "$src"/{config.json,data,vae,mdn_rnn,latents.json,latents.npz} "$run"/
  # shellcheck disable=SC2086
  /usr/bin/time -f "controller world model $wm seed $cseed $name wall %e s" $PY docs/issue11/session39/rerun_controller.py \
    "$cseed" --seed "$wm" --run-dir "$run" $flags --controller.real-frames 5000000 --controller.real-epochs 40 --no-wandb \
    --logging.progress false > "$run.log" 2>&1
  $PY evaluate.py --run-dir "$run" --eval.num-episodes 100 --output "${run}_eval100.json" --no-wandb \
    --logging.progress false >> "$run.log" 2>&1
  cp "$run.log" "${run}_eval100.json" "$out"/
  cp "$run/controller/metrics.json" "$out/$(basename "$run")_controller_metrics.json"
done

#!/usr/bin/env bash
# Issue 11, session 40: session 39's rerun.sh (the arm again on world model WM with controller seed CSEED, through
# session39/rerun_controller.py, capped at 5M real frames, then the same 100 games) with its files copied here, and the
# run's main search pick evaluated too (main_pick_eval.sh). The default's reruns (session 39) used controller seeds 100,
# 101, 102 on world models 0, 1, 2, so the refinement's main search replays their first generations.
#   ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash docs/issue11/session40/rerun.sh refine25 "--controller.real-refine 0.25" 0 100
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
name=$1 flags=$2 wm=$3; shift 3
out=docs/issue11/session40
for cseed in "$@"; do
  src=runs/mt/s$wm run=runs/mt/s${wm}_${name}_c$cseed
  mkdir -p "$run"
  cp -r "$src"/{config.json,data,vae,mdn_rnn,latents.json,latents.npz} "$run"/
  # shellcheck disable=SC2086
  /usr/bin/time -f "controller world model $wm seed $cseed $name wall %e s" $PY docs/issue11/session39/rerun_controller.py \
    "$cseed" --seed "$wm" --run-dir "$run" $flags --controller.real-frames 5000000 --controller.real-epochs 40 --no-wandb \
    --logging.progress false > "$run.log" 2>&1
  $PY evaluate.py --run-dir "$run" --eval.num-episodes 100 --output "${run}_eval100.json" --no-wandb \
    --logging.progress false >> "$run.log" 2>&1
  cp "${run}_eval100.json" "$out"/
  cp "$run/controller/metrics.json" "$out/s${wm}_${name}_c${cseed}_controller_metrics.json"
  bash "$out/main_pick_eval.sh" "${name}_c$cseed" "$wm"
  cp "$run.log" "$out"/
done

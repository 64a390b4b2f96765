#!/usr/bin/env bash
# Issue 11, session 48: an arm again on Xeon world model WM (runs/xeon_s<WM>) with controller seed CSEED (session 39's
# rerun_controller.py: CMA-ES's draws, the dream starts and every real game's seed are CSEED's; the world model, h's
# principal directions and the real phase's feature statistics are the world model's), capped at 5M real frames as
# session36/arm.sh, then the same 100 games (seeds 10,000-10,099). Runs go to runs/xeon_s<WM>_<NAME>_c<CSEED>; logs,
# evaluations and metrics are copied to docs/issue11/session48.
#   bash docs/issue11/session48/rerun.sh default "" 0 100
#   bash docs/issue11/session48/rerun.sh std "--controller.real-standardize true" 0 100
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
name=$1 flags=$2 wm=$3; shift 3
out=docs/issue11/session48
for cseed in "$@"; do
  src=runs/xeon_s$wm run=runs/xeon_s${wm}_${name}_c$cseed
  mkdir -p "$run"
  cp -r "$src"/{config.json,data,vae,mdn_rnn,latents.json,latents.npz} "$run"/
  # shellcheck disable=SC2086
  /usr/bin/time -f "controller world model $wm seed $cseed $name wall %e s" $PY docs/issue11/session39/rerun_controller.py \
    "$cseed" --seed "$wm" --run-dir "$run" $flags --controller.real-frames 5000000 --controller.real-epochs 40 --no-wandb \
    --logging.progress false > "$run.log" 2>&1
  $PY evaluate.py --run-dir "$run" --eval.num-episodes 100 --output "${run}_eval100.json" --no-wandb \
    --logging.progress false >> "$run.log" 2>&1
  cp "$run.log" "${run}_eval100.json" "$out"/
  cp "$run/controller/metrics.json" "$out/xeon_s${wm}_${name}_c${cseed}_controller_metrics.json"
done

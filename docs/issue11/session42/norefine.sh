#!/usr/bin/env bash
# Issue 11, session 42: the session-38 default (no refinement: `--controller.real-refine 0`, the whole 5M frames to the
# main search) on the world models of `make train --seed SEED` under today's defaults (runs/make_train_epyc_s<SEED>,
# made by `PREFIX=runs/make_train_epyc_s bash docs/make_train_seeds.sh SEED`), then the same 100 games (10,000-10,099):
# does the refinement of the default preset help on world models that took no part in choosing it?
#   bash docs/issue11/session42/norefine.sh 1 2
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
out=docs/issue11/session42
for seed in "$@"; do
  src=runs/make_train_epyc_s$seed run=runs/make_train_epyc_s${seed}_norefine
  rm -rf "$run" && mkdir -p "$run"
  cp -r "$src"/{config.json,data,vae,mdn_rnn,latents.json,latents.npz} "$run"/
  /usr/bin/time -f "controller seed $seed norefine wall %e s" $PY train_controller.py --seed "$seed" --run-dir "$run" \
    --controller.real-refine 0 --no-wandb --logging.progress false > "$run.log" 2>&1
  $PY evaluate.py --run-dir "$run" --eval.num-episodes 100 --output "${run}_eval100.json" --no-wandb \
    --logging.progress false >> "$run.log" 2>&1
  cp "$run.log" "$out/epyc_s${seed}_norefine.log"
  cp "${run}_eval100.json" "$out/epyc_s${seed}_norefine_eval100.json"
  cp "$run/controller/metrics.json" "$out/epyc_s${seed}_norefine_controller_metrics.json"
done

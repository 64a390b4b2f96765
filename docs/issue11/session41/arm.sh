#!/usr/bin/env bash
# Issue 11, session 41: one refinement arm on the six runs of session 40's refine25 arm (world models 0-2 with their own
# controller seed, and with session 39's rerun seeds 100-102), started from each run's main search (splice.py: the main
# search is the same for any refinement flags with the same share), then 100 games on seeds 10,000-10,099.
#   ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash docs/issue11/session41/arm.sh elite25 "--controller.real-refine-search elite"
# The runs go to runs/mt/s<WM>_<NAME>[_c<CSEED>]; logs, evaluations and metrics are copied to docs/issue11/session41.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
name=$1 flags=$2
out=docs/issue11/session41
for pair in "0 -" "1 -" "2 -" "0 100" "1 101" "2 102"; do
  read -r wm cseed <<< "$pair"
  suffix=$([ "$cseed" = - ] && echo "" || echo "_c$cseed")
  src=runs/mt/s${wm}_refine25$suffix run=runs/mt/s${wm}_$name$suffix
  [ -f "${run}_eval100.json" ] && continue  # done before
  rm -rf "$run"
  # shellcheck disable=SC2086
  /usr/bin/time -f "refinement world model $wm seed $cseed $name wall %e s" $PY docs/issue11/session41/splice.py \
    "$src" "$run" "$cseed" -- --seed "$wm" --controller.real-refine 0.25 $flags --controller.real-frames 5000000 \
    --controller.real-epochs 40 --no-wandb --logging.progress false > "$run.log" 2>&1
  $PY evaluate.py --run-dir "$run" --eval.num-episodes 100 --output "${run}_eval100.json" --no-wandb \
    --logging.progress false >> "$run.log" 2>&1
  cp "$run.log" "${run}_eval100.json" "$out"/
  cp "$run/controller/metrics.json" "$out/s${wm}_$name${suffix}_controller_metrics.json"
done

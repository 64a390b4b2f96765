#!/usr/bin/env bash
# Issue 11: the controller side of the dream, on one fixed world model. Each arm reuses a trained run's data,
# VAE and MDN-RNN (hard links; nothing in the source is written), trains only the dream controller with the
# arm's flags, and plays it on 30 *validation* games (seeds 20,000+, not the evaluation seeds) so that picking
# a setting here does not tune on the games the README reports.
#
#   bash docs/sweep_controller.sh SRC_RUN [ARM...]   # e.g. runs/ablation/all_s0
#   EXTRA="--data.action_alpha 0.5" bash docs/sweep_controller.sh runs/ablation/dirichlet_z64_motion50_s0 base h1000
#                                                    # EXTRA: the source run's data flags, passed to train_controller.py
#   python docs/sweep_table.py runs/ctrl_sweep       # the table
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SRC=$1
shift
ARMS=${*:-base sigma05 gen200 h1000 tau10 tau13 pop64}
ROOT=${ROOT:-runs/ctrl_sweep}
SEED=${SEED:-0}
COMMON=(--seed "$SEED" --logging.progress false --no-wandb)

flags_of() {
  case $1 in
    base) ;;
    sigma05) echo --controller.sigma0 0.5 ;;
    sigma1) echo --controller.sigma0 1.0 ;;
    gen200) echo --controller.dream_epochs 200 ;;
    h1000) echo --controller.dream_horizon 1000 ;;
    tau10) echo --controller.temperature 1.0 ;;
    tau13) echo --controller.temperature 1.3 ;;
    pop64) echo --controller.population_size 64 ;;
    r64) echo --controller.dream_rollouts 64 ;;
    *) echo "unknown arm $1" >&2; exit 2 ;;
  esac
}

[[ -f $SRC/mdn_rnn/metrics.json ]] || { echo "$SRC has no trained MDN-RNN" >&2; exit 1; }
for arm in $ARMS; do
  run=$ROOT/$(basename "$SRC")/$arm
  flags=$(flags_of "$arm")
  if [[ ! -d $run ]]; then
    mkdir -p "$run"
    for d in data vae mdn_rnn; do cp -al "$SRC/$d" "$run/"; done
    cp "$SRC"/latents.* "$run/" 2>/dev/null || true
  fi
  # the source run's env settings (max-pool) travel with it
  envflags=$($PY -c "import json,sys; e=json.load(open('$SRC/config.json'))['env']; print('--env.maxpool', str(e.get('maxpool', False)).lower(), '--env.dilate', e.get('dilate', 0))")
  echo "=== arm $arm: $flags"
  /usr/bin/time -f "$arm wall %e s" $PY train_controller.py "${COMMON[@]}" $envflags ${EXTRA:-} --controller.real_epochs 0 --run-dir "$run" $flags
  $PY evaluate.py "${COMMON[@]}" $envflags --run-dir "$run" --eval.seed 20000 --eval.num_episodes 30 --output "$run/eval/validation.json"
done

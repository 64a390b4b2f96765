#!/usr/bin/env bash
# Issue 13: what the CarRacing controller needs, on one set of models. Every arm copies the data, VAE and
# MDN-RNN of a `carracing` run (made by `train_vae.py` + `train_mdn_rnn.py --preset carracing`, 100 tracks) and
# trains only the controller, then plays the same 30 seeded evaluation tracks (seeds 10,000-10,029).
#   bash docs/issue13/controller_arms.sh SEED REAL_EPOCHS ARM...
# Arms: dream_real (the preset: 40 dream generations, then real CMA-ES from the dream's best),
#       real_only (no dream: real CMA-ES from the zero controller, as the paper trains CarRacing),
#       and either with _nopat (no early stop of a training episode that stopped paying).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
SEED=$1; EPOCHS=$2; shift 2
SRC=runs/car/s$SEED
[[ -f $SRC/mdn_rnn/metrics.json ]] || { echo "train $SRC's VAE and MDN-RNN first" >&2; exit 1; }
COMMON=(--preset carracing --seed "$SEED" --data.num-rollouts 100 --no-wandb --logging.progress false)
for arm in "$@"; do
  flags=(--controller.real-epochs "$EPOCHS")
  case ${arm%_nopat} in
    dream_real) ;;
    real_only) flags+=(--controller.dream-epochs 0) ;;
    *) echo "unknown arm $arm" >&2; exit 2 ;;
  esac
  [[ $arm == *_nopat ]] && flags+=(--controller.real-patience 0)
  run=runs/car/${arm}_e${EPOCHS}_s$SEED
  if [[ ! -d $run ]]; then
    mkdir -p "$run"
    cp -r "$SRC/data" "$SRC/vae" "$SRC/mdn_rnn" "$SRC/latents.npz" "$run/"
  fi
  echo "=== arm $arm seed $SEED: ${flags[*]}"
  /usr/bin/time -f "$arm controller wall %e s" $PY train_controller.py "${COMMON[@]}" "${flags[@]}" --run-dir "$run"
  /usr/bin/time -f "$arm eval wall %e s" $PY evaluate.py "${COMMON[@]}" --run-dir "$run" --eval.num-episodes 30
done

#!/usr/bin/env bash
# Issue 13: what the CarRacing controller needs, on one set of models. Every arm copies the data, VAE and
# MDN-RNN of a `carracing` run (made by `train_vae.py` + `train_mdn_rnn.py --preset carracing`, 100 tracks) and
# trains only the controller, then plays the same 30 seeded evaluation tracks (seeds 10,000-10,029).
#   [EVAL=100] bash docs/issue13/controller_arms.sh SEED REAL_EPOCHS ARM...   (EVAL: evaluation tracks, default 30)
# Arms: real_only (the preset: no dream, real CMA-ES from the zero controller, as the paper trains CarRacing),
#       dream_real (40 dream generations first, then real CMA-ES from the dream's best: the preset before stop 24),
#       and either with _nopat (no early stop of a training episode that stopped paying) or _stretch (brake =
#       (tanh + 1) / 2, the mapping before the paper's clip(tanh, 0, 1): the copied MDN-RNN's config loses
#       action_clip, so the dream, the real phase and evaluation all play the old mapping).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
SEED=$1; EPOCHS=$2; shift 2
SRC=runs/car/s$SEED
[[ -f $SRC/mdn_rnn/metrics.json ]] || { echo "train $SRC's VAE and MDN-RNN first" >&2; exit 1; }
COMMON=(--preset carracing --seed "$SEED" --no-wandb --logging.progress false)
for arm in "$@"; do
  flags=(--controller.real-epochs "$EPOCHS")
  base=${arm%_nopat}; base=${base%_stretch}
  case $base in
    dream_real) flags+=(--controller.dream-epochs 40) ;;
    real_only) flags+=(--controller.dream-epochs 0) ;;
    *) echo "unknown arm $arm" >&2; exit 2 ;;
  esac
  [[ $arm == *_nopat ]] && flags+=(--controller.real-patience 0)
  run=runs/car/${arm}_e${EPOCHS}_s$SEED
  if [[ ! -d $run ]]; then
    mkdir -p "$run"
    cp -r "$SRC/data" "$SRC/vae" "$SRC/mdn_rnn" "$SRC/latents.npz" "$run/"
    if [[ $arm == *_stretch ]]; then
      $PY -c "import json, sys; p = sys.argv[1]; c = json.load(open(p)); c.pop('action_clip'); json.dump(c, open(p, 'w'), indent=2)" "$run/mdn_rnn/config.json"
    fi
  fi
  echo "=== arm $arm seed $SEED: ${flags[*]}"
  /usr/bin/time -f "$arm controller wall %e s" $PY train_controller.py "${COMMON[@]}" --data.num-rollouts 100 "${flags[@]}" --run-dir "$run"
  /usr/bin/time -f "$arm eval wall %e s" $PY evaluate.py "${COMMON[@]}" --run-dir "$run" --eval.num-episodes "${EVAL:-30}"
done

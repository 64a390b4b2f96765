#!/usr/bin/env bash
# Issue 11: is the dream wrong, or does the search in it fail? On one ablation arm's world model (its data, VAE and
# MDN-RNN copied: the same seed and flags make them byte for byte), `make train`'s recipe (40 dream + 30 real-game
# CMA-ES generations) finds a controller that plays well in the real game; then the dream scores it beside the
# dream-trained controller and the six constant actions on the same 256 dream starts and per-step noise
# (docs/dream_vs_real.py). If the real-game controller's dream fitness is below the dream's own choice, more search
# in the dream cannot find it: the model is wrong. --rank-near adds the rank agreement around each of the two
# controllers (24 candidates, 2 real games each): the neighbourhood CMA-ES would have to climb through.
#   FLAGS="<the arm's flags>" bash docs/issue11/dream_or_search.sh ARM SEED   # needs runs/ablation/<ARM>_s<SEED>
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
ARM=$1 SEED=$2
COMMON=(--seed "$SEED" --no-wandb --logging.progress false)
src=runs/ablation/${ARM}_s$SEED run=runs/ablation/${ARM}_real_s$SEED
[[ -f $src/eval/results.json ]] || { echo "run the arm first: bash docs/ablation_dream.sh $SEED $ARM" >&2; exit 1; }
if [[ ! -d $run ]]; then mkdir -p "$run" && cp -r "$src/data" "$src/vae" "$src/mdn_rnn" "$src/latents.npz" "$src/latents.json" "$run/"; fi
# shellcheck disable=SC2086
/usr/bin/time -f "$ARM real seed $SEED wall %e s" $PY train_world_model.py "${COMMON[@]}" --run-dir "$run" $FLAGS
$PY evaluate.py --visualize "${COMMON[@]}" --run-dir "$run"
$PY docs/dream_vs_real.py "$run" "$run/controller/dream" "$run/controller" --constants \
    --real "$src/eval/results.json" "$run/eval/results.json" --rank-near --json "$run/dream_vs_real.json"

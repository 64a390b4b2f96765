#!/usr/bin/env bash
# VAE variants trained on one arm's frames (the dirichlet data of seed 0) and measured by the cannon probe only:
# no MDN-RNN, no controller. Cheap (one VAE each) so a variant earns a controller run only if z keeps the cannon.
#
#   bash docs/issue11/vae_probe.sh DATA_RUN VARIANT...      # e.g. runs/ablation/dirichlet_vae10_s0 fg10
#   variants: fg10 (--vae.foreground-weight 10), fg3, z64 (--vae.latent-dim 64)
# Each variant writes runs/probe/<variant>_s0/ (its data/ a link to DATA_RUN/data) and appends its probe row to
# runs/probe/probe.json (python docs/issue11/cannon_probe.py ... --output).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
src=$1; shift
flags_of() {
  case $1 in
    fg10) echo --vae.foreground-weight 10 ;;
    fg3) echo --vae.foreground-weight 3 ;;
    z64) echo --vae.latent-dim 64 ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
  esac
}
for v in "$@"; do
  run=runs/probe/${v}_s0
  mkdir -p "$run"
  ln -sfn "$(realpath "$src/data")" "$run/data"
  $PY train_vae.py --run-dir "$run" --seed 0 --data.action-alpha 0.5 --logging.progress false --no-wandb $(flags_of "$v")
  $PY docs/issue11/cannon_probe.py "$run" --output "$run/probe.json"
done

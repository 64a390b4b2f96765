#!/usr/bin/env bash
# Copy a training VAE's weights after chosen epochs, so the cannon probe can read the curve of one run:
#   bash docs/issue11/snapshot_vae.sh RUN 5 [10 ...] &   # copies RUN/vae to RUN/vae_e5, ... as each epoch ends
# It waits for the training log's line "[vae] epoch E/N" (LOG, default RUN.log; run training with PYTHONUNBUFFERED=1).
set -euo pipefail
run=$1; shift
log=${LOG:-$run.log}
for e in "$@"; do
  until grep -q "\[vae\] epoch $e/" "$log" 2>/dev/null; do sleep 5; done
  sleep 2  # the line is printed after the weights and resume state are written
  rm -rf "$run/vae_e$e.tmp" && cp -r "$run/vae" "$run/vae_e$e.tmp" && rm -f "$run/vae_e$e.tmp/resume.pt" && mv "$run/vae_e$e.tmp" "$run/vae_e$e"
  echo "snapshot $run/vae_e$e"
done

#!/usr/bin/env bash
# Issue 11, session 48: an arm again on Xeon world model WM (runs/xeon_s<WM>) with controller seed CSEED: session 39's
# rerun.sh (rerun_controller.py: CMA-ES's draws, the dream starts and every real game's seed are CSEED's; the world model,
# h's principal directions and the real phase's feature statistics are the world model's), capped at 5M real frames,
# then the same 100 games (seeds 10,000-10,099). Runs go to runs/xeon_s<WM>_<NAME>_c<CSEED>; logs, evaluations and
# metrics are copied to docs/issue11/session48.
#   bash docs/issue11/session48/rerun.sh default "" 0 100
#   bash docs/issue11/session48/rerun.sh std "--controller.real-standardize true" 0 100
set -euo pipefail
SRC=runs/xeon_s OUT=docs/issue11/session48 exec bash "$(dirname "$0")/../session39/rerun.sh" "$@"

#!/usr/bin/env bash
# Issue 11, session 39: session 38's dream_only.sh (an arm's dream-only controllers, runs/mt/s<SEED>_<NAME>/controller/dream,
# on the 100 games 10,000-10,099) with the evaluations written into docs/issue11/session39; hpc16 (the default since
# session 38) has session 38's.
#   bash docs/issue11/session39/dream_only.sh NAME SEED...
set -euo pipefail
OUT=docs/issue11/session39 exec bash "$(dirname "$0")/../session38/dream_only.sh" "$@"

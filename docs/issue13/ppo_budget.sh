#!/usr/bin/env bash
# Issue 13: SB3 PPO on CarRacing-v3 at a stated budget (the carracing preset's rl-zoo settings), then PPO and uniform
# random play on the same seeded tracks as the World Models runs (compare_baselines.py; eval seeds 10,000+).
#   bash docs/issue13/ppo_budget.sh [FRAMES] [SEED] [TRACKS]      # default 100000 frames (= agent steps here), seed 0, 30 tracks
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
FRAMES=${1:-100000}
SEED=${2:-0}
TRACKS=${3:-30}
RUN=runs/carracing_ppo_${FRAMES}_s$SEED
/usr/bin/time -f "ppo wall %e s" $PY train_baselines.py --preset carracing --algorithms ppo --seed "$SEED" \
  --baselines.frame-budget "$FRAMES" --run-dir "$RUN" --no-wandb --logging.progress false
/usr/bin/time -f "compare wall %e s" $PY compare_baselines.py --preset carracing --seed "$SEED" --run-dir "$RUN" \
  --agents ppo random --num-episodes "$TRACKS" --output-dir "$RUN/comparison" --no-video --no-wandb --logging.progress false

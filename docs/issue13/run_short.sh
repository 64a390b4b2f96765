#!/usr/bin/env bash
# Issue 13: a shortened carracing-preset run that one 3-hour session can finish beside other work (half the preset's
# random tracks, 8 real-game generations instead of 60), then World Models and uniform random play on the same 30
# seeded tracks (compare_baselines.py; always-FIRE does not exist on this game and is skipped).
#   bash docs/issue13/run_short.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
SEED=${1:-0}
RUN=runs/carracing_short_s$SEED
/usr/bin/time -f "world models wall %e s" $PY train_world_model.py --preset carracing --seed "$SEED" \
  --data.num-rollouts 100 --controller.real-epochs 8 --eval.num-episodes 10 --run-dir "$RUN" --no-wandb --logging.progress false
/usr/bin/time -f "compare wall %e s" $PY compare_baselines.py --preset carracing --seed "$SEED" --run-dir "$RUN" \
  --agents world-models random --num-episodes 30 --output-dir "$RUN/comparison" --no-video --no-wandb --logging.progress false

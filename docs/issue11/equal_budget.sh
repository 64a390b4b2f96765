#!/usr/bin/env bash
# Issue 11's 400k-frame target: DDQN, PPO and SAC trained at the default budget (400,000 emulator frames each) in the
# run directory of a dirichlet_fg10_select seed, then one `compare_baselines.py --equal-budget 400000` report on the
# 100 evaluation games (seeds 10,000-10,099) with the World Models agent of that run, random and always-FIRE.
#   bash docs/issue11/equal_budget.sh [SEED...]     # default 0 1 2; ~80 min of baseline training a seed on 2 cores
# The arm must exist (ARM=dirichlet_fg10_select bash docs/issue11/select.sh SEED). The report goes to
# <run>/comparison/; the baselines write their config to <run>/baselines/<algo>/, the run's config.json stays the arm's.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
ROOT=${ROOT:-runs/ablation}
for seed in ${*:-0 1 2}; do
  run=$ROOT/dirichlet_fg10_select_s$seed
  [[ -f $run/controller/metrics.json ]] || { echo "no World Models agent in $run: run the dirichlet_fg10_select arm first" >&2; exit 1; }
  common=(--run-dir "$run" --seed "$seed" --no-wandb --logging.progress false)
  /usr/bin/time -f "baselines seed $seed wall %e s" $PY train_baselines.py "${common[@]}" --algorithms ddqn ppo sac
  $PY compare_baselines.py "${common[@]}" --equal-budget 400000 --eval.num-episodes 100 --output-dir "$run/comparison"
done

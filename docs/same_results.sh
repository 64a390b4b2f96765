#!/usr/bin/env bash
# Does a refactor change behaviour? Run the same small pipeline, baselines and comparison with an older
# commit and with the working tree, then compare every weight, loss, fitness and game score.
#
#   bash docs/same_results.sh d53db58            # (the commit before issue 10's refactor)
#
# Sizes: the dry-run preset with 3 dream and 2 real CMA-ES generations, 5 evaluation games with the
# reference policies, DDQN/PPO/SAC on 2,000 frames, a comparison of all of them on 3 games.
set -euo pipefail
old=${1:?usage: bash docs/same_results.sh OLD_COMMIT}
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$here/.venv/bin/python}
work=$(mktemp -d /tmp/same_results.XXXX)
git -C "$here" worktree add -q --detach "$work/old" "$old"
trap 'git -C "$here" worktree remove --force "$work/old"' EXIT
for side in old new; do
  src=$([ $side = old ] && echo "$work/old" || echo "$here")
  run="$work/$side-run"
  (cd "$src" && "$py" train_world_model.py --dry-run --no-wandb --run-dir "$run" --logging.progress false \
      --controller.dream-epochs 3 --controller.real-epochs 2 --num-episodes 5 --reference > "$work/$side.log" 2>&1 &&
   "$py" evaluate.py --dry-run --no-wandb --run-dir "$run" --num-episodes 5 --controller "$run/controller/dream" \
      --output "$run/eval/dream_results.json" >> "$work/$side.log" 2>&1 &&
   "$py" train_baselines.py --dry-run --no-wandb --run-dir "$run" --frame-budget 2000 --eval-episodes 3 \
      >> "$work/$side.log" 2>&1 &&
   "$py" compare_baselines.py --dry-run --no-wandb --run-dir "$run" --num-episodes 3 --no-video \
      --output-dir "$work/$side-cmp" >> "$work/$side.log" 2>&1) || { tail -20 "$work/$side.log"; exit 1; }
  echo "$side: done ($run)"
done
"$py" "$here/docs/compare_runs.py" "$work/old-run" "$work/new-run" "$work/old-cmp" "$work/new-cmp"

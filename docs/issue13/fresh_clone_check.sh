#!/bin/bash
# Fresh-clone check of issue 13 (CarRacing), tiny sizes: clone, make install, then pipeline, evaluate (video,
# --visualize, no --env-id), the game-mismatch refusal, PPO and SAC, the DDQN refusal, compare, publish and --from-hub.
#   bash docs/issue13/fresh_clone_check.sh > docs/issue13/fresh_clone_check.log 2>&1   # from the repo root
set -x
rm -rf /tmp/fc13 && git clone -q "${REPO:-$(git rev-parse --show-toplevel)}" /tmp/fc13 && cd /tmp/fc13 || exit 1
date; time make install || exit 1
B=.venv/bin/python
R=runs/car_dry
time $B train_world_model.py --dry-run --env-id CarRacing-v3 --run-dir $R; echo "RC pipeline $?"
time $B evaluate.py --dry-run --run-dir $R --record-video --visualize; echo "RC visualize $?"
time $B evaluate.py --dry-run --run-dir $R --record-video --reference; echo "RC evaluate $?"
find $R -name "*.mp4" -o -name "*.png" | sort
$B evaluate.py --dry-run --run-dir $R --env-id ALE/SpaceInvaders-v5; echo "RC mismatch $? (want 2)"
time $B train_baselines.py --dry-run --env-id CarRacing-v3 --run-dir $R --algorithms ppo sac; echo "RC baselines $?"
$B train_baselines.py --dry-run --env-id CarRacing-v3 --run-dir $R --algorithms ddqn; echo "RC ddqn $? (want non-zero)"
time $B compare_baselines.py --dry-run --run-dir $R --agents world-models ppo sac random; echo "RC compare $?"
$B publish_model.py --dry-run --run-dir $R --hf-username me --agent world-models --local-dir hub/wm-car; echo "RC publish wm $?"
$B publish_model.py --dry-run --run-dir $R --hf-username me --agent ppo --local-dir hub/ppo-car; echo "RC publish ppo $?"
ls hub/wm-car hub/ppo-car
$B evaluate.py --dry-run --from-hub hub/wm-car --num-episodes 2; echo "RC fromhub wm $?"
$B evaluate.py --dry-run --from-hub hub/ppo-car --num-episodes 2; echo "RC fromhub ppo $?"
date

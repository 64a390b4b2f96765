#!/usr/bin/env bash
# Issue 11's ablation of the dream: each arm trains data -> VAE -> MDN-RNN -> controller in the dream only
# (no real-game CMA-ES), plays the 30 evaluation games with the dream controller, and writes the dream
# report (evaluate.py --visualize). Arms that differ only in the MDN-RNN reuse the "all" arm's data and VAE;
# fg_weight reuses its data only; no_maxpool, dilate (other frames) and dirichlet (other actions) collect their own.
#
#   bash docs/ablation_dream.sh [SEED] [ARM...]     # default: seed 0, arms all seed_heads no_calibration no_life sign_reward twohot no_maxpool fg_weight
#                                                   # (also: dilate seq128 mdn300 rw10 dirichlet cal8 mdn300_cal8
#                                                   #  dirichlet_mdn300_cal8 dirichlet_select: own data, dream then real-game selection;
#                                                   #  dirichlet01: own data and VAE, Dirichlet(0.1) action preferences, not 0.5;
#                                                   #  dirichlet01_h100: the same, preferences drawn again every 100 steps;
#                                                   #  dirichlet01_h100_cal8: its data and VAE, event offsets fitted on 8 held-out episodes;
#                                                   #  dirichlet_cal8: dirichlet's data and VAE, the same offsets;
#                                                   #  dirichlet_dilate: own data and VAE, Dirichlet actions and dilated frames;
#                                                   #  dirichlet_kl01: own data and VAE, Dirichlet actions and KL weight 0.1;
#                                                   #  dirichlet_vae10: own data and VAE, Dirichlet actions, VAE trained 10 epochs not 5;
#                                                   #  dirichlet_fg10: own data and VAE, Dirichlet actions, VAE foreground weight 10;
#                                                   #  dirichlet_motion20: dirichlet's data, own VAE with motion weight 20;
#                                                   #  dirichlet_z64_motion50: dirichlet's data, own VAE with 64 latent dims,
#                                                   #    motion weight 50, 10 epochs (room for shots and the cannon);
#                                                   #  dirichlet_data5x: own data and VAE, Dirichlet actions, 5x the random episodes
#                                                   #    (480), the VAE 1 epoch (as many steps as 5 on 96 episodes);
#                                                   #  dirichlet_data5x_hit100, dirichlet_data5x_pay10: its data, own VAE with
#                                                   #    --vae.hit_weight 100 / --vae.pay_weight 10 (sessions 31, 32);
#                                                   #  dirichlet_z64_motion50_cal8: its data and VAE, event offsets fitted on 8 held-out episodes;
#                                                   #  dirichlet_fg10_select: dirichlet_fg10's data and VAE, dream then real-game selection;
#                                                   #  dirichlet_fg10_select_hz: the same with event heads that read z_{t+1};
#                                                   #  dirichlet_fg10_select_hz_shift: and the life head trained on the hit, 32 steps
#                                                   #  before the lives counter drops)
#   python docs/ablation_table.py runs/ablation     # the table
#
# The seed-era code's arm ("base") is run from its own checkout:
#   git worktree add /tmp/base edd2abc && (cd /tmp/base && python train_world_model.py --controller.real_epochs 0 \
#       --run-dir $PWD/runs/ablation/base_s0) && python evaluate.py --visualize --run-dir runs/ablation/base_s0 --env.maxpool false
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SEED=${1:-0}
shift || true
ARMS=${*:-all seed_heads no_calibration no_life sign_reward twohot no_maxpool fg_weight}
ROOT=${ROOT:-runs/ablation}
COMMON=(--seed "$SEED" --logging.progress false --no-wandb)

flags_of() {
  case $1 in
    all) ;;
    no_maxpool) echo --env.maxpool false ;;
    seed_heads) echo --mdn_rnn.reward_target sign --mdn_rnn.life_head false --mdn_rnn.calibrate_events false ;;
    no_life) echo --mdn_rnn.life_head false ;;
    no_calibration) echo --mdn_rnn.calibrate_events false ;;
    sign_reward) echo --mdn_rnn.reward_target sign ;;
    fg_weight) echo --vae.foreground_weight 10 ;;
    twohot) echo --mdn_rnn.reward_target twohot ;;
    dilate) echo --env.dilate 3 ;;
    seq128) echo --mdn_rnn.seq_len 128 ;;
    mdn300) echo --mdn_rnn.num_epochs 300 ;;
    rw10) echo --mdn_rnn.reward_weight 10 ;;
    dirichlet) echo --data.action_alpha 0.5 ;;
    dirichlet01) echo --data.action_alpha 0.1 ;;
    dirichlet01_h100) echo --data.action_alpha 0.1 --data.habit_steps 100 ;;
    dirichlet_cal8) echo --data.action_alpha 0.5 --mdn_rnn.calibration_episodes 8 ;;
    dirichlet01_h100_cal8) echo --data.action_alpha 0.1 --data.habit_steps 100 --mdn_rnn.calibration_episodes 8 ;;
    cal8) echo --mdn_rnn.calibration_episodes 8 ;;
    mdn300_cal8) echo --mdn_rnn.num_epochs 300 --mdn_rnn.calibration_episodes 8 ;;
    dirichlet_mdn300_cal8) echo --data.action_alpha 0.5 --mdn_rnn.num_epochs 300 --mdn_rnn.calibration_episodes 8 ;;
    dirichlet_select) echo --data.action_alpha 0.5 --controller.select_candidates 8 --controller.select_games 4 ;;
    dirichlet_dilate) echo --data.action_alpha 0.5 --env.dilate 3 ;;
    dirichlet_kl01) echo --data.action_alpha 0.5 --vae.kl_weight 0.1 ;;
    dirichlet_vae10) echo --data.action_alpha 0.5 --vae.num_epochs 10 ;;
    dirichlet_fg10) echo --data.action_alpha 0.5 --vae.foreground_weight 10 ;;
    dirichlet_motion20) echo --data.action_alpha 0.5 --vae.motion_weight 20 ;;
    dirichlet_z64_motion50) echo --data.action_alpha 0.5 --vae.latent_dim 64 --vae.motion_weight 50 --vae.num_epochs 10 ;;
    dirichlet_data5x) echo --data.action_alpha 0.5 --data.num_rollouts 480 --data.max_in_memory_frames 400000 --vae.num_epochs 1 ;;
    dirichlet_data5x_hit100) echo --data.action_alpha 0.5 --data.num_rollouts 480 --data.max_in_memory_frames 400000 --vae.num_epochs 1 --vae.hit_weight 100 ;;
    dirichlet_data5x_pay10) echo --data.action_alpha 0.5 --data.num_rollouts 480 --data.max_in_memory_frames 400000 --vae.num_epochs 1 --vae.pay_weight 10 ;;
    dirichlet_z64_motion50_cal8) echo --data.action_alpha 0.5 --vae.latent_dim 64 --vae.motion_weight 50 --vae.num_epochs 10 --mdn_rnn.calibration_episodes 8 ;;
    dirichlet_fg10_select) echo --data.action_alpha 0.5 --vae.foreground_weight 10 --controller.select_candidates 8 --controller.select_games 4 ;;
    dirichlet_fg10_select_hz) echo --data.action_alpha 0.5 --vae.foreground_weight 10 --controller.select_candidates 8 --controller.select_games 4 --mdn_rnn.events_see_z true ;;
    dirichlet_fg10_select_hz_shift) echo --data.action_alpha 0.5 --vae.foreground_weight 10 --controller.select_candidates 8 --controller.select_games 4 --mdn_rnn.events_see_z true --mdn_rnn.life_shift 32 ;;
    *) echo "unknown arm $1" >&2; exit 2 ;;
  esac
}

# arms that collect their own data (the others copy their base arm's data, and its VAE unless fg_weight or dirichlet_motion*)
OWN_DATA=" all no_maxpool dilate dirichlet dirichlet_data5x dirichlet01 dirichlet01_h100 dirichlet_select dirichlet_dilate dirichlet_kl01 dirichlet_vae10 dirichlet_fg10 "

for arm in $ARMS; do
  run=$ROOT/${arm}_s$SEED
  flags=$(flags_of "$arm")
  base=all
  [[ $arm == dirichlet_* ]] && base=dirichlet  # dirichlet_<...>: the dirichlet arm's data and VAE if it exists
  [[ $arm == dirichlet_fg10_* ]] && base=dirichlet_fg10  # dirichlet_fg10_<...>: the dirichlet_fg10 arm's data and VAE
  [[ $arm == dirichlet01_h100_* ]] && base=dirichlet01_h100
  [[ $arm == dirichlet_z64_motion50_* ]] && base=dirichlet_z64_motion50
  [[ $arm == dirichlet_data5x_* ]] && base=dirichlet_data5x
  src=$ROOT/${base}_s$SEED
  if [[ $OWN_DATA != *" $arm "* && ! -d $run/data ]]; then  # the same frames as "$base" (and its VAE unless fg_weight, motion, z64)
    [[ -f $src/vae/metrics.json ]] || { echo "run the '$base' arm first (its data and VAE are shared)" >&2; exit 1; }
    mkdir -p "$run"
    cp -r "$src/data" "$run/"
    [[ $arm == fg_weight || $arm == dirichlet_motion* || $arm == dirichlet_z64_motion50 || $arm == *_hit* || $arm == *_pay* ]] || cp -r "$src/vae" "$run/"
  fi
  echo "=== arm $arm seed $SEED: $flags"
  /usr/bin/time -f "$arm wall %e s" $PY train_world_model.py "${COMMON[@]}" --controller.real_epochs 0 --run-dir "$run" $flags
  # evaluate.py reads the env section (the other settings are in the trained models themselves)
  $PY evaluate.py --visualize "${COMMON[@]}" --run-dir "$run" $(echo "$flags" | grep -o -- '--env\.[a-z_]* [a-z0-9.]*' || true)
done

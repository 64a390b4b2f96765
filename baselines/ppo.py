"""PPO (Schulman et al., 2017): stable-baselines3's PPO with the CNN policy on vectorised Atari envs.

Settings are rl-baselines3-zoo's for Atari (8 envs, 128 steps, 4 epochs, minibatch 256, learning
rate 2.5e-4 and clip range 0.1 both decayed linearly, entropy 0.01); the budget is ours. On a continuous
game (CarRacing-v3) the policy is rl-zoo's for CarRacing (gSDE resampled every 4 steps, log std -2, GELU,
one 256 layer per head; the ``carracing`` preset also sets its sizes: 512 steps, 10 epochs, minibatch 128,
learning rate 1e-4, clip 0.2, no entropy bonus).

    python -m baselines.ppo --mode train --total-timesteps 100000   # then scores the best checkpoint
    python -m baselines.ppo --mode eval --eval-episodes 30
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # `python baselines/ppo.py` as well as `python -m baselines.ppo`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import utils.omp  # noqa: F401  (before torch)

import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import VecEnv

from baselines.cli import algo_main
from config import Config

MODEL_CLASS = CONTINUOUS_MODEL_CLASS = PPO
# rl-zoo's CarRacing policy for continuous actions (a checkpoint stores these pickled: loading rebuilds them).
CONTINUOUS_POLICY_KWARGS = {"log_std_init": -2.0, "ortho_init": False, "activation_fn": th.nn.GELU,
                            "net_arch": {"pi": [256], "vf": [256]}}


def make_model(cfg: Config, env: VecEnv, device: th.device) -> PPO:
    c = cfg.ppo
    box = isinstance(env.action_space, spaces.Box)
    return PPO(
        "CnnPolicy", env, learning_rate=LinearSchedule(c.learning_rate, 0.0, 1.0), n_steps=c.n_steps,
        batch_size=c.batch_size, n_epochs=c.n_epochs, gamma=c.gamma, gae_lambda=c.gae_lambda,
        clip_range=LinearSchedule(c.clip_range, 0.0, 1.0), ent_coef=c.ent_coef, vf_coef=c.vf_coef,
        use_sde=box, sde_sample_freq=4 if box else -1, policy_kwargs=dict(CONTINUOUS_POLICY_KWARGS) if box else None,
        seed=cfg.seed, device=device, verbose=0,
    )


if __name__ == "__main__":
    sys.exit(algo_main("ppo", __doc__.splitlines()[0]))

"""Atari preprocessing shared by the model-free baselines (DDQN, PPO, SAC).

SB3's standard Atari stack (no-op starts, frame skip 4 with max-pool, 84x84 grey, 4 stacked frames;
reward clipping and life-loss terminals for training only) over the same game settings as the World
Models agent: ``ALE/<Game>-v5`` with sticky actions 0.25. v5 skips 4 frames itself, so the env is
made with ``frameskip=1`` and SB3's AtariWrapper does the skipping (otherwise frames skip twice).
"""

from __future__ import annotations

from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.vec_env import VecEnv, VecFrameStack

from config import EnvConfig
from utils.wrappers import register_ale, rom_name


def make_baseline_env(env_cfg: EnvConfig, n_envs: int, seed: int, training: bool) -> VecEnv:
    """``n_envs`` preprocessed copies of the game; ``training=False`` gives raw-score full games."""
    rom_name(env_cfg.env_id)  # clear error for a bad id
    register_ale()
    env = make_atari_env(
        env_cfg.env_id,
        n_envs=n_envs,
        seed=seed,
        env_kwargs={"frameskip": 1, "repeat_action_probability": env_cfg.repeat_action_probability,
                    "max_num_frames_per_episode": env_cfg.max_episode_frames},
        wrapper_kwargs={"frame_skip": env_cfg.frameskip, "terminal_on_life_loss": training, "clip_reward": training},
    )
    return VecFrameStack(env, n_stack=4)

"""The baselines' games: SB3's standard Atari preprocessing over the World Models agent's game settings,
or rl-baselines3-zoo's CarRacing preprocessing.

Atari: SB3's Atari stack (no-op starts, frame skip 4 with max-pool, 84x84 grey, 4 stacked frames; reward
clipping and life-loss terminals for training only) over ``ALE/<Game>-v5`` with sticky actions 0.25. v5
skips 4 frames itself, so the env is made with ``frameskip=1`` and SB3's AtariWrapper does the skipping
(otherwise frames would be skipped twice).

CarRacing-v3 (continuous steer/gas/brake): rl-baselines3-zoo's wrappers for it (64x64 grey, 2 stacked
frames) over the World Models agent's game settings (``env.frameskip`` actions held, the 1,000-step limit);
the raw reward in training and evaluation (the zoo also normalizes rewards in training: not done here).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from stable_baselines3.common.atari_wrappers import AtariWrapper
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_atari_env, make_vec_env
from stable_baselines3.common.vec_env import VecEnv, VecFrameStack

from config import EnvConfig
from utils.wrappers import CAR_RACING, ActionRepeat, check_game, register_ale, rom_name

# What the SB3 agents see, added to config.EnvConfig.protocol() in their results.
SB3_PREPROCESSING = "SB3 Atari preprocessing (no-op starts, max-pool, 84x84 grey, 4 stacked frames)"
CAR_RACING_PREPROCESSING = "rl-baselines3-zoo CarRacing preprocessing (64x64 grey, 2 stacked frames, raw reward)"
N_STACK = 4
CAR_RACING_STACK, CAR_RACING_SIZE = 2, 64


def preprocessing(env_cfg: EnvConfig) -> str:
    """What the baselines see of the game, for their results' protocol."""
    return SB3_PREPROCESSING if env_cfg.atari else CAR_RACING_PREPROCESSING


def frame_stack(env_cfg: EnvConfig) -> int:
    """Frames stacked into one observation (4 for Atari as SB3; 2 for CarRacing as rl-zoo)."""
    return N_STACK if env_cfg.atari else CAR_RACING_STACK


def make_car_racing(env_cfg: EnvConfig, render_mode: str | None = None) -> gym.Env:
    """One CarRacing-v3 game as the baselines see it: (64, 64, 1) grey frames, ``env.frameskip`` held actions."""
    check_game(env_cfg.env_id)  # box2d installed
    env = gym.make(CAR_RACING, continuous=True, render_mode=render_mode, max_episode_steps=env_cfg.max_episode_frames)
    if env_cfg.frameskip > 1:
        env = ActionRepeat(env, env_cfg.frameskip)
    env = gym.wrappers.ResizeObservation(env, (CAR_RACING_SIZE, CAR_RACING_SIZE))
    return gym.wrappers.GrayscaleObservation(env, keep_dim=True)


def make_baseline_env(env_cfg: EnvConfig, n_envs: int, seed: int, training: bool) -> VecEnv:
    """``n_envs`` preprocessed copies of the game; ``training=False`` gives raw-score full games."""
    if not env_cfg.atari:
        env = make_vec_env(lambda: make_car_racing(env_cfg), n_envs=n_envs, seed=seed)
        return VecFrameStack(env, n_stack=CAR_RACING_STACK)
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
    return VecFrameStack(env, n_stack=N_STACK)


def make_eval_game(env_cfg: EnvConfig, render_mode: str | None = None) -> gym.Env:
    """One evaluation game: the wrappers of :func:`make_baseline_env` with ``training=False``
    (full game, raw score), without the vectorisation, so each game can be reset with its own seed."""
    if not env_cfg.atari:
        return make_car_racing(env_cfg, render_mode)
    rom_name(env_cfg.env_id)
    register_ale()
    env = gym.make(env_cfg.env_id, frameskip=1, repeat_action_probability=env_cfg.repeat_action_probability,
                   max_num_frames_per_episode=env_cfg.max_episode_frames, render_mode=render_mode)
    return AtariWrapper(env, frame_skip=env_cfg.frameskip, terminal_on_life_loss=False, clip_reward=False)


class SB3Policy:
    """Adapts an SB3 model to the episode runners' Policy protocol, stacking frames as VecFrameStack
    does (zeros at the start of a game, newest frame last)."""

    def __init__(self, model: BaseAlgorithm, deterministic: bool, n_stack: int = N_STACK):
        self.model, self.deterministic, self.n_stack = model, deterministic, n_stack

    def reset(self, num_envs: int) -> None:
        self.stacks: np.ndarray | None = None
        self.fresh = np.ones(num_envs, dtype=bool)

    def start(self, envs: np.ndarray, jobs: np.ndarray) -> None:
        self.fresh[envs] = True

    def act(self, frames: np.ndarray, envs: np.ndarray | None = None) -> np.ndarray:
        """(N, 84, 84, 1) frames -> (N,) actions (CarRacing: (N, 64, 64, 1) -> (N, 3) action vectors)."""
        if self.stacks is None:
            self.stacks = np.zeros((*frames.shape[:-1], self.n_stack * frames.shape[-1]), dtype=np.uint8)
        self.stacks[self.fresh] = 0
        self.fresh[:] = False
        self.stacks = np.roll(self.stacks, -frames.shape[-1], axis=-1)
        self.stacks[..., -frames.shape[-1]:] = frames
        actions, _ = self.model.predict(self.stacks, deterministic=self.deterministic)
        return actions

"""Environments and the one preprocessing definition shared by collection, dreams and evaluation.

Preprocessing: with ``env.maxpool`` (the default) the pixel-wise max of the last two raw emulator frames
of each agent step (Space Invaders draws shots and bombs on alternate frames: the last frame alone
loses them), then resized to ``frame_size`` x ``frame_size`` x 3 with area interpolation, kept as
uint8 RGB; ``env.dilate`` first grows every pixel to a square so thin sprites survive the resize. ``ale_py``'s C++ vector env does exactly this when built by :func:`make_vector_env`
(``grayscale=False, stack_num=1, maxpool=True``); the single env path (:func:`make_single_env`, used
for video) steps the emulator one frame at a time and applies :class:`MaxPoolSkip` and
:func:`preprocess_frame` in Python. A test checks that both give identical frames for the same seed
and actions.

Game settings follow ``ALE/<Game>-v5``: 4-frame skip, sticky actions 0.25, full game (no life-loss
terminals), no reward clipping, no no-op or FIRE resets.

``CarRacing-v3`` (gymnasium's box2d game, continuous steer/gas/brake, the paper's own benchmark) goes
through the same two entry points: :func:`make_single_env` (one env, the 96x96 frame resized) and
:func:`make_vector_env` (:class:`GymVector`: gymnasium's ``AsyncVectorEnv``, one worker process per env,
behind the slice of ale_py's vector API the runner uses). :func:`action_space` says which kind a game has.
"""

from __future__ import annotations

import functools
import re

import cv2
import gymnasium as gym
import numpy as np

from config import EnvConfig
from utils.io import UserError

_registered = False


def register_ale() -> None:
    global _registered
    if not _registered:
        import ale_py

        gym.register_envs(ale_py)
        # No "A.L.E: Arcade Learning Environment" banner on stderr for every new emulator: an error stays one line.
        ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Warning)
        _registered = True


def rom_name(env_id: str) -> str:
    """``ALE/SpaceInvaders-v5`` -> ``space_invaders`` (the ROM name ale_py's vector env wants)."""
    m = re.fullmatch(r"ALE/([A-Za-z0-9]+)-v5", env_id)
    if not m:
        raise UserError(f"unsupported --env.env_id {env_id!r}: expected ALE/<Game>-v5, e.g. ALE/SpaceInvaders-v5")
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", m.group(1)).lower()
    import difflib
    import warnings

    from ale_py import roms

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = roms.get_rom_path(name)
    if path is None:
        close = difflib.get_close_matches(name, roms.get_all_rom_ids(), n=1)
        hint = f"did you mean ALE/{close[0].title().replace('_', '')}-v5?" if close else "e.g. ALE/SpaceInvaders-v5"
        raise UserError(f"unknown ALE game in --env.env_id {env_id!r}: no ROM shipped with ale_py matches; {hint}")
    return name


def check_game(env_id: str) -> None:
    """A game this project can play, with a one-line error otherwise (an ALE id needs its ROM, CarRacing box2d)."""
    if env_id.startswith("ALE/"):
        rom_name(env_id)
        return
    if env_id != CAR_RACING:
        raise UserError(f"unsupported --env.env_id {env_id!r}: expected ALE/<Game>-v5 (e.g. ALE/SpaceInvaders-v5) "
                        f"or {CAR_RACING}")
    try:
        import Box2D  # noqa: F401
    except ImportError:
        raise UserError(f"{CAR_RACING} needs box2d and pygame: pip install box2d==2.3.10 pygame==2.6.1 "
                        "(make install does)") from None


CAR_RACING = "CarRacing-v3"


def preprocess_frame(frame: np.ndarray, size: int, dilate: int = 0) -> np.ndarray:
    """(210, 160, 3) uint8 RGB -> (size, size, 3) uint8 RGB, area interpolation (after a ``dilate`` x
    ``dilate`` max filter when ``dilate`` > 1)."""
    if dilate > 1:
        frame = cv2.dilate(frame, np.ones((dilate, dilate), np.uint8))
    return cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)


class PreprocessFrame(gym.ObservationWrapper):
    """Applies :func:`preprocess_frame` to every observation of a single ALE env."""

    def __init__(self, env: gym.Env, size: int, dilate: int = 0):
        super().__init__(env)
        self.size, self.dilate = size, dilate
        self.observation_space = gym.spaces.Box(0, 255, (size, size, 3), np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return preprocess_frame(observation, self.size, self.dilate)


class PreprocessVector:
    """ale_py's vector env emitting raw (N, 1, 210, 160, 3) frames, preprocessed here frame by frame with
    :func:`preprocess_frame` (the C++ resize has no max filter). Everything else passes through."""

    def __init__(self, venv, size: int, dilate: int):
        self.venv, self.size, self.dilate = venv, size, dilate

    def _obs(self, obs: np.ndarray) -> np.ndarray:
        out = np.empty((obs.shape[0], 1, self.size, self.size, 3), np.uint8)
        for i in range(obs.shape[0]):
            out[i, 0] = preprocess_frame(obs[i, 0], self.size, self.dilate)
        return out

    def reset(self, **kwargs):
        obs, info = self.venv.reset(**kwargs)
        return self._obs(obs), info

    def step(self, actions):
        obs, *rest = self.venv.step(actions)
        return (self._obs(obs), *rest)

    def recv(self):
        obs, *rest = self.venv.recv()
        return (self._obs(obs), *rest)

    def __getattr__(self, name):
        return getattr(self.venv, name)


class MaxPoolSkip(gym.Wrapper):
    """``skip`` emulator frames per step on an env made with ``frameskip=1``; the observation is the
    pixel-wise max of the last two raw frames (or the last one if the game ended on the first frame).
    Sticky actions stay the emulator's own (ALE draws them per frame either way)."""

    def __init__(self, env: gym.Env, skip: int):
        super().__init__(env)
        self.skip = skip

    def step(self, action: int):
        total, last, prev = 0.0, None, None
        for _ in range(self.skip):
            prev = last
            last, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            if terminated or truncated:
                break
        obs = last if prev is None else np.maximum(prev, last)
        return obs, total, terminated, truncated, info


class ActionRepeat(gym.Wrapper):
    """Each action held for ``repeat`` env steps, rewards summed (CarRacing with ``env.frameskip`` > 1)."""

    def __init__(self, env: gym.Env, repeat: int):
        super().__init__(env)
        self.repeat = repeat

    def step(self, action):
        total = 0.0
        for _ in range(self.repeat):
            obs, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            if terminated or truncated:
                break
        return obs, total, terminated, truncated, info


def make_single_env(cfg: EnvConfig, render_mode: str | None = None) -> gym.Env:
    """A single env of the game emitting preprocessed 64x64x3 frames (``ALE/<Game>-v5`` or CarRacing-v3)."""
    check_game(cfg.env_id)  # validates the id with a clear message
    if not cfg.atari:
        env = gym.make(CAR_RACING, continuous=True, render_mode=render_mode, max_episode_steps=cfg.max_episode_frames)
        if cfg.frameskip > 1:
            env = ActionRepeat(env, cfg.frameskip)
        return PreprocessFrame(env, cfg.frame_size, cfg.dilate)
    register_ale()
    env = gym.make(
        cfg.env_id,
        frameskip=1 if cfg.maxpool else cfg.frameskip,
        repeat_action_probability=cfg.repeat_action_probability,
        max_num_frames_per_episode=cfg.max_episode_frames,
        render_mode=render_mode,
    )
    if cfg.maxpool:
        env = MaxPoolSkip(env, cfg.frameskip)
    return PreprocessFrame(env, cfg.frame_size, cfg.dilate)


class GymVector:
    """``num_envs`` single envs of a non-ALE game (CarRacing-v3) in gymnasium's ``AsyncVectorEnv`` (one worker
    process each, no autoreset), behind the slice of ale_py's vector API the runner uses: ``reset(seed,
    options={"reset_mask": m})`` resets only the masked envs, the i-th with ``seed[i]``; ``send``/``recv``
    step all of them (an idle env is stepped with a zero action: counted by the runner as idle work);
    observations (N, 1, size, size, 3) uint8, ``info["lives"]`` zeros (the game has no lives)."""

    def __init__(self, cfg: EnvConfig, num_envs: int):
        check_game(cfg.env_id)
        self.venv = gym.vector.AsyncVectorEnv([functools.partial(make_single_env, cfg)] * num_envs,
                                              autoreset_mode=gym.vector.AutoresetMode.DISABLED)
        self.num_envs = num_envs
        self.single_action_space = self.venv.single_action_space
        self.obs = np.zeros((num_envs, 1, cfg.frame_size, cfg.frame_size, 3), np.uint8)
        self.lives = np.zeros(num_envs, dtype=np.int64)

    def reset(self, seed=None, options: dict | None = None):
        mask = np.ones(self.num_envs, dtype=bool) if not options or "reset_mask" not in options else options["reset_mask"]
        seeds: list[int | None] = [None] * self.num_envs
        for e, s in zip(np.flatnonzero(mask), np.asarray(seed).reshape(-1), strict=True):
            seeds[int(e)] = int(s)
        obs, _ = self.venv.reset(seed=seeds, options={"reset_mask": np.asarray(mask, dtype=bool)})
        self.obs[mask, 0] = obs[mask]
        return self.obs.copy(), {"lives": self.lives.copy()}

    def send(self, actions: np.ndarray) -> None:
        self.venv.step_async(np.asarray(actions, dtype=np.float32))

    def recv(self):
        obs, rew, term, trunc, _ = self.venv.step_wait()
        self.obs[:, 0] = obs
        return self.obs.copy(), np.asarray(rew, dtype=np.float64), np.asarray(term), np.asarray(trunc), {"lives": self.lives.copy()}

    def step(self, actions: np.ndarray):
        self.send(actions)
        return self.recv()

    def close(self) -> None:
        self.venv.close()


def make_vector_env(cfg: EnvConfig, num_envs: int):
    """ale_py's threaded C++ vector env with the same game settings and preprocessing (a non-ALE game:
    :class:`GymVector`).

    Observations come as (num_envs, 1, size, size, 3) uint8; use :func:`squeeze_obs`.
    """
    if not cfg.atari:
        return GymVector(cfg, num_envs)
    from ale_py.vector_env import AtariVectorEnv

    raw = cfg.dilate > 1  # the max filter needs the full frame: resize here, not in C++
    venv = AtariVectorEnv(
        rom_name(cfg.env_id),
        num_envs,
        num_threads=min(cfg.num_threads, num_envs) if cfg.num_threads else 0,
        max_num_frames_per_episode=cfg.max_episode_frames,
        repeat_action_probability=cfg.repeat_action_probability,
        img_height=210 if raw else cfg.frame_size,
        img_width=160 if raw else cfg.frame_size,
        grayscale=False,
        stack_num=1,
        frameskip=cfg.frameskip,
        maxpool=cfg.maxpool,
        noop_max=0,
        episodic_life=False,
        reward_clipping=False,
        use_fire_reset=False,
        autoreset_mode="NextStep",
    )
    return PreprocessVector(venv, cfg.frame_size, cfg.dilate) if raw else venv


def squeeze_obs(obs: np.ndarray) -> np.ndarray:
    """(N, 1, H, W, 3) -> (N, H, W, 3) without copying."""
    return obs[:, 0]


CAR_RACING_BOX = ([-1.0, 0.0, 0.0], [1.0, 1.0, 1.0])  # steer, gas, brake
CAR_RACING_ACTIONS = ("steer", "gas", "brake")
CAR_RACING_CLIP = [False, False, True]  # the paper's controller: brake = clip(tanh, 0, 1) (models.controller.to_actions)
# The constant-action references of a continuous game (Atari: every action of its set).
CONSTANT_ACTIONS = {"CarRacing-v3": {"gas": [0.0, 1.0, 0.0], "half gas": [0.0, 0.5, 0.0]}}


def action_space(cfg: EnvConfig) -> tuple[list[float], list[float]] | None:
    """None for a discrete action set (ALE), else the action box (low, high) (CarRacing-v3)."""
    return None if cfg.atari else CAR_RACING_BOX


def action_clip(cfg: EnvConfig) -> list[bool] | None:
    """Components of the action box that a controller's tanh is clipped into, not stretched onto (CarRacing's
    brake, as the paper); None for a discrete action set."""
    return None if cfg.atari else CAR_RACING_CLIP


def num_actions(cfg: EnvConfig) -> int:
    """Size of the game's minimal action set (6 for Space Invaders), or of its action vector (CarRacing: 3)."""
    return len(action_meanings(cfg))


def action_meanings(cfg: EnvConfig) -> list[str]:
    """The game's minimal action set by name (``NOOP``, ``FIRE``, ...), or its action vector's components."""
    if not cfg.atari:
        check_game(cfg.env_id)
        return list(CAR_RACING_ACTIONS)
    return list(_action_meanings(cfg.env_id))


@functools.cache
def _action_meanings(env_id: str) -> tuple[str, ...]:
    """Per game, once: making an env loads its ROM (0.1 s)."""
    rom_name(env_id)  # a clear error for a bad id, not gymnasium's traceback
    register_ale()
    env = gym.make(env_id)
    names = tuple(env.unwrapped.get_action_meanings())
    env.close()
    return names

"""Seeded full games for every kind of agent, and the one summary of their scores.

Every agent plays through :func:`utils.runner.run_episodes`: the World Models agent and the reference
policies (uniform random, constant actions) on ale_py's vector env with 64x64 RGB frames, the SB3
agents on single envs with their own Atari preprocessing (``make_env``). Game i of an evaluation is
reset with ``eval.seed + i`` (:meth:`config.EvalConfig.seeds`), whatever the agent.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from config import EnvConfig
from utils.common import action_share
from utils.io import UserError
from utils.runner import EpisodeStats, Policy, run_episodes
from utils.wrappers import CONSTANT_ACTIONS, action_meanings, action_space


class RandomPolicy:
    """Uniform random actions (the usual 'random agent' reference); with ``box`` = (low, high), uniform in
    the box (a continuous game)."""

    def __init__(self, n_actions: int, seed: int, box: tuple[list[float], list[float]] | None = None):
        self.n, self.rng, self.box = n_actions, np.random.default_rng(seed), box

    def reset(self, num_envs: int) -> None:
        pass

    def start(self, envs: np.ndarray, jobs: np.ndarray) -> None:
        pass

    def act(self, frames: np.ndarray, envs: np.ndarray | None = None) -> np.ndarray:
        if self.box is not None:
            return self.rng.uniform(self.box[0], self.box[1], size=(len(frames), self.n)).astype(np.float32)
        return self.rng.integers(self.n, size=len(frames))


class ConstantPolicy:
    """The same action every step (always-FIRE is Space Invaders' telling reference: 285 on every seed)."""

    def __init__(self, action: int | np.ndarray):
        self.action = action  # an index, or an action vector (continuous game)

    def reset(self, num_envs: int) -> None:
        pass

    def start(self, envs: np.ndarray, jobs: np.ndarray) -> None:
        pass

    active_only = True

    def act(self, frames: np.ndarray, envs: np.ndarray | None = None) -> np.ndarray:
        if np.ndim(self.action):
            return np.tile(np.asarray(self.action, dtype=np.float32), (len(frames), 1))
        return np.full(len(frames), self.action, dtype=np.int64)


def summarize(stats: EpisodeStats, seeds: list[int], action_names: list[str]) -> dict[str, Any]:
    """Scores (mean, std, median, min, max), lengths, every game by seed and the actions' shares (a continuous
    game: the mean action vector, ``action_mean``)."""
    if stats.action_counts.dtype.kind == "f":  # continuous: the summed action vectors
        mean = stats.action_counts / max(1, int(stats.lengths.sum()))
        actions: dict[str, Any] = {"action_mean": {n: round(float(v), 4) for n, v in zip(action_names, mean, strict=True)}}
    else:
        share = action_share(stats.action_counts)
        actions = {"action_share": {n: round(float(s), 4) for n, s in zip(action_names, share, strict=True)},
                   "top_action_share": float(share.max())}
    return {
        "mean": float(np.mean(stats.returns)), "std": float(np.std(stats.returns)),
        "median": float(np.median(stats.returns)), "min": float(np.min(stats.returns)),
        "max": float(np.max(stats.returns)), "num_episodes": len(stats.returns), "mean_length": float(np.mean(stats.lengths)),
        "episodes": [{"seed": int(s), "score": float(r), "length": int(n)}
                     for s, r, n in zip(seeds, stats.returns, stats.lengths, strict=True)],
        **actions,
        **stats.log_fields(),
    }


def describe_actions(result: dict[str, Any]) -> str:
    """``top action FIRE 63%`` (discrete), or ``mean action steer -0.02 gas 0.51 brake 0.10`` (continuous)."""
    if "action_mean" in result:
        return "mean action " + " ".join(f"{n} {v:.2f}" for n, v in result["action_mean"].items())
    top = max(result["action_share"], key=result["action_share"].get)
    return f"top action {top} {result['action_share'][top]:.0%}"


def evaluate_policy(env_cfg: EnvConfig, policy: Policy, seeds: list[int], make_env: Callable[[], gym.Env] | None = None,
                    num_envs: int | None = None) -> dict[str, Any]:
    """One full game per seed (see :func:`summarize`); ``make_env`` for preprocessing other than the vector env's."""
    stats = run_episodes(env_cfg, policy, seeds, num_envs=num_envs, make_env=make_env)
    return summarize(stats, seeds, action_meanings(env_cfg))


def evaluate_on(engine: Any, spec: Any, env_cfg: EnvConfig, seeds: list[int]) -> dict[str, Any]:
    """:func:`evaluate_policy` on a rollout engine (:mod:`utils.rollout`): ``spec`` builds the policy."""
    return summarize(engine.play(spec, seeds), seeds, action_meanings(env_cfg))


def reference_policies(env_cfg: EnvConfig, seeds: list[int], rng_seed: int, num_envs: int | None = None) -> dict[str, Any]:
    """A uniform random policy and every constant action, on the same seeds (a continuous game: uniform in
    its box, and the constant actions of :data:`utils.wrappers.CONSTANT_ACTIONS`, e.g. CarRacing's full gas),
    ``num_envs`` games at once (default: all)."""
    names = action_meanings(env_cfg)
    box = action_space(env_cfg)
    if box is None:
        constants: dict[str, Any] = {name: a for a, name in enumerate(names)}
    else:
        constants = {name: np.asarray(a, np.float32) for name, a in CONSTANT_ACTIONS[env_cfg.env_id].items()}
    out: dict[str, Any] = {"random": evaluate_policy(env_cfg, RandomPolicy(len(names), rng_seed, box), seeds, num_envs=num_envs),
                           "constant": {}}
    for name, a in constants.items():
        out["constant"][name] = evaluate_policy(env_cfg, ConstantPolicy(a), seeds, num_envs=num_envs)
    best = max(out["constant"], key=lambda k: out["constant"][k]["mean"])
    out["best_constant"] = {"action": best, **{k: out["constant"][best][k] for k in ("mean", "std", "min", "max")}}
    return out


def record_video(env_cfg: EnvConfig, policy: Policy, seed: int, video_dir: Path, name_prefix: str,
                 make_env: Callable[[str], gym.Env] | None = None) -> tuple[Path, float, int]:
    """Play one seeded game in a single env (``make_env(render_mode)``, default the World Models
    agent's), recorded by gymnasium's RecordVideo at full resolution, one video frame per agent step."""
    from gymnasium.wrappers import RecordVideo

    from utils.wrappers import make_single_env

    video_dir.mkdir(parents=True, exist_ok=True)
    base = make_env("rgb_array") if make_env else make_single_env(env_cfg, render_mode="rgb_array")
    with warnings.catch_warnings():  # an existing folder is fine: the file of this name is replaced
        warnings.filterwarnings("ignore", message=".*Overwriting existing videos.*")
        env = RecordVideo(base, str(video_dir), name_prefix=name_prefix,
                          episode_trigger=lambda i: i == 0, disable_logger=True)
    obs, _ = env.reset(seed=seed)
    policy.reset(1)
    policy.start(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))
    total, length, done = 0.0, 0, False
    while not done:
        action = policy.act(obs[None])[0]  # an index, or an action vector (continuous game)
        action = int(action) if np.ndim(action) == 0 else np.asarray(action, dtype=np.float32)
        obs, r, term, trunc, _ = env.step(action)
        total += float(r)
        length += 1
        done = term or trunc
    env.close()
    videos = sorted(video_dir.glob(f"{name_prefix}*.mp4"))
    if not videos:
        raise UserError(f"video recording produced no file in {video_dir}")
    return videos[-1], total, length

"""Play a queue of seeded episodes on ale_py's vector env, refilling emulators as episodes end.

A generation of CMA-ES, an evaluation and a data collection are all "play these K seeded episodes".
Stepping K emulators in lockstep until the longest episode ends wastes most of the work (episode
lengths vary several-fold), so episodes are jobs: ``num_envs`` emulators take the next job as
soon as theirs ends (a masked reset with the job's seed). Policies see which job each emulator plays
through :meth:`Policy.start`, so per-job state (an LSTM state, a candidate's weights, an RNG) is reset
exactly when a new episode begins.

The same loop plays any other preprocessing (the SB3 agents' Atari wrappers): ``make_env`` gives single
gymnasium envs, which :class:`GameBatch` steps as one batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from config import EnvConfig
from utils.io import UserError
from utils.wrappers import make_vector_env, squeeze_obs


class Policy(Protocol):
    def reset(self, num_envs: int) -> None:
        """Called once with the number of emulators."""

    def start(self, envs: np.ndarray, jobs: np.ndarray) -> None:
        """Emulators ``envs`` begin the episodes ``jobs`` (indices into the job list)."""

    def act(self, frames: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 frames of every emulator -> (N,) int actions."""


class Recorder(Protocol):
    """Sees every frame of every job; ``lives`` is the game's life counter (ALE's ``lives()``) at that frame."""

    def begin(self, job: int, frame: np.ndarray, lives: int) -> None: ...
    def step(self, job: int, action: int, reward: float, terminated: bool, frame: np.ndarray, lives: int) -> None: ...
    def end(self, job: int) -> None: ...


@dataclass
class EpisodeStats:
    returns: np.ndarray  # (K,) summed raw reward per job
    lengths: np.ndarray  # (K,) agent steps per job
    terminated: np.ndarray  # (K,) True if the game ended (not cut by a step cap or truncation)
    env_steps: int  # emulator steps run, including idle emulators at the end
    action_counts: np.ndarray  # (A,) actions taken in the episodes (idle emulators' steps not counted)


class GameBatch:
    """Single gymnasium envs (any wrappers) behind the slice of the vector env's API that
    :func:`run_episodes` uses. A game that ended is not stepped again until it is reset: an idle env
    keeps its last frame, as ale_py's envs keep theirs (their extra steps are never counted)."""

    def __init__(self, envs: list[gym.Env]):
        self.envs = envs
        self.single_action_space = envs[0].action_space
        self.obs: list[Any] = [None] * len(envs)
        self.lives = np.zeros(len(envs), dtype=np.int64)
        self.over = np.zeros(len(envs), dtype=bool)

    def reset(self, seed: np.ndarray, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Reset the envs in ``options["reset_mask"]`` (default: all), the i-th of them with ``seed[i]``."""
        mask = np.ones(len(self.envs), dtype=bool) if options is None else options["reset_mask"]
        for e, s in zip(np.flatnonzero(mask), seed, strict=True):
            self.obs[e], info = self.envs[e].reset(seed=int(s))
            self.lives[e] = info.get("lives", 0)
            self.over[e] = False
        return np.stack(self.obs)[:, None], {"lives": self.lives.copy()}  # (N, 1, ...) as the vector env's observations

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        rew, term, trunc = np.zeros(len(self.envs)), np.zeros(len(self.envs), bool), np.zeros(len(self.envs), bool)
        for e in np.flatnonzero(~self.over):
            self.obs[e], rew[e], term[e], trunc[e], info = self.envs[e].step(int(actions[e]))
            self.lives[e] = info.get("lives", 0)
        self.over |= term | trunc
        return np.stack(self.obs)[:, None], rew, term, trunc, {"lives": self.lives.copy()}

    def close(self) -> None:
        for env in self.envs:
            env.close()


def run_episodes(env_cfg: EnvConfig, policy: Policy, seeds: list[int] | np.ndarray, num_envs: int | None = None,
                 max_steps: int | None = None, recorder: Recorder | None = None,
                 make_env: Callable[[], gym.Env] | None = None) -> EpisodeStats:
    """Play one episode per seed (job k uses ``seeds[k]``), ``num_envs`` at a time (default: all), on
    ale_py's vector env, or on ``make_env()``'s single envs when given."""
    seeds = np.asarray(seeds, dtype=np.int64)
    K = len(seeds)
    n = min(num_envs or K, K)
    returns, lengths = np.zeros(K), np.zeros(K, dtype=np.int64)
    terminated = np.zeros(K, dtype=bool)
    job = np.arange(n)  # job of each emulator, -1 when idle
    next_job = n
    venv = make_vector_env(env_cfg, n) if make_env is None else GameBatch([make_env() for _ in range(n)])
    counts = np.zeros(int(venv.single_action_space.n), dtype=np.int64)
    try:
        obs, info = venv.reset(seed=seeds[:n])
        obs = squeeze_obs(obs)
        lives = np.asarray(info.get("lives", np.zeros(n)), dtype=np.int64).copy()
        policy.reset(n)
        policy.start(np.arange(n), job.copy())
        if recorder:
            for i in range(n):
                recorder.begin(i, obs[i], int(lives[i]))
        steps = 0
        while (job >= 0).any():
            actions = np.asarray(policy.act(obs), dtype=np.int64)
            if actions.size and (actions.min() < 0 or actions.max() >= len(counts)):  # ale_py would hang, not fail
                raise UserError(f"the agent chose action {int(actions.max())} but {env_cfg.env_id} has {len(counts)} "
                                "actions: it was trained for another game; check --env.env_id")
            obs, rew, term, trunc, info = venv.step(actions)
            obs = squeeze_obs(obs)
            lives = np.asarray(info.get("lives", lives), dtype=np.int64).copy()
            steps += 1
            active = np.flatnonzero(job >= 0)
            counts += np.bincount(actions[active], minlength=len(counts))
            j = job[active]
            returns[j] += rew[active]
            lengths[j] += 1
            terminated[j] = term[active]
            ended = term[active] | trunc[active]
            if max_steps is not None:
                ended |= lengths[j] >= max_steps
            if recorder:
                for e, k in zip(active, j):
                    recorder.step(k, int(actions[e]), float(rew[e]), bool(term[e]), obs[e], int(lives[e]))
            if not ended.any():
                continue
            done_envs = active[ended]
            if recorder:
                for k in job[done_envs]:
                    recorder.end(int(k))
            take = min(len(done_envs), K - next_job)
            job[done_envs[take:]] = -1
            if take:
                envs = done_envs[:take]
                new = np.arange(next_job, next_job + take)
                next_job += take
                job[envs] = new
                mask = np.zeros(n, dtype=bool)
                mask[envs] = True
                fresh, info = venv.reset(seed=seeds[new], options={"reset_mask": mask})
                obs = obs.copy()
                obs[envs] = squeeze_obs(fresh)[envs]
                lives[envs] = np.asarray(info.get("lives", lives))[envs]
                policy.start(envs, new)
                if recorder:
                    for e, k in zip(envs, new):
                        recorder.begin(int(k), obs[e], int(lives[e]))
    finally:
        venv.close()
    return EpisodeStats(returns, lengths, terminated, steps * n, counts)

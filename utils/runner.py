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

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from config import EnvConfig
from utils.io import UserError
from utils.wrappers import make_vector_env, squeeze_obs

# Emulators per ale_py vector env in :func:`run_episodes`: a step runs only the groups with a game in
# progress, so the idle tail of a queue costs at most group - 1 idle emulators per game still playing.
GROUP = 2


class Policy(Protocol):
    def reset(self, num_envs: int) -> None:
        """Called once with the number of emulators."""

    def start(self, envs: np.ndarray, jobs: np.ndarray) -> None:
        """Emulators ``envs`` begin the episodes ``jobs`` (indices into the job list)."""

    def act(self, frames: np.ndarray, envs: np.ndarray) -> np.ndarray:
        """(M, H, W, 3) uint8 frames of emulators ``envs`` (M,) -> (M,) int actions. Every emulator's,
        unless the policy sets ``active_only = True``: then only those playing a game (an idle emulator
        costs it no work, so its per-emulator state must be indexed by ``envs``)."""


class Recorder(Protocol):
    """Sees every frame of every job; ``lives`` is the game's life counter (ALE's ``lives()``) at that frame."""

    def begin(self, job: int, frame: np.ndarray, lives: int) -> None: ...
    def step(self, job: int, action: int, reward: float, terminated: bool, frame: np.ndarray, lives: int) -> None: ...
    def end(self, job: int) -> None: ...


class Episodes:
    """In-memory recorder: frames, actions, rewards, dones and lives of every job (``eps[job]``, lists)."""

    def __init__(self):
        self.eps: dict[int, dict[str, list]] = {}

    def begin(self, job: int, frame: np.ndarray, lives: int) -> None:
        self.eps[job] = {"obs": [frame.copy()], "actions": [], "rewards": [], "dones": [], "lives": [lives]}

    def step(self, job: int, action: int, reward: float, terminated: bool, frame: np.ndarray, lives: int) -> None:
        e = self.eps[job]
        for k, v in (("obs", frame.copy()), ("actions", action), ("rewards", reward), ("dones", terminated), ("lives", lives)):
            e[k].append(v)

    def end(self, job: int) -> None:
        pass


@dataclass
class EpisodeStats:
    returns: np.ndarray  # (K,) summed raw reward per job
    lengths: np.ndarray  # (K,) agent steps per job
    terminated: np.ndarray  # (K,) True if the game ended (not cut by a step cap or truncation)
    env_steps: int  # emulator steps run, idle ones included (an idle emulator in a group still playing is stepped)
    action_counts: np.ndarray  # (A,) actions taken in the episodes (idle emulators' steps not counted); for a
    # continuous game (CarRacing) the sum of the action vectors played (divide by lengths.sum() for the mean)
    seconds: float = 0.0  # wall time of the whole call (emulators made, games played, emulators closed)
    reset_seconds: float = 0.0  # of which seeded resets (each reloads the ROM)

    @property
    def utilization(self) -> float:
        """Share of the emulator steps run that played a game (the rest stepped idle emulators)."""
        return float(self.lengths.sum()) / self.env_steps if self.env_steps else 0.0

    @property
    def steps_per_second(self) -> float:
        """Agent steps of the games per second of wall time (the phase-level throughput)."""
        return float(self.lengths.sum()) / self.seconds if self.seconds > 0 else 0.0

    def log_fields(self) -> dict[str, float]:
        """What every phase logs about its emulators."""
        return {"emulator_utilization": round(self.utilization, 4), "agent_steps_per_s": round(self.steps_per_second, 1),
                "reset_share": round(self.reset_seconds / self.seconds, 4) if self.seconds > 0 else 0.0}


@dataclass
class Models:
    """The VAE and MDN-RNN that world-model policies play with (None for policies without a model)."""

    vae: Any
    mdn: Any


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
        self.stepped = 0  # env steps run (a finished game is never stepped)
        self.num_envs = len(envs)

    def reset(self, seed: np.ndarray, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Reset the envs in ``options["reset_mask"]`` (default: all), the i-th of them with ``seed[i]``."""
        mask = np.ones(len(self.envs), dtype=bool) if options is None else options["reset_mask"]
        for e, s in zip(np.flatnonzero(mask), seed, strict=True):
            self.obs[e], info = self.envs[e].reset(seed=int(s))
            self.lives[e] = info.get("lives", 0)
            self.over[e] = False
        return np.stack(self.obs)[:, None], {"lives": self.lives.copy()}  # (N, 1, ...) as the vector env's observations

    def step(self, actions: np.ndarray, live: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        rew, term, trunc = np.zeros(len(self.envs)), np.zeros(len(self.envs), bool), np.zeros(len(self.envs), bool)
        for e in np.flatnonzero(~self.over):
            self.stepped += 1
            a = actions[e] if actions.ndim > 1 else int(actions[e])
            self.obs[e], rew[e], term[e], trunc[e], info = self.envs[e].step(a)
            self.lives[e] = info.get("lives", 0)
        self.over |= term | trunc
        return np.stack(self.obs)[:, None], rew, term, trunc, {"lives": self.lives.copy()}

    def close(self) -> None:
        for env in self.envs:
            env.close()


class VectorGroups:
    """ale_py vector envs of ``group`` emulators each, behind the slice of one vector env's API that
    :func:`run_episodes` uses, run so that idle emulators cost nothing.

    - ``step(actions, live)`` runs only the groups in which some emulator is live (every group's C++
      thread at once: ``send`` to all, then ``recv``): an idle group keeps its last frames and costs nothing,
      so the tail of a queue no longer steps every emulator.
    - ``reset`` resets the groups concerned in parallel on a thread pool (a seeded reset reloads the ROM:
      ~0.12 s of a core, 25x an unseeded one; ale_py releases the GIL meanwhile).

    ``stepped`` counts the emulator steps run."""

    def __init__(self, cfg: EnvConfig, num_envs: int, group: int):
        from concurrent.futures import ThreadPoolExecutor

        sizes = [min(group, num_envs - i) for i in range(0, num_envs, group)]
        if len(sizes) > 1:  # one C++ thread each: the groups step side by side
            cfg = dataclasses.replace(cfg, num_threads=1)
        self.envs = [make_vector_env(cfg, s) for s in sizes]
        self.bounds = np.cumsum([0, *sizes])
        self.num_envs = num_envs
        self.single_action_space = self.envs[0].single_action_space
        self.obs: np.ndarray | None = None
        self.lives = np.zeros(num_envs, dtype=np.int64)
        self.stepped = 0
        self.started = [False] * len(self.envs)
        self.pool = ThreadPoolExecutor(max_workers=max(1, min(len(sizes), os.cpu_count() or 1)))

    def _slices(self):
        return [(env, slice(int(lo), int(hi))) for env, lo, hi in zip(self.envs, self.bounds[:-1], self.bounds[1:], strict=True)]

    def _reset_group(self, g: int, m: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        env = self.envs[g]
        if not self.started[g] and not m.all():  # ale_py: a partial reset needs a full one before it
            env.reset(seed=np.zeros(len(m), dtype=np.int64))
        self.started[g] = True
        obs, info = env.reset(seed=s) if m.all() else env.reset(seed=s, options={"reset_mask": m})
        return obs, np.asarray(info["lives"])

    def reset(self, seed: np.ndarray, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Reset the emulators in ``options["reset_mask"]`` (default: all), the i-th of them with ``seed[i]``."""
        mask = np.ones(self.num_envs, dtype=bool) if options is None else options["reset_mask"]
        todo, pos = [], 0
        for g, (_, sl) in enumerate(self._slices()):
            if (k := int(mask[sl].sum())):
                todo.append((g, sl, mask[sl], np.asarray(seed[pos:pos + k])))
                pos += k
        for (_, sl, m, _), (obs, lives) in zip(todo, self.pool.map(lambda t: self._reset_group(t[0], t[2], t[3]), todo), strict=True):
            if self.obs is None:
                self.obs = np.zeros((self.num_envs, *obs.shape[1:]), dtype=obs.dtype)
            self.obs[sl][m] = obs[m]
            self.lives[sl][m] = lives[m]
        return self.obs.copy(), {"lives": self.lives.copy()}

    def step(self, actions: np.ndarray, live: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        n = self.num_envs
        run = [(env, sl) for env, sl in self._slices() if live is None or live[sl].any()]
        for env, sl in run:
            env.send(np.ascontiguousarray(actions[sl]))
        rew, term, trunc = np.zeros(n), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        for env, sl in run:
            obs, rew[sl], term[sl], trunc[sl], info = env.recv()
            self.obs[sl] = obs
            self.lives[sl] = info["lives"]
            self.stepped += sl.stop - sl.start
        return self.obs.copy(), rew, term, trunc, {"lives": self.lives.copy()}

    def close(self) -> None:
        self.pool.shutdown()
        for env in self.envs:
            env.close()


def run_episodes(env_cfg: EnvConfig, policy: Policy, seeds: list[int] | np.ndarray, num_envs: int | None = None,
                 max_steps: int | None = None, recorder: Recorder | None = None,
                 make_env: Callable[[], gym.Env] | None = None, group: int = GROUP,
                 venv: VectorGroups | None = None, patience: int | None = None) -> EpisodeStats:
    """Play one episode per seed (job k uses ``seeds[k]``), ``num_envs`` at a time (default: all), on
    ale_py's vector envs of ``group`` emulators (:class:`VectorGroups`, made for the call, or ``venv``'s,
    kept between calls: making an emulator loads its ROM), or on ``make_env()``'s single envs when given.

    A policy with ``active_only`` acts only for the emulators playing a game; any other sees every emulator
    at every step (as it always did: a policy with one RNG for all emulators draws the same numbers).

    ``patience`` (training only, never evaluation): an episode also ends after that many steps in a row
    without a positive reward (CarRacing: a car off the track or standing still stops paying; its return is
    what it earned until then)."""
    t0 = time.perf_counter()
    seeds = np.asarray(seeds, dtype=np.int64)
    K = len(seeds)
    n = min(num_envs or K, K, venv.num_envs if venv is not None else K)
    returns, lengths = np.zeros(K), np.zeros(K, dtype=np.int64)
    terminated = np.zeros(K, dtype=bool)
    unpaid = np.zeros(K, dtype=np.int64)  # steps since the job's last positive reward (for ``patience``)
    own = venv is None
    if own:
        venv = VectorGroups(env_cfg, n, group) if make_env is None else GameBatch([make_env() for _ in range(n)])
    N = venv.num_envs  # emulators; those past the first n stay idle (never stepped)
    job = np.full(N, -1)  # job of each emulator, -1 when idle
    next_job = n
    box = isinstance(venv.single_action_space, gym.spaces.Box)  # continuous actions (CarRacing): vectors
    adim = int(venv.single_action_space.shape[0]) if box else int(venv.single_action_space.n)
    counts = np.zeros(adim, dtype=np.float64 if box else np.int64)
    stepped = venv.stepped
    policy.reset(N)
    active_only = getattr(policy, "active_only", False)
    lives = np.zeros(N, dtype=np.int64)
    obs = None
    reset_time = [0.0]

    def assign(envs: np.ndarray, new: np.ndarray) -> None:
        """Emulators ``envs`` start jobs ``new``: seeded resets (their groups in parallel), then the policy."""
        nonlocal obs
        job[envs] = new
        mask = np.zeros(N, dtype=bool)
        mask[envs] = True
        t = time.perf_counter()
        fresh, info = venv.reset(seed=seeds[new], options={"reset_mask": mask})
        reset_time[0] += time.perf_counter() - t
        fresh = squeeze_obs(fresh)
        if obs is None:
            obs = fresh.copy()
        obs[envs] = fresh[envs]
        lives[envs] = np.asarray(info.get("lives", lives))[envs]
        policy.start(envs, new)
        if recorder:
            for e, k in zip(envs, new):
                recorder.begin(int(k), obs[e], int(lives[e]))

    try:
        assign(np.arange(n), np.arange(n))
        while (job >= 0).any():
            live = job >= 0
            rows = np.flatnonzero(live) if active_only else np.arange(N)
            actions = np.zeros((N, adim), dtype=np.float32) if box else np.zeros(N, dtype=np.int64)
            actions[rows] = np.asarray(policy.act(obs[rows], rows), dtype=actions.dtype)
            if not box and actions.size and (actions.min() < 0 or actions.max() >= len(counts)):  # ale_py would hang, not fail
                raise UserError(f"the agent chose action {int(actions.max())} but {env_cfg.env_id} has {len(counts)} "
                                "actions: it was trained for another game; check --env.env_id")
            new_obs, rew, term, trunc, info = venv.step(actions, live)
            new_obs = squeeze_obs(new_obs)
            active = np.flatnonzero(live)
            obs[active] = new_obs[active]
            lives[active] = np.asarray(info.get("lives", lives))[active]
            counts += actions[active].sum(0) if box else np.bincount(actions[active], minlength=len(counts))
            j = job[active]
            returns[j] += rew[active]
            lengths[j] += 1
            terminated[j] = term[active]
            ended = term[active] | trunc[active]
            if max_steps is not None:
                ended |= lengths[j] >= max_steps
            if patience:
                unpaid[j] = np.where(rew[active] > 0, 0, unpaid[j] + 1)
                ended |= unpaid[j] >= patience
            if recorder:
                for e, k in zip(active, j):
                    recorder.step(k, actions[e].copy() if box else int(actions[e]), float(rew[e]), bool(term[e]), obs[e],
                                  int(lives[e]))
            if not ended.any():
                continue
            done_envs = active[ended]
            if recorder:
                for k in job[done_envs]:
                    recorder.end(int(k))
            take = min(len(done_envs), K - next_job)
            job[done_envs[take:]] = -1
            if take:
                assign(done_envs[:take], np.arange(next_job, next_job + take))
                next_job += take
    finally:
        if own:
            venv.close()
    return EpisodeStats(returns, lengths, terminated, venv.stepped - stepped, counts, time.perf_counter() - t0, reset_time[0])


def merge_stats(parts: list[tuple[np.ndarray, EpisodeStats]], num_jobs: int, num_actions: int, seconds: float) -> EpisodeStats:
    """Per-task results (the task's job indices, its stats) -> one :class:`EpisodeStats` in job order."""
    returns, lengths = np.zeros(num_jobs), np.zeros(num_jobs, dtype=np.int64)
    terminated = np.zeros(num_jobs, dtype=bool)
    counts = np.zeros(num_actions, dtype=parts[0][1].action_counts.dtype if parts else np.int64)  # float: action sums
    env_steps = 0
    for jobs, st in parts:
        returns[jobs], lengths[jobs], terminated[jobs] = st.returns, st.lengths, st.terminated
        counts += st.action_counts
        env_steps += st.env_steps
    worker_seconds = sum(st.seconds for _, st in parts)
    resets = sum(st.reset_seconds for _, st in parts) * seconds / worker_seconds if worker_seconds > 0 else 0.0
    return EpisodeStats(returns, lengths, terminated, env_steps, counts, seconds, resets)  # resets: their share of the workers' time

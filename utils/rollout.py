"""The rollout engine: every phase that plays real games hands its games to one of these.

Work is a list of jobs: job k is one full game reset with ``seeds[k]`` and played by the policy that a
:class:`PolicySpec` builds for it. Two backends play them:

- ``local`` (the default): this process's emulators, through :func:`utils.runner.run_episodes`;
- ``ray``: Ray actors (:mod:`utils.ray_backend`), each owning an ale_py vector env and CPU copies of
  the VAE and MDN-RNN, take tasks of whole jobs; ``rollout.address`` joins an existing cluster.

A spec is small and picklable (a population's weights, an action-habit seed): it travels to the actors
once per call, the models once per engine. Every game is seeded and every policy keeps its state per job,
so neither the backend nor the number of emulators changes a score (tests check both).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from config import Config, EnvConfig
from utils.runner import GROUP, EpisodeStats, Models, Policy, Recorder, VectorGroups, run_episodes


class PolicySpec(Protocol):
    def build(self, models: Models | None, jobs: np.ndarray) -> Policy:
        """The policy that plays ``jobs`` (indices into the spec's job list), job i of the call being ``jobs[i]``."""


@dataclass
class Candidates:
    """World Models controllers: job k is played by candidate ``job_candidates[k]`` of ``params`` (P, n)
    (all jobs by candidate 0 when None)."""

    params: np.ndarray
    job_candidates: np.ndarray | None = None

    def build(self, models: Models | None, jobs: np.ndarray) -> Policy:
        from utils.world_model import WorldModelPolicy

        assert models is not None, "world-model candidates need the VAE and MDN-RNN"
        jc = None if self.job_candidates is None else self.job_candidates[jobs]
        return WorldModelPolicy(models.vae, models.mdn, torch.as_tensor(self.params, dtype=torch.float32), job_candidates=jc)


def controller_spec(wm: Any) -> Candidates:
    """A trained World Models agent (:class:`utils.world_model.WorldModel`) playing every job."""
    return Candidates(np.asarray(wm.controller.get_flat(), dtype=np.float32)[None])


class Engine(Protocol):
    def play(self, spec: PolicySpec, seeds: list[int] | np.ndarray, max_steps: int | None = None,
             recorder: Recorder | None = None, patience: int | None = None) -> EpisodeStats:
        """One game per seed, job k with ``seeds[k]``; ``recorder`` sees every frame of every job; ``patience``
        as :func:`utils.runner.run_episodes`'s."""

    def close(self) -> None: ...


class LocalEngine:
    """This process's emulators: ``num_envs`` (default: one per game) work through the jobs. They are made
    at the first call and kept until :meth:`close` (making an emulator loads its ROM: ~0.25 s each)."""

    def __init__(self, env_cfg: EnvConfig, num_envs: int | None, models: Models | None = None, group: int = GROUP):
        self.env_cfg, self.num_envs, self.models, self.group = env_cfg, num_envs, models, group
        self.venv: VectorGroups | None = None

    def emulators(self, n: int) -> VectorGroups:
        """At least n emulators (more are made only when a call needs more than the last)."""
        if self.venv is None or self.venv.num_envs < n:
            self.close()
            self.venv = VectorGroups(self.env_cfg, n, self.group)
        return self.venv

    def play(self, spec: PolicySpec, seeds: list[int] | np.ndarray, max_steps: int | None = None,
             recorder: Recorder | None = None, patience: int | None = None) -> EpisodeStats:
        jobs = np.arange(len(seeds))
        venv = self.emulators(min(self.num_envs or len(seeds), len(seeds)))
        return run_episodes(self.env_cfg, spec.build(self.models, jobs), seeds, num_envs=self.num_envs,
                            max_steps=max_steps, recorder=recorder, venv=venv, patience=patience)

    def close(self) -> None:
        if self.venv is not None:
            self.venv.close()
            self.venv = None

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def make_engine(cfg: Config, num_envs: int | None, models: Models | None = None) -> Any:
    """The engine ``cfg.rollout.backend`` names; ``num_envs`` is the local backend's emulator count (the ray
    backend has ``rollout.workers`` x ``rollout.envs_per_worker``). The local backend never imports ray."""
    if cfg.rollout.backend == "ray":
        from utils.ray_backend import RayEngine

        return RayEngine(cfg, models)
    return LocalEngine(cfg.env, num_envs, models, cfg.rollout.group_size)

"""The ``ray`` rollout backend: Ray actors that play queued jobs on their own emulators.

Each :class:`RolloutWorker` actor owns ``rollout.envs_per_worker`` emulators (an ale_py vector env per
task) and CPU copies of the VAE and MDN-RNN, loaded from one ``ray.put`` per engine at the actor's first task. The driver keeps everything else (CMA-ES ask/tell, the resume state, the files): per call
it puts the :class:`~utils.rollout.PolicySpec` (a generation's candidate weights) in the object store
once, cuts the jobs into tasks of ``rollout.jobs_per_task`` games and hands the next task to whichever
actor finishes first, so the tail of a call is one task, not one worker's share.

Faults: actors are created with ``max_restarts=-1, max_task_retries=-1``: an actor whose process dies
is restarted by Ray and its unfinished task replayed there. Jobs are seeded games played by per-job
policies, so a replayed task returns the same games and the call the same result.

Recorded games (data collection) come back through the object store and the driver writes the shards,
into the run's data folder on the driver's machine: workers need no shared filesystem.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

import numpy as np

from config import Config, EnvConfig
from utils.common import Timer
from utils.io import UserError
from utils.runner import EpisodeStats, Models, Recorder, merge_stats


def replay(recorder: Recorder, episodes: list[tuple[int, dict]]) -> None:
    """Feed recorded games to a driver-side recorder, frame by frame, as :func:`utils.runner.run_episodes` would."""
    for k, ep in episodes:
        recorder.begin(k, ep["obs"][0], int(ep["lives"][0]))
        for t in range(len(ep["actions"])):
            recorder.step(k, int(ep["actions"][t]), float(ep["rewards"][t]), bool(ep["dones"][t]), ep["obs"][t + 1],
                          int(ep["lives"][t + 1]))
        recorder.end(k)


def models_blob(models: Models | None) -> dict | None:
    """CPU state dicts and configs of the models, for the object store."""
    if models is None:
        return None
    return {name: (m.config(), {k: v.detach().cpu() for k, v in m.state_dict().items()})
            for name, m in (("vae", models.vae), ("mdn", models.mdn))}


def build_models(blob: dict | None) -> Models | None:
    import torch

    from models.mdn_rnn import MDNRNN
    from models.vae import ConvVAE

    if blob is None:
        return None
    (vc, vs), (mc, ms) = blob["vae"], blob["mdn"]
    vae = ConvVAE(**vc)
    vae.load_state_dict(vs)
    mdn = MDNRNN(**mc)
    mdn.load_state_dict(ms)
    return Models(vae.eval().to(memory_format=torch.channels_last), mdn.eval())


class RolloutWorker:
    """A Ray actor (see :func:`_actor_class`): plays tasks of jobs on its own emulators."""

    def __init__(self, env_cfg: dict, num_envs: int, threads: int, group: int):
        import torch

        import utils.omp  # noqa: F401
        from utils.wrappers import register_ale

        torch.set_num_threads(threads)
        self.env_cfg = EnvConfig(**{**env_cfg, "num_threads": threads})
        self.models, self.loaded = None, False
        register_ale()
        from utils.runner import VectorGroups

        self.venv = VectorGroups(self.env_cfg, num_envs, group)  # this actor's emulators, kept for its lifetime

    def pid(self) -> int:
        return os.getpid()

    def where(self) -> tuple[str, str]:
        """This actor's Ray node id and host name."""
        import socket

        import ray

        return ray.get_runtime_context().get_node_id(), socket.gethostname()

    def play(self, blob_ref: list, spec: Any, jobs: np.ndarray, seeds: np.ndarray, max_steps: int | None,
             record: bool, patience: int | None = None) -> tuple[np.ndarray, EpisodeStats, list[tuple[int, dict]] | None, int]:
        """Jobs ``jobs`` (the call's indices) with ``seeds``: their stats, and with ``record`` every game as
        (job, arrays), in the order they ended."""
        import ray

        from utils.runner import Episodes, run_episodes

        if not self.loaded:  # the first task of this actor (or of its restarted process): the models, once
            self.models, self.loaded = build_models(ray.get(blob_ref[0])), True
        rec = Episodes() if record else None
        stats = run_episodes(self.env_cfg, spec.build(self.models, jobs), seeds, max_steps=max_steps, recorder=rec,
                             venv=self.venv, patience=patience)
        episodes = None if rec is None else [(int(jobs[j]), {k: np.asarray(v) for k, v in e.items()}) for j, e in rec.eps.items()]
        return jobs, stats, episodes, os.getpid()


def _actor_class() -> Any:
    import ray

    return ray.remote(max_restarts=-1, max_task_retries=-1)(RolloutWorker)


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """A host:port (or ray://host:port) nobody listens on: one line now, not Ray's endless reconnects."""
    import socket

    if address == "auto":
        return
    hostport = address.removeprefix("ray://").rsplit("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--rollout.address must be auto, host:port or ray://host:port (got {address!r})")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        raise UserError(f"no Ray cluster answers at --rollout.address {address} ({type(e).__name__}: {e}); "
                        "start one with `ray start --head` or fix the address") from None


def start_ray(cfg: Config) -> None:
    """``ray.init``: join ``rollout.address`` (``auto``, ``ray://host:10001``, ``host:6379``) or start a local Ray
    sized for the workers. On a cluster the workers get this checkout as their working directory."""
    import ray

    if ray.is_initialized():
        return
    rc = cfg.rollout
    kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": "warning", "log_to_driver": False}
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if rc.address:
        _check_reachable(rc.address)
        kwargs["address"] = rc.address
        kwargs["runtime_env"] = {"working_dir": here, "excludes": ["runs/", ".venv/", ".git/", "comparison_results/", "*.npz"]}
    else:
        kwargs["num_cpus"] = rc.workers * rc.cpus_per_worker
        kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": here}}
    try:
        ray.init(**kwargs)
    except Exception as e:  # ray raises ConnectionError, RuntimeError, ValueError... for a bad address
        hint = ""
        if rc.address and rc.address != "auto" and os.environ.get("RAY_AUTH_MODE", "disabled") != "token":
            # Ray >= 2.59's `ray start --head` turns token authentication on; a client without it is refused
            hint = ("; if the cluster uses token authentication (`ray start --head` does by default since Ray 2.59), "
                    "set RAY_AUTH_MODE=token and its token (RAY_AUTH_TOKEN, or ~/.ray/auth_token) here")
        raise UserError(f"ray could not start ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
                        f"check --rollout.address ({rc.address or 'local'}){hint}") from None
    need, have = rc.workers * rc.cpus_per_worker, ray.cluster_resources().get("CPU", 0)
    if need > have:  # the actors would wait for CPUs forever
        raise UserError(f"the Ray cluster has {have:g} CPUs, --rollout.workers {rc.workers} x --rollout.cpus-per-worker "
                        f"{rc.cpus_per_worker} needs {need:g}; add machines or ask for fewer workers")


class RayEngine:
    """The :class:`utils.rollout.Engine` of the ray backend (see the module docstring)."""

    def __init__(self, cfg: Config, models: Models | None = None):
        import ray

        start_ray(cfg)
        rc = cfg.rollout
        self.rc = rc
        actor = _actor_class()
        self.workers = [actor.options(num_cpus=rc.cpus_per_worker).remote(asdict(cfg.env), rc.envs_per_worker,
                                                                          rc.cpus_per_worker, rc.group_size)
                        for _ in range(rc.workers)]
        self.blob_ref = ray.put(models_blob(models))  # the models go out once; each actor loads them at its first task
        self.pids: set[int] = set()  # every worker process that returned a task (a restarted actor adds one)
        self.on_result = None  # called with each finished task's job indices (tests kill a worker from here)
        self.last_pid: int | None = None  # the process of the last finished task
        places = ray.get([w.where.remote() for w in self.workers])  # the actors are up: not a generation's time
        self.nodes = sorted({node for node, _ in places})
        hosts = sorted({host for _, host in places})
        print(f"[ray] {len(self.workers)} workers x {rc.envs_per_worker} emulators on {len(self.nodes)} node(s) "
              f"({', '.join(hosts)}); cluster {ray.cluster_resources().get('CPU', 0):g} CPUs", flush=True)

    def play(self, spec: Any, seeds: list[int] | np.ndarray, max_steps: int | None = None,
             recorder: Recorder | None = None, patience: int | None = None) -> EpisodeStats:
        import ray

        timer = Timer()
        seeds = np.asarray(seeds, dtype=np.int64)
        K = len(seeds)
        # Tasks of at most 2 x envs_per_worker games, and at least one per worker.
        per = self.rc.jobs_per_task or max(1, min(2 * self.rc.envs_per_worker, -(-K // len(self.workers))))
        tasks = [np.arange(i, min(i + per, K)) for i in range(0, K, per)]
        spec_ref = ray.put(spec)
        pending: dict[Any, Any] = {}
        free = list(self.workers)
        parts: list[tuple[np.ndarray, EpisodeStats]] = []
        num_actions = None
        while tasks or pending:
            while tasks and free:
                jobs, w = tasks.pop(0), free.pop(0)
                ref = w.play.remote([self.blob_ref], spec_ref, jobs, seeds[jobs], max_steps, recorder is not None, patience)
                pending[ref] = w
            [done], _ = ray.wait(list(pending), num_returns=1)
            free.append(pending.pop(done))
            try:
                jobs, stats, episodes, pid = ray.get(done)
            except ray.exceptions.RayTaskError as e:  # a worker's own error (e.g. a UserError): the one line it raised
                if isinstance(e.cause, UserError):
                    raise e.cause from None
                raise
            self.pids.add(pid)
            self.last_pid = pid
            parts.append((jobs, stats))
            num_actions = len(stats.action_counts)
            if recorder is not None and episodes:
                replay(recorder, episodes)
            if self.on_result is not None:
                self.on_result(jobs)
        return merge_stats(parts, K, num_actions or 0, timer.seconds)

    def alive_pids(self) -> list[int]:
        import ray

        return ray.get([w.pid.remote() for w in self.workers])

    def close(self) -> None:
        import ray

        for w in self.workers:
            ray.kill(w)
        self.workers = []

    def __enter__(self) -> RayEngine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

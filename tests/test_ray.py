"""The ray rollout backend on a local Ray with 2 workers: the same games as the local backend (a real
CMA-ES phase's fitness per generation, evaluation scores, collected data), and a worker process killed
mid-generation is restarted and its games replayed with no change to the result."""

from __future__ import annotations

import json
import os
import shutil
import signal

import numpy as np
import pytest
from conftest import ROOT
from test_rollout import population, tiny_models

pytestmark = pytest.mark.slow

RAY = {"rollout.backend": "ray", "rollout.workers": 2, "rollout.envs_per_worker": 2, "rollout.jobs_per_task": 2}


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="warning", log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    yield
    ray.shutdown()


def test_ray_plays_the_same_games_and_survives_a_killed_worker(local_ray):
    from config import make_config
    from utils.ray_backend import RayEngine
    from utils.rollout import Candidates, LocalEngine

    cfg = make_config("dry-run", **RAY, **{"env.max_episode_frames": 2400})
    models = tiny_models()
    spec = Candidates(population(models, 4), np.repeat(np.arange(4), 2))
    seeds = np.tile([11, 12], 4)
    want = LocalEngine(cfg.env, 3, models).play(spec, seeds, max_steps=150)
    with RayEngine(cfg, models) as engine:
        got = engine.play(spec, seeds, max_steps=150)
        for f in ("returns", "lengths", "terminated", "action_counts"):
            np.testing.assert_array_equal(getattr(got, f), getattr(want, f), err_msg=f)
        # The other worker is killed (SIGKILL) when the first task comes back: it is mid-task or about to get one.
        pids = sorted(engine.pids)
        assert len(pids) == 2
        killed: list[int] = []

        def kill_the_other(jobs):
            if not killed:
                killed.append(pids[1] if engine.last_pid == pids[0] else pids[0])
                os.kill(killed[0], signal.SIGKILL)

        engine.on_result = kill_the_other
        again = engine.play(spec, seeds, max_steps=150)
        assert killed and killed[0] not in engine.alive_pids()  # Ray restarted the actor in a new process
        assert len(engine.pids) == 3
        for f in ("returns", "lengths", "terminated", "action_counts"):
            np.testing.assert_array_equal(getattr(again, f), getattr(want, f), err_msg=f)


def test_a_real_cma_es_phase_and_its_evaluation_are_the_same_on_ray(dry_run, local_ray, tmp_path):
    """The dry run's controller trained again, its real phase on 2 Ray workers: identical fitness in every
    generation, the same controller weights, identical evaluation games."""
    from conftest import tiny_config

    import evaluate
    import train_controller

    base, _ = dry_run
    shutil.copytree(base.run_path, tmp_path / "run")
    shutil.rmtree(tmp_path / "run" / "controller")
    cfg = tiny_config(tmp_path, **RAY)
    metrics = train_controller.main(cfg)
    want = json.loads((base.run_path / "controller" / "metrics.json").read_text())
    fitness = lambda m: [(h["best"], h["mean"], h["worst"]) for h in m["real"]["history"]]  # noqa: E731
    assert fitness(metrics) == fitness(want) and len(fitness(want)) == base.controller.real_epochs
    assert metrics["real"]["rescored"] == want["real"]["rescored"]
    assert (tmp_path / "run" / "controller" / "model.safetensors").read_bytes() == \
        (base.run_path / "controller" / "model.safetensors").read_bytes()
    res = evaluate.main(cfg)
    base_res = json.loads(base.run_path.joinpath("eval", "results.json").read_text())
    assert res["agent"]["episodes"] == base_res["agent"]["episodes"]


def test_data_collected_on_ray_is_the_local_data(collected_local, local_ray, tmp_path):
    """Workers send their games back through the object store; the driver writes the same shards."""
    from conftest import tiny_config

    from utils.data import collect_rollouts, complete_manifest, load_shard, shard_paths

    cfg = tiny_config(tmp_path, **RAY, **{"data.num_rollouts": 5, "data.episodes_per_shard": 2})
    manifest = collect_rollouts(cfg, progress=False)
    local_dir, local_manifest = collected_local
    assert [s["steps"] for s in manifest["shards"]] == [s["steps"] for s in local_manifest["shards"]]
    for a, b in zip(shard_paths(cfg.data_path, complete_manifest(cfg.data_path)), shard_paths(local_dir, local_manifest),
                    strict=True):
        sa, sb = load_shard(a), load_shard(b)
        for k in sa:
            np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)


@pytest.fixture(scope="module")
def collected_local(tmp_path_factory):
    from conftest import tiny_config

    from utils.data import collect_rollouts

    cfg = tiny_config(tmp_path_factory.mktemp("local"), **{"data.num_rollouts": 5, "data.episodes_per_shard": 2})
    return cfg.data_path, collect_rollouts(cfg, progress=False)


def test_the_dream_report_plays_its_real_games_on_ray(dry_run, local_ray, tmp_path):
    """evaluate.py --visualize's dream report (held-out games, the controller's real game lengths, the rank
    agreement's candidates) plays its real games on the engine: the same numbers from 2 Ray workers."""
    import torch
    from conftest import tiny_config

    from utils.data import LatentData
    from utils.visualize import dream_report
    from utils.world_model import WorldModel

    base, _ = dry_run
    run = base.run_path
    wm = WorldModel.load(run, torch.device("cpu"))
    latents = LatentData.load(run / "latents.npz")
    local = dream_report(base, wm, latents, run, tmp_path / "local.png")
    on_ray = dream_report(tiny_config(tmp_path, **RAY), wm, latents, run, tmp_path / "ray.png")
    assert on_ray["rank"]["real_score"] == local["rank"]["real_score"] and len(local["rank"]["real_score"]) == 24
    assert on_ray["rank"]["constants"] == local["rank"]["constants"]
    assert on_ray["length"] == local["length"] and local["length"]["real_games"] == 8
    assert on_ray["heldout"] == local["heldout"] and local["heldout"]["steps"] > 0


def test_compare_and_publish_play_the_world_models_agent_on_ray(dry_run, local_ray, tmp_path):
    """compare_baselines.py and publish_model.py load the agent through utils.agents: on Ray, the same games."""
    import torch
    from conftest import tiny_config

    from utils.agents import load_world_models

    base, _ = dry_run
    seeds = [101, 102, 103]
    local = load_world_models(base, torch.device("cpu")).play(base, seeds)
    cfg = tiny_config(tmp_path, **RAY, run_dir=str(base.run_path))
    assert load_world_models(cfg, torch.device("cpu")).play(cfg, seeds)["episodes"] == local["episodes"]
    assert [e["seed"] for e in local["episodes"]] == seeds and min(e["length"] for e in local["episodes"]) > 0


def test_a_two_node_cluster_plays_the_same_games_on_both_nodes(dry_run, tmp_path):
    """A Ray cluster of two nodes (ray.cluster_utils: two raylets, 1 CPU each, as `ray start --head` plus
    `ray start --address` would make), joined through --rollout.address: the workers get the checkout
    through Ray's runtime_env, one lands on each node, and the evaluation games are the local ones.
    Asking the cluster for more CPUs than it has is one line and exit code 1, not actors waiting forever."""
    import subprocess
    import sys

    from ray.cluster_utils import Cluster

    base, _ = dry_run
    cmd = [sys.executable, "evaluate.py", "--run-dir", str(base.run_path), "--output", str(tmp_path / "res.json"),
           "--num-episodes", "4", "--no-wandb", "--logging.progress", "false"]
    local = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert local.returncode == 0, local.stderr[-2000:]
    want = json.loads((tmp_path / "res.json").read_text())["agent"]["episodes"]
    assert len(want) == 4 and len({e["seed"] for e in want}) == 4
    (tmp_path / "res.json").unlink()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()

        def evaluate(workers: int) -> subprocess.CompletedProcess:
            return subprocess.run([*cmd, "--rollout.backend", "ray", "--rollout.address", cluster.address,
                                   "--rollout.workers", str(workers), "--rollout.envs-per-worker", "2"],
                                  cwd=ROOT, capture_output=True, text=True, timeout=300)

        proc = evaluate(2)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "[ray] 2 workers x 2 emulators on 2 node(s)" in proc.stdout
        assert json.loads((tmp_path / "res.json").read_text())["agent"]["episodes"] == want
        (tmp_path / "res.json").unlink()
        proc = evaluate(3)
        assert proc.returncode == 1 and not (tmp_path / "res.json").exists()
        assert proc.stderr.strip().splitlines()[-1] == ("error: the Ray cluster has 2 CPUs, --rollout.workers 3 x "
                                                        "--rollout.cpus-per-worker 1 needs 3; add machines or ask for fewer workers")
    finally:
        cluster.shutdown()

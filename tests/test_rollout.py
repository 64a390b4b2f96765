"""The rollout engine's local backend: scores independent of the emulator count, utilization counted
exactly, and no ray import unless asked for."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT


def tiny_models(seed: int = 0):
    from models.mdn_rnn import MDNRNN
    from models.vae import ConvVAE
    from utils.runner import Models

    torch.manual_seed(seed)
    vae = ConvVAE(8, 64).eval().to(memory_format=torch.channels_last)
    return Models(vae, MDNRNN(8, 6, 16, 2).eval())


def population(models, num_candidates: int, seed: int = 1) -> np.ndarray:
    n = (models.vae.latent_dim + models.mdn.hidden_size + 1) * models.mdn.action_dim
    return np.random.default_rng(seed).normal(0, 1.0, (num_candidates, n)).astype(np.float32)


@pytest.fixture(scope="module")
def generation():
    """3 world-model candidates x 2 seeded games."""
    from config import EnvConfig
    from utils.rollout import Candidates

    models = tiny_models()
    spec = Candidates(population(models, 3), np.repeat(np.arange(3), 2))
    return EnvConfig(max_episode_frames=2400), models, spec, np.tile([11, 12], 3)


def test_emulator_count_and_grouping_change_no_world_model_score(generation):
    """The same jobs on 1, 4 or 6 emulators, in vector envs of 1, 4 or 3 emulators: each job's LSTM state and
    candidate follow it to whichever emulator plays it, so every game, score and action count is the same."""
    from utils.runner import run_episodes

    env, models, spec, seeds = generation
    runs = [run_episodes(env, spec.build(models, np.arange(len(seeds))), seeds, num_envs=n, max_steps=80, group=g)
            for n, g in ((1, 4), (4, 1), (6, 3))]
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0].returns, other.returns)
        np.testing.assert_array_equal(runs[0].lengths, other.lengths)
        np.testing.assert_array_equal(runs[0].action_counts, other.action_counts)
    assert (runs[0].action_counts > 0).sum() > 1  # the candidates act on what they see, not one constant action
    # An engine keeps its emulators between calls: another call's games first, then these, the same scores.
    from utils.rollout import LocalEngine

    engine = LocalEngine(env, 4, models, group=2)
    engine.play(spec, seeds[::-1] + 1, max_steps=30)
    kept = engine.play(spec, seeds, max_steps=80)
    engine.close()
    np.testing.assert_array_equal(kept.returns, runs[0].returns)
    np.testing.assert_array_equal(kept.lengths, runs[0].lengths)
    # one emulator plays the jobs one after the other: never idle
    assert runs[0].utilization == 1.0 and runs[0].env_steps == runs[0].lengths.sum()


def test_utilization_counts_the_idle_emulators_of_the_tail():
    """3 jobs of exactly 50 steps on 2 emulators: 100 steps of 2 emulators, one idle for the last 50."""
    from config import EnvConfig
    from utils.evaluation import ConstantPolicy
    from utils.runner import run_episodes

    st = run_episodes(EnvConfig(), ConstantPolicy(1), [1, 2, 3], num_envs=2, max_steps=50)
    assert (st.lengths == 50).all() and st.env_steps == 200
    assert st.utilization == pytest.approx(150 / 200)
    assert st.seconds > 0 and st.steps_per_second == pytest.approx(150 / st.seconds)
    assert st.log_fields()["emulator_utilization"] == 0.75
    # In vector envs of one emulator each, the idle one is not stepped at all.
    alone = run_episodes(EnvConfig(), ConstantPolicy(1), [1, 2, 3], num_envs=2, max_steps=50, group=1)
    assert alone.env_steps == 150 and alone.utilization == 1.0
    np.testing.assert_array_equal(alone.returns, st.returns)


def test_merge_stats_puts_every_task_back_in_job_order():
    from utils.runner import EpisodeStats, merge_stats

    a = EpisodeStats(np.array([5.0, 7.0]), np.array([10, 20]), np.array([True, False]), 40, np.array([1, 29]), 1.0)
    b = EpisodeStats(np.array([3.0]), np.array([30]), np.array([True]), 30, np.array([30, 0]), 2.0)
    m = merge_stats([(np.array([2, 0]), a), (np.array([1]), b)], 3, 2, 2.5)
    np.testing.assert_array_equal(m.returns, [7.0, 3.0, 5.0])
    np.testing.assert_array_equal(m.lengths, [20, 30, 10])
    np.testing.assert_array_equal(m.terminated, [False, True, True])
    assert m.env_steps == 70 and m.action_counts.tolist() == [31, 29] and m.seconds == 2.5
    assert m.utilization == pytest.approx(60 / 70)


def test_the_local_backend_never_imports_ray():
    code = ("import sys, numpy as np; sys.path.insert(0, 'tests'); from test_rollout import tiny_models, population; "
            "from config import make_config; from utils.rollout import Candidates, make_engine; "
            "cfg = make_config('dry-run', **{'env.max_episode_frames': 400}); m = tiny_models(); "
            "st = make_engine(cfg, 2, m).play(Candidates(population(m, 2)), [1, 2], max_steps=20); "
            "print(int(st.lengths.sum()), 'ray' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["40", "False"]


def test_an_unknown_backend_is_refused():
    from config import ConfigError, make_config

    with pytest.raises(ConfigError, match="--rollout.backend must be local or ray"):
        make_config("dry-run", **{"rollout.backend": "spark"})


def test_world_model_policy_on_some_emulators_moves_only_their_state():
    """What the runner does in a queue's tail: act on the emulators still playing; their actions and LSTM
    states are the full batch's, the idle ones' states stay as they were."""
    from utils.rollout import Candidates

    models = tiny_models()
    spec = Candidates(population(models, 4))
    frames = np.random.default_rng(0).integers(0, 255, (2, 4, 64, 64, 3), dtype=np.uint8)
    full, part = (spec.build(models, np.arange(4)) for _ in range(2))
    for p in (full, part):
        p.reset(4)
        p.start(np.arange(4), np.arange(4))
        p.act(frames[0])  # a first step on all four: states differ from zero
    before = [s.clone() for s in part.state]
    want = full.act(frames[1])
    rows = np.array([1, 3])
    got = part.act(frames[1][rows], rows)
    np.testing.assert_array_equal(got, want[rows])
    for s_part, s_full, s_before in zip(part.state, full.state, before, strict=True):
        torch.testing.assert_close(s_part[rows], s_full[rows])
        torch.testing.assert_close(s_part[[0, 2]], s_before[[0, 2]])
        assert not torch.equal(s_part[rows], s_before[rows])


def test_an_address_where_no_ray_cluster_listens_is_one_line():
    """Ray itself would retry the connection for minutes; the engine checks the port first."""
    from utils.io import UserError
    from utils.ray_backend import _check_reachable

    with pytest.raises(UserError, match=r"no Ray cluster answers at --rollout.address 127.0.0.1:1 \(ConnectionRefused"):
        _check_reachable("127.0.0.1:1")
    with pytest.raises(UserError, match="must be auto, host:port or ray://host:port"):
        _check_reachable("somewhere")
    _check_reachable("auto")  # left to ray.init


def test_bench_plays_generations_around_a_trained_controller(dry_run):
    """bench.py --around RUN: the run's models (its z size, whatever --vae.latent-dim says) and candidates drawn
    around its controller with its real phase's last step size; random candidates play other games."""
    import json

    import bench
    from config import make_config

    base, _ = dry_run
    sigma = json.loads((base.run_path / "controller" / "metrics.json").read_text())["real"]["history"][-1]["sigma"]
    full = {"run_dir": str(base.run_path), "controller.real_max_steps": 5000}  # whole games: lengths differ
    cfg = make_config("dry-run", **{"vae.latent_dim": 5, **full})
    out = bench.main(cfg, bench.BenchOptions(duration=0.05, around=str(base.run_path)))
    assert out["latent_dim"] == base.vae.latent_dim != 5
    assert out["generation_candidates"] == f"candidates around a trained controller (step {sigma:.4f})"
    assert out["generation_games"] == base.controller.population_size * base.controller.real_rollouts
    plain = bench.main(make_config("dry-run", **full), bench.BenchOptions(duration=0.05))
    assert plain["generation_candidates"] == "random candidates"
    assert plain["generation_mean_length"] != out["generation_mean_length"]

"""Shared fixtures: tiny configs and one dry-run pipeline run reused by several tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("GOMP_SPINCOUNT", "10000")  # as the entry points do, before torch loads

from config import Config, make_config  # noqa: E402


def tiny_config(tmp: Path, **overrides) -> Config:
    """The dry-run preset, smaller still, writing into ``tmp``; no progress bars."""
    base = {
        "run_dir": str(tmp / "run"),
        "logging.progress": False,
        "data.num_rollouts": 4,
        "data.num_envs": 4,
        "data.max_steps_per_rollout": 60,
        "data.episodes_per_shard": 2,
        "controller.real_max_steps": 40,
        "env.max_episode_frames": 800,
    }
    base.update(overrides)
    return make_config("dry-run", **base)


@pytest.fixture(scope="session")
def dry_run(tmp_path_factory) -> tuple[Config, dict]:
    """One complete tiny pipeline run (data, VAE, MDN-RNN, controller, evaluation)."""
    import train_world_model

    cfg = tiny_config(tmp_path_factory.mktemp("dry"))
    summary = train_world_model.main(cfg)
    return cfg, summary


def tiny_baseline_config(tmp: Path, **overrides) -> Config:
    """Baselines at a few hundred agent steps: 300 steps (1,200 frames), short games, 2 eval games."""
    base = {
        "baselines.frame_budget": 1_200,
        "baselines.eval_freq_frames": 600,
        "baselines.periodic_eval_episodes": 1,
        "baselines.eval_envs": 2,
        "eval.num_episodes": 2,
        "ddqn.learning_starts": 50,
        "sac.learning_starts": 50,
        "ddqn.buffer_size": 400,
        "sac.buffer_size": 400,
        "ppo.n_envs": 1,  # one env, so that its games end inside the budget
    }
    base.update(overrides)
    return tiny_config(tmp, **base)


@pytest.fixture(scope="session")
def baseline_run(dry_run, tmp_path_factory) -> Config:
    """The tiny World Models run plus DDQN, PPO and SAC trained a few hundred steps in the same run directory."""
    import shutil

    from baselines.checkpoints import ALGORITHMS
    from baselines.training import train

    wm_cfg, _ = dry_run
    root = tmp_path_factory.mktemp("baselines")
    shutil.copytree(wm_cfg.run_path, root / "run")
    cfg = tiny_baseline_config(root)
    for algo in ALGORITHMS:
        train(cfg, algo)
    return cfg

"""Same seed and config -> identical data, losses, CMA-ES fitness and scores, in another process too;
another seed -> other results; evaluation seeds do not depend on the training seed."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT, tiny_config
from safetensors.torch import load_file

from utils.data import complete_manifest, load_shard, shard_paths


def outcome(run) -> dict:
    """Everything a run measured: per-epoch losses, per-generation fitness, per-game scores."""
    read = lambda p: json.loads((run / p).read_text())  # noqa: E731
    vae, mdn, ctrl, ev = (read(p) for p in ("vae/metrics.json", "mdn_rnn/metrics.json", "controller/metrics.json",
                                            "eval/results.json"))
    return {
        "vae": [(e["recon"], e["kl"]) for e in vae["epochs"]],
        "mdn_rnn": [(e["nll"], e["reward_mse"], e["done_bce"]) for e in mdn["epochs"]],
        "fitness": {p: [(h["best"], h["mean"], h["worst"], h["sigma"]) for h in ctrl[p]["history"]] for p in ("dream", "real")},
        "rescored": [ctrl["dream"]["rescored"], ctrl["real"]["rescored"]],
        "games": ev["agent"]["episodes"],
    }


def shards(data_dir) -> list[dict[str, np.ndarray]]:
    return [load_shard(p) for p in shard_paths(data_dir, complete_manifest(data_dir))]


TINY_FLAGS = ["--dry-run", "--no-wandb", "--logging.progress", "false", "--data.num-rollouts", "4", "--data.num-envs", "4",
              "--data.max-steps-per-rollout", "60", "--data.episodes-per-shard", "2", "--controller.real-max-steps", "40",
              "--env.max-episode-frames", "800"]


@pytest.fixture(scope="module")
def again(dry_run, tmp_path_factory):
    """The dry_run fixture's config, run again from the command line in a fresh process."""
    cfg, _ = dry_run
    run = tmp_path_factory.mktemp("again") / "run"
    p = subprocess.run([sys.executable, "train_world_model.py", *TINY_FLAGS, "--run-dir", str(run)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads((run / "config.json").read_text()) == json.loads((cfg.run_path / "config.json").read_text()) | {
        "run_dir": str(run)}
    return run


@pytest.mark.slow
def test_same_seed_same_config_gives_identical_results_in_another_process(dry_run, again):
    cfg, _ = dry_run
    for a, b in zip(shards(cfg.run_path / "data"), shards(again / "data"), strict=True):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    assert outcome(cfg.run_path) == outcome(again)
    for phase in ("vae", "mdn_rnn", "controller"):
        wa, wb = load_file(str(cfg.run_path / phase / "model.safetensors")), load_file(str(again / phase / "model.safetensors"))
        assert all(torch.equal(wa[k], wb[k]) for k in wa), phase


@pytest.mark.slow
def test_another_seed_gives_other_results_on_the_same_evaluation_games(dry_run, tmp_path):
    import train_world_model

    cfg, _ = dry_run
    other = tiny_config(tmp_path, seed=1)
    train_world_model.main(other)
    a, b = outcome(cfg.run_path), outcome(other.run_path)
    assert not np.array_equal(shards(cfg.run_path / "data")[0]["actions"], shards(other.run_path / "data")[0]["actions"])
    for key in ("vae", "mdn_rnn", "fitness"):
        assert a[key] != b[key], key
    # Evaluation seeds come from eval.seed, not the training seed, and are recorded per game.
    ra, rb = (json.loads((r / "eval" / "results.json").read_text()) for r in (cfg.run_path, other.run_path))
    assert [g["seed"] for g in ra["agent"]["episodes"]] == [g["seed"] for g in rb["agent"]["episodes"]]
    assert ra["eval_seed"] == rb["eval_seed"] == cfg.eval.seed and (ra["train_seed"], rb["train_seed"]) == (0, 1)

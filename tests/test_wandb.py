"""wandb for real, in offline mode: the run directories exist and hold the logged keys, the config and
the model artefacts; ``--no-wandb`` never imports wandb."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, tiny_config

BLOCK, HEADER = 32768, 7


def read_records(path: Path) -> list:
    """The protobuf records of an offline ``run-*.wandb`` file (a LevelDB-style log of 32 KiB blocks)."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a wandb transaction log"
    pos, pending, records = HEADER, b"", []
    while pos + HEADER <= len(data):
        if BLOCK - pos % BLOCK < HEADER:  # block trailer padding
            pos += BLOCK - pos % BLOCK
            continue
        length, kind = int.from_bytes(data[pos + 4:pos + 6], "little"), data[pos + 6]
        chunk = data[pos + HEADER:pos + HEADER + length]
        pos += HEADER + length
        if kind == 0:
            continue
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):  # FULL or LAST
            rec = wandb_internal_pb2.Record()
            rec.ParseFromString(pending)
            records.append(rec)
    return records


def summarize_run(run_dir: Path) -> dict:
    import wandb

    wandb.teardown()  # wait until wandb's service has written every record (once seen: a run record not yet there)
    (log,) = run_dir.glob("run-*.wandb")
    keys, config, artifacts, name = set(), set(), [], None
    for rec in read_records(log):
        kind = rec.WhichOneof("record_type")
        if kind == "history":
            keys |= {item.key or "/".join(item.nested_key) for item in rec.history.item}
        elif kind == "config":
            config |= {item.key for item in rec.config.update}
        elif kind == "artifact":
            artifacts.append(rec.artifact.name)
        elif kind == "run":  # wandb.init's config travels with the run record
            name = rec.run.display_name
            config |= {item.key for item in rec.run.config.update}
    keys |= {k.removesuffix("/_type") for k in keys if k.endswith("/_type")}  # media: videos/x/_type -> videos/x
    return {"keys": keys, "config": config, "artifacts": artifacts, "name": name}


@pytest.mark.slow
def test_training_scripts_log_to_offline_wandb(tmp_path):
    import train_world_model

    cfg = tiny_config(tmp_path, **{"logging.wandb": True, "logging.wandb_mode": "offline"})
    train_world_model.main(cfg)
    runs = sorted((cfg.run_path / "wandb").glob("offline-run-*"))
    by_phase = {}
    for run in runs:
        info = summarize_run(run)
        phase = info["name"].split("__")[1]
        by_phase[phase] = info
        assert info["name"].startswith("SpaceInvaders-v5__") and info["name"].split("__")[2] == str(cfg.seed)
        assert {"vae", "mdn_rnn", "controller", "env", "seed"} <= info["config"]
        if phase != "world-models-evaluate":
            assert len(info["artifacts"]) == 1 and phase in info["artifacts"][0]
    assert set(by_phase) == {"vae", "mdn_rnn", "controller", "world-models-evaluate"}
    assert "eval/mean" in by_phase["world-models-evaluate"]["keys"]
    assert {"vae/epoch_recon", "vae/epoch_kl"} <= by_phase["vae"]["keys"]
    assert "mdn_rnn/epoch_nll" in by_phase["mdn_rnn"]["keys"]
    assert {"controller/dream_best", "controller/real_mean", "controller/real_env_frames"} <= by_phase["controller"]["keys"]
    # The JSONL logs are written whatever wandb does.
    assert (cfg.run_path / "logs" / "vae.jsonl").stat().st_size > 0


@pytest.mark.slow
def test_baseline_training_logs_to_offline_wandb(tmp_path):
    from conftest import tiny_baseline_config

    from baselines.training import train
    from utils.run_paths import RunPaths

    cfg = tiny_baseline_config(tmp_path, **{"logging.wandb": True, "logging.wandb_mode": "offline"})
    train(cfg, "ppo")
    (run,) = (RunPaths.of(cfg).baseline("ppo") / "wandb").glob("offline-run-*")
    info = summarize_run(run)
    assert info["name"].split("__")[1] == "ppo"
    assert {"train/episode_return", "train/env_frames", "eval/mean", "eval/env_frames"} <= info["keys"]
    assert info["artifacts"] and "ppo" in info["artifacts"][0]


@pytest.mark.slow
def test_no_wandb_never_imports_it(tmp_path):
    code = ("import sys, train_world_model; "
            "sys.exit(train_world_model.cli("
            f"['--dry-run', '--no-wandb', '--run-dir', r'{tmp_path / 'run'}', '--logging.progress', 'false']) "
            "or 10 * ('wandb' in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.slow
def test_evaluation_and_visuals_log_media_to_offline_wandb(dry_run, tmp_path):
    import shutil

    import evaluate

    cfg, _ = dry_run
    run = tmp_path / "run"
    shutil.copytree(cfg.run_path, run, ignore=shutil.ignore_patterns("wandb"))
    flags = ["--dry-run", "--run-dir", str(run), "--env.max-episode-frames", "800", "--logging.progress", "false",
             "--logging.wandb", "true", "--logging.wandb-mode", "offline"]
    assert evaluate.cli([*flags, "--record-video", "--reference"]) == 0
    assert evaluate.cli([*flags, "--visualize"]) == 0
    infos = {summarize_run(r)["name"].split("__")[1]: summarize_run(r) for r in (run / "wandb").glob("offline-run-*")}
    assert {"eval/mean", "eval/random_mean", "videos/world_models-episode-0"} <= infos["world-models-evaluate"]["keys"]
    assert {"videos/dream_vs_reality", "charts/recon_grid", "charts/mdn_horizon", "mdn_rnn/nll_per_dim"} <= infos["world-models-visualize"]["keys"]

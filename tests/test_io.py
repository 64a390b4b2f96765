"""Atomic writes: a failure while saving (the disk filling up) keeps the previous file and says so."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
import torch

import utils.io as io_mod
from models.controller import Controller
from utils.io import UserError, atomic_write_json, load_weights, save_model


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_while_saving_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    old = Controller(4, 8, 3)
    save_model(old, tmp_path / "ctrl", old.config(), "controller")
    new = Controller(4, 8, 3)
    with torch.no_grad():
        for p in new.parameters():
            p.add_(1.0)
    monkeypatch.setattr(io_mod, "save_file", _disk_full)
    with pytest.raises(UserError, match="disk filled up while writing .*model.safetensors; the previous version"):
        save_model(new, tmp_path / "ctrl", new.config(), "controller")
    survivor = load_weights(Controller(4, 8, 3), tmp_path / "ctrl", "controller")
    for a, b in zip(survivor.state_dict().values(), old.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    assert sorted(p.name for p in (tmp_path / "ctrl").iterdir()) == ["config.json", "model.safetensors"]  # no temp files


def test_disk_full_while_writing_json_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    atomic_write_json(path, {"epoch": 1})
    monkeypatch.setattr(Path, "write_bytes", _disk_full)
    with pytest.raises(UserError, match="disk filled up"):
        atomic_write_json(path, {"epoch": 2})
    assert json.loads(path.read_text()) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_unwritable_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot write"):
        atomic_write_json(blocker / "sub" / "out.json", {})


def test_a_nan_loss_stops_with_the_phase_and_step_and_keeps_the_last_good_epoch(tmp_path, monkeypatch, capsys):
    from conftest import tiny_config

    import train_vae
    from models.vae import ConvVAE

    cfg = tiny_config(tmp_path, **{"vae.num_epochs": 3})
    real_loss = ConvVAE.compute_loss
    calls = {"n": 0}
    steps_per_epoch_box = [10**9]  # learnt below from a clean one-epoch run on the same data

    def poisoned(self, frames, *a, **k):
        loss, metrics = real_loss(self, frames, *a, **k)
        calls["n"] += 1
        if calls["n"] > steps_per_epoch_box[0]:  # the whole first epoch is fine, the second goes NaN
            loss = loss * float("nan")
        return loss, metrics

    monkeypatch.setattr(ConvVAE, "compute_loss", poisoned)
    argv = ["--dry-run", "--run-dir", str(cfg.run_path), "--vae.num-epochs", "1", "--logging.progress", "false",
            "--data.num-rollouts", "4", "--data.num-envs", "4", "--data.max-steps-per-rollout", "60",
            "--data.episodes-per-shard", "2", "--env.max-episode-frames", "800"]
    assert train_vae.cli(argv) == 0
    steps_per_epoch = calls["n"]
    (cfg.run_path / "vae" / "metrics.json").unlink()
    calls["n"], steps_per_epoch_box[0] = 0, steps_per_epoch
    argv[argv.index("--vae.num-epochs") + 1] = "3"
    assert train_vae.cli(argv) == 1
    err = capsys.readouterr().err
    assert "vae: loss became nan at epoch 2, step" in err and "last good checkpoint is kept" in err
    assert len(err.strip().splitlines()) == 1
    assert not (cfg.run_path / "vae" / "metrics.json").exists()  # the phase is not "done"
    vae = load_weights(ConvVAE(cfg.vae.latent_dim), cfg.run_path / "vae", "vae")  # epoch 1's weights
    assert all(torch.isfinite(t).all() for t in vae.state_dict().values())


def test_artefacts_follow_the_umask_not_0600(tmp_path):
    import os

    ctrl = Controller(4, 8, 3)
    save_model(ctrl, tmp_path / "ctrl", ctrl.config(), "controller")  # safetensors writes its file as 0600 itself
    umask = os.umask(0)
    os.umask(umask)
    for name in ("model.safetensors", "config.json"):
        assert (tmp_path / "ctrl" / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


@pytest.mark.parametrize("env, isa", [({}, "ALL"), ({"ONEDNN_MAX_CPU_ISA": "AVX2"}, "AVX2"),
                                      ({"DNNL_MAX_CPU_ISA": "AVX2_VNNI"}, "AVX2_VNNI"),
                                      ({"ONEDNN_MAX_CPU_ISA": "AVX2", "DNNL_MAX_CPU_ISA": "AVX512_CORE"}, "AVX2")])
def test_cpu_kernels_records_the_onednn_limit_the_environment_sets(monkeypatch, env, isa):
    from utils.common import cpu_kernels
    for name in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cpu_kernels()["onednn_max_cpu_isa"] == isa

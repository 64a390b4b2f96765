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

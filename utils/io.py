"""Atomic file writes and safe model checkpoints (safetensors weights + a JSON config beside them)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file


class UserError(RuntimeError):
    """An expected failure (bad input, missing file): shown as one line, exit code 1."""


def _tmp_path(path: Path) -> Path:
    # The real suffix last: writers that pick a format from it (ffmpeg) or append it (SB3's .zip) see it.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 would make every artefact private
    return Path(tmp)


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed into place, so a
    kill at any moment leaves the old file or the new one, never a torn one."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _tmp_path(path)
    except OSError as e:
        raise UserError(f"cannot write {path} ({e.strerror}); check the path and its permissions") from None
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise UserError(f"the disk filled up while writing {path}; the previous version (if any) is kept: "
                            "free some space and rerun the same command") from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path | str, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: Path | str, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: Path | str, what: str) -> Any:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} not found: {path}")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{what} is corrupt ({path}: {e}); delete it and rerun the phase that makes it") from None


WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


def save_model(model: torch.nn.Module, directory: Path | str, config: dict[str, Any], kind: str) -> None:
    """Save weights as safetensors and ``config.json`` (the constructor kwargs plus ``model_type``).

    The layout is the one huggingface_hub's ``PyTorchModelHubMixin`` reads and writes.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(directory / WEIGHTS_NAME) as tmp:
        save_file(state, str(tmp), metadata={"model_type": kind})
    atomic_write_json(directory / CONFIG_NAME, {"model_type": kind, **config})


def load_model_config(directory: Path | str, kind: str) -> dict[str, Any]:
    directory = Path(directory)
    cfg = read_json(directory / CONFIG_NAME, f"{kind} config")
    if cfg.get("model_type") != kind:
        raise UserError(
            f"{directory} holds a {cfg.get('model_type', 'unknown')!r} checkpoint, not a {kind!r} one"
        )
    return {k: v for k, v in cfg.items() if k != "model_type"}


def load_weights(model: torch.nn.Module, directory: Path | str, kind: str) -> torch.nn.Module:
    """Load safetensors weights (no pickle) into ``model``, with clear errors on mismatch or corruption."""
    path = Path(directory) / WEIGHTS_NAME
    if not path.is_file():
        raise UserError(f"{kind} weights not found: {path}")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{kind} weights are corrupt ({path}: {e}); retrain that phase") from None
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        raise UserError(f"{kind} weights at {path} do not match the model: {first[1].strip() if len(first) > 1 else first[0]}") from None
    return model

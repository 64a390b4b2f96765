"""Atomic file writes and safe model checkpoints (safetensors weights + a JSON config beside them)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from utils.run_paths import TRAINED_BY  # the script that (re)makes each kind of checkpoint, for error messages


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
        raise UserError(f"cannot write {path} ({_why(path, e)}); check the path and its permissions") from None
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)  # again: some writers (safetensors) recreate the file as 0600
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


def _why(path: Path, e: OSError) -> str:
    """The reason a path cannot be written, naming a file that stands where a folder must be."""
    for parent in path.parents:
        if parent.exists():
            return f"{parent} is a file, not a folder" if not parent.is_dir() else str(e.strerror)
    return str(e.strerror)


def check_writable_dir(directory: Path | str, flag: str) -> Path:
    """Create ``directory`` if needed and prove a file can be written in it, before any long work
    whose results would go there; a one-line error naming ``flag`` otherwise."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _tmp_path(directory / "write_test").unlink()
    except OSError as e:
        raise UserError(f"{flag} {directory} cannot be written ({_why(directory / 'x', e)}); pass a writable path") from None
    return directory


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path | str, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: Path | str, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: Path | str, what: str, fix: str = "delete it and rerun the phase that makes it") -> Any:
    """A JSON file, or a one-line error naming it and saying what to do (``fix``)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} not found: {path}")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{what} is corrupt ({path}: {e}); {fix}") from None


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


def _retrain(kind: str) -> str:
    script = TRAINED_BY.get(kind)
    return f"retrain it with {script} --restart" if script else "retrain it"


def load_model_config(directory: Path | str, kind: str) -> dict[str, Any]:
    directory = Path(directory)
    path = directory / CONFIG_NAME
    if not path.is_file():
        raise UserError(f"no {kind} checkpoint in {directory} ({CONFIG_NAME} missing); "
                        f"train it first ({TRAINED_BY.get(kind, 'its training script')}) or check the path")
    cfg = read_json(path, f"{kind} config", fix=_retrain(kind))
    if not isinstance(cfg, dict) or cfg.get("model_type") != kind:
        found = cfg.get("model_type", "unknown") if isinstance(cfg, dict) else "unknown"
        raise UserError(f"{directory} holds a {found!r} checkpoint, not a {kind!r} one; "
                        f"point to the {kind} folder or {_retrain(kind)}")
    return {k: v for k, v in cfg.items() if k != "model_type"}


def load_weights(model: torch.nn.Module, directory: Path | str, kind: str) -> torch.nn.Module:
    """Load safetensors weights (no pickle) into ``model``, with clear errors on mismatch or corruption."""
    path = Path(directory) / WEIGHTS_NAME
    if not path.is_file():
        raise UserError(f"{kind} weights not found: {path}; {_retrain(kind)}")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(f"{kind} weights {path} are corrupt or truncated ({str(e).splitlines()[0][:100]}); "
                        f"{_retrain(kind)}") from None
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise UserError(f"{kind} weights {path} do not match the sizes in its {CONFIG_NAME} ({_first_mismatch(str(e))}); "
                        f"{_retrain(kind)}") from None
    return model


def _first_mismatch(message: str) -> str:
    """torch's many-line load_state_dict error, as one short clause."""
    m = re.search(r"size mismatch for (\S+): copying a param with shape torch.Size\((\[.*?\])\) from checkpoint, "
                  r"the shape in current model is torch.Size\((\[.*?\])\)", message)
    if m:
        return f"{m.group(1)} is {m.group(2)} in the file, {m.group(3)} in the model"
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return (lines[1] if len(lines) > 1 else lines[0])[:160]

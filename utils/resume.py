"""Resume state of a training phase, so a killed run loses at most its current epoch or generation.

A phase writes ``<out>/resume.pt`` after every epoch (VAE, MDN-RNN: model, optimizer and RNG states)
or generation (CMA-ES: every generation's fitness values, from which the optimizer is rebuilt
exactly), atomically, and deletes it once ``metrics.json`` marks the phase done. The file holds only
tensors, numbers and strings and is read with ``torch.load(weights_only=True)``: nothing is unpickled.
Each state carries the signature of the config (and inputs) that made it; resuming under another
one is refused with a message, since the result would be neither run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from utils.io import UserError, atomic_path

RESUME_NAME = "resume.pt"


def file_digest(path: Path) -> str:
    """The first 16 hex digits of a file's sha256: ties a state to the exact weights it was made from."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def diff(a: Any, b: Any, old: str = "then", new: str = "now", prefix: str = "") -> list[str]:
    """``key: a_value <old> vs b_value <new>`` for every leaf that differs between two nested dicts."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += diff(a.get(k), b.get(k), old, new, f"{prefix}{k}.")
        return out
    return [] if a == b else [f"{prefix.rstrip('.')}: {a!r} {old} vs {b!r} {new}"]


@contextlib.contextmanager
def phase_lock(out: Path, phase: str) -> Iterator[None]:
    """Lock the phase's folder while it trains, so that a second process started on the same run
    directory stops with a message instead of interleaving its checkpoints with the first's. The
    lock is on the folder itself (no lock file to leave behind) and the operating system drops it
    when the holder dies, even by SIGKILL. Temporary files a killed writer left there are removed."""
    import fcntl

    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another process is training {phase} in {out}; wait for it to finish, "
                            "or use another --run-dir") from None
        remove_stale_temps(out)
        yield
    finally:
        os.close(fd)  # releases the lock


def remove_stale_temps(directory: Path) -> None:
    """Delete the temporary files a killed writer left in ``directory`` (``utils.io.atomic_path``
    names them ``.<name>.<random>.tmp<suffix>``); call it only while holding the phase's lock."""
    for tmp in directory.glob(".*.tmp*"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)


def save_state(out: Path, state: dict[str, Any]) -> None:
    """Write ``out/resume.pt`` atomically (the old state or the new one survives a kill)."""
    with atomic_path(out / RESUME_NAME) as tmp:
        torch.save(state, tmp)


def load_state(out: Path, phase: str, signature: dict[str, Any], restart: bool) -> dict[str, Any] | None:
    """The saved state of an interrupted ``phase`` in ``out``, or None to start fresh.

    ``--restart`` deletes it. A corrupt file or one made under a different ``signature`` is a
    one-line error (nothing is deleted: the user decides).
    """
    path = out / RESUME_NAME
    if restart:
        path.unlink(missing_ok=True)
        return None
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        saved = json.loads(state["signature"])
    except Exception as e:  # truncated zip, foreign pickle (refused by weights_only), missing keys
        raise UserError(f"{phase} resume state {path} is unreadable ({type(e).__name__}); "
                        "delete it or pass --restart to start the phase over") from None
    if diffs := diff(saved, signature):
        raise UserError(f"{path} was saved by a {phase} run with a different config ({'; '.join(diffs[:3])}); "
                        "rerun with the original settings to resume, or pass --restart to start over")
    return state


def clear_state(out: Path) -> None:
    (out / RESUME_NAME).unlink(missing_ok=True)


def rng_state(rng: np.random.Generator) -> str:
    return json.dumps(rng.bit_generator.state)


def set_rng_state(rng: np.random.Generator, state: str) -> None:
    rng.bit_generator.state = json.loads(state)


def trim_log(path: Path, last_step: int) -> None:
    """Drop log lines written after ``last_step`` (by the part of a run that was lost, a line cut by
    the kill included), so a resumed run's log has every step once; ``last_step=0`` empties it."""
    from utils.io import atomic_write_text
    from utils.logger import read_log

    if path.exists():
        keep = [r for r in read_log(path) if r.get("step", 0) <= last_step]
        atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in keep))


def signature_of(section: Any, *ignore: str) -> dict[str, Any]:
    """A config section as a dict (minus fields that may change on resume, e.g. the epoch count)."""
    from dataclasses import asdict

    return {k: v for k, v in asdict(section).items() if k not in ignore}


# --------------------------------------------------------------------------- epoch-trained phases


def save_epoch(out: Path, signature: dict[str, Any], model: torch.nn.Module, optimizer: torch.optim.Optimizer,
               rng: np.random.Generator, epochs_done: int, step: int, history: list[dict], seconds: float) -> None:
    """Everything the next epoch depends on: weights, optimizer moments, the batch RNG and torch's RNG."""
    state = {
        "signature": json.dumps(signature), "epochs_done": epochs_done, "step": step, "seconds": seconds,
        "history": json.dumps(history), "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(), "np_rng": rng_state(rng), "torch_rng": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    save_state(out, state)


def restore_epoch(state: dict[str, Any], model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                  rng: np.random.Generator) -> tuple[int, int, list[dict], float]:
    """Load a ``save_epoch`` state in place; returns (epochs done, step, history, seconds so far)."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    set_rng_state(rng, state["np_rng"])
    torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    return int(state["epochs_done"]), int(state["step"]), json.loads(state["history"]), float(state["seconds"])

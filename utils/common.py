"""Small runtime helpers shared by every script: device, seeding, phase bookkeeping, the training loop."""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from config import Config
from utils.io import UserError, atomic_write_text, check_writable_dir, read_json


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for, but no CUDA device is available")
    return torch.device(name)


def train_seed_of(run: Path, default: int) -> int:
    """The seed a run was trained with (its config.json), or ``default`` where that cannot be read."""
    try:
        return int(json.loads((run / "config.json").read_text())["seed"])
    except (OSError, ValueError, KeyError, TypeError):
        return default


def cpu_kernels() -> dict[str, str]:
    """The CPU kernels torch uses: results of a seed are identical on one CPU, but AVX-512 and AVX2 kernels round
    differently (README, Reliability). ``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2`` picks AVX2's anywhere;
    oneDNN's "ALL" (its default) is the best the CPU has. A run resumed on another machine records the last one."""
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "ALL"  # DNNL_: oneDNN's older name
    return {"aten": torch.backends.cpu.get_cpu_capability(), "onednn_max_cpu_isa": isa}


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def prepare_run_dir(cfg: Config, run: Path | None = None) -> Path:
    """Create the run directory (default ``cfg.run_path``) or stop with a clear error if it cannot be
    written. Call it once the phase's inputs are checked, so a failing command creates nothing."""
    return check_writable_dir(run or cfg.run_path, "--run-dir")


def record_config(cfg: Config, run: Path) -> None:
    """Save the resolved config in the run directory when a phase starts its real work (a command
    that fails on its inputs leaves the previous one in place)."""
    atomic_write_text(run / "config.json", json.dumps(cfg.to_dict(), indent=2))


def finished_phase(out: Path, phase: str, restart: bool) -> dict | None:
    """The metrics of a phase already completed in ``out`` (reused unless --restart), else None."""
    metrics = out / "metrics.json"
    if metrics.exists() and not restart:
        print(f"[{phase}] {out} already trained; reusing it (pass --restart to retrain)")
        return read_json(metrics, f"{phase} metrics")
    if metrics.exists():  # --restart: the phase is no longer done, so a kill midway cannot leave old metrics beside new weights
        metrics.unlink()
    return None


def action_share(counts: np.ndarray) -> np.ndarray:
    """(A,) action counts -> (A,) shares of all actions taken (zeros when none were)."""
    return counts / max(1, counts.sum())


def top_action_share(counts: np.ndarray) -> dict[str, float]:
    """``{"top_action_share": s}`` for a discrete game's action counts; ``{}`` for a continuous game's summed
    action vectors (float), which have no top action."""
    counts = np.asarray(counts)
    return {} if counts.dtype.kind == "f" else {"top_action_share": float(action_share(counts).max())}


class Timer:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.t0


def train_epochs(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    epochs: Iterable[int],
    batches: Callable[[int], Iterable[Any]],
    loss_fn: Callable[[Any], tuple[torch.Tensor, dict[str, float]]],
    phase: str,
    logger: Any,
    grad_clip: float = 0.0,
    progress: bool = True,
    total_batches: int | None = None,
    on_epoch_end: Callable[[int, dict[str, float], int], None] | None = None,
    first_step: int = 0,
) -> list[dict[str, float]]:
    """The one training loop of the VAE and the MDN-RNN: per-epoch mean metrics, NaN-guarded.

    ``on_epoch_end(epoch, summary, step)`` runs after each epoch (the place to checkpoint); a resumed
    run passes the epochs still to do and the step count reached (``first_step``) so logs continue.
    """
    from tqdm import tqdm

    history = []
    step = first_step
    for epoch in epochs:
        model.train()
        sums: dict[str, float] = {}
        n = 0
        t0 = time.perf_counter()
        bar = tqdm(batches(epoch), total=total_batches, desc=f"{phase} epoch {epoch + 1}", disable=not progress, leave=False)
        for batch in bar:
            loss, metrics = loss_fn(batch)
            if not math.isfinite(loss.item()):
                raise UserError(f"{phase}: loss became {loss.item()} at epoch {epoch + 1}, step {step}; "
                                "the last good checkpoint is kept; lower the learning rate")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            for k, v in metrics.items():
                sums[k] = sums.get(k, 0.0) + v
            n += 1
            step += 1
            if step % 20 == 0:
                bar.set_postfix({k: f"{v:.3g}" for k, v in metrics.items()})
                logger.log({f"{phase}/{k}": v for k, v in metrics.items()}, step=step)
        if n == 0:
            raise UserError(f"{phase}: no training batches (too little data for the batch size?)")
        summary = {k: v / n for k, v in sums.items()}
        summary.update(epoch=epoch + 1, steps=n, seconds=time.perf_counter() - t0)
        history.append(summary)
        logger.log({f"{phase}/epoch_{k}": v for k, v in summary.items()}, step=step)
        if on_epoch_end:
            on_epoch_end(epoch, summary, step)
    return history

"""Metrics logging: always a JSONL file in the run directory; wandb only when asked (imported lazily)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from config import Config
from utils.io import UserError


def run_name(cfg: Config, algo: str) -> str:
    """``{env}__{algo}__{seed}__{time}`` as CleanRL names runs."""
    return f"{cfg.env.env_id.split('/')[-1]}__{algo}__{cfg.seed}__{int(time.time())}"


class RunLogger:
    """Writes ``<run_dir>/logs/<phase>.jsonl`` (one JSON object per call) and mirrors to wandb if enabled.

    ``log(..., stream=name)`` writes to ``logs/<name>.jsonl`` instead, with wandb keys ``<name>/<key>``.
    Files are opened (for appending) at their first record: a phase can start wandb early, so that a
    wandb problem shows at once, and still check its inputs before it touches the run's logs.
    """

    def __init__(self, cfg: Config, phase: str, run_dir: Path, algo: str | None = None, wandb_prefix: str = ""):
        self.path = run_dir / "logs" / f"{phase}.jsonl"
        self._streams: dict[str | None, Any] = {}  # open files; None: the phase's own
        self.wandb_prefix = wandb_prefix  # wandb key group of the main file's metrics (e.g. "train")
        self.wandb_run = None
        if cfg.logging.wandb:
            try:
                import wandb
            except ImportError:
                raise UserError("wandb is not installed; install it or pass --no-wandb") from None
            try:
                self.wandb_run = wandb.init(
                    project=cfg.logging.wandb_project,
                    entity=cfg.logging.wandb_entity or None,
                    name=run_name(cfg, algo or phase),
                    group=run_name(cfg, algo or "world-models").rsplit("__", 1)[0],
                    config=cfg.to_dict(),
                    mode=cfg.logging.wandb_mode,
                    dir=str(run_dir),
                    reinit="create_new",
                )
            except Exception as e:  # wandb raises many kinds of errors for auth/network problems
                raise UserError(f"wandb could not start ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
                                "check the network and `wandb login`, or use --logging.wandb_mode offline or --no-wandb") from None

    def log(self, metrics: dict[str, Any], step: int | None = None, stream: str | None = None) -> None:
        record = {"time": round(time.time(), 3), **({"step": step} if step is not None else {}), **metrics}
        if stream is not None:
            metrics = {f"{stream}/{k}": v for k, v in metrics.items()}
        elif self.wandb_prefix:
            metrics = {f"{self.wandb_prefix}/{k}": v for k, v in metrics.items()}
        if stream not in self._streams:
            path = self.path if stream is None else self.path.parent / f"{stream}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            self._streams[stream] = open(path, "a", buffering=1)
        f = self._streams[stream]
        f.write(json.dumps(record, default=_plain) + "\n")
        if self.wandb_run is not None:
            self.wandb_run.log(metrics, step=step)

    def log_artifact(self, folder: Path, name: str, kind: str = "model",
                     patterns: tuple[str, ...] = ("model.safetensors", "config.json")) -> None:
        """Upload the model files in ``folder`` as a wandb artifact (nothing without wandb)."""
        if self.wandb_run is None:
            return
        import wandb

        artifact = wandb.Artifact(f"{self.wandb_run.name}__{name}".replace("/", "-"), type=kind)
        for pattern in patterns:
            for path in sorted(folder.glob(pattern)):
                artifact.add_file(str(path), name=path.name)
        self.wandb_run.log_artifact(artifact)

    def close(self) -> None:
        for f in self._streams.values():
            f.close()
        self._streams.clear()
        if self.wandb_run is not None:
            self.wandb_run.finish()
            self.wandb_run = None

    def __enter__(self) -> RunLogger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _plain(value: Any) -> Any:
    """JSON for numpy scalars; media objects (wandb images, videos) are named, not dumped."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return f"<{type(value).__name__}>"


def read_log(path: Path) -> list[dict[str, Any]]:
    """The records of a JSONL log; a line cut short (the run was killed while writing it) is skipped."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records

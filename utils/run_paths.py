"""The run folder's layout in one place: every script finds its inputs and outputs through ``RunPaths``.

    runs/<Game>__<preset>__seed<seed>/
        config.json  summary.json  latents.npz (+ latents.json)
        data/        shards + manifest.json (or --data.dir)
        vae/  mdn_rnn/  controller/ (controller/dream/)   model.safetensors + config.json + metrics.json
        eval/results.json  videos/  visuals/  logs/<phase>.jsonl
        baselines/<algo>/  (see baselines/training.py)

A published World Models folder has the same vae/, mdn_rnn/ and controller/ subfolders, so
``RunPaths(folder)`` reads it too. This module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The world model's checkpoint folders (also the phase names) and the script that trains each.
PHASES = ("vae", "mdn_rnn", "controller")
TRAINED_BY = {"vae": "train_vae.py", "mdn_rnn": "train_mdn_rnn.py", "controller": "train_controller.py"}


@dataclass(frozen=True)
class RunPaths:
    root: Path
    data: Path  # shards and manifest.json; <root>/data unless --data.dir says otherwise

    def __init__(self, root: Path | str, data: Path | str | None = None):
        object.__setattr__(self, "root", Path(root))
        object.__setattr__(self, "data", Path(data) if data else Path(root) / "data")

    @classmethod
    def of(cls, cfg: Any) -> RunPaths:
        """The run folder of a :class:`config.Config` (``--run-dir``, else named after game, preset and seed)."""
        return cls(cfg.run_path, cfg.data_path)

    def phase(self, name: str) -> Path:
        """A world-model phase's folder: vae, mdn_rnn or controller."""
        return self.root / name

    @property
    def vae(self) -> Path:
        return self.root / "vae"

    @property
    def mdn_rnn(self) -> Path:
        return self.root / "mdn_rnn"

    @property
    def controller(self) -> Path:
        return self.root / "controller"

    @property
    def dream_controller(self) -> Path:
        """The controller as it left the dream, before any real-game training."""
        return self.controller / "dream"

    @property
    def manifest(self) -> Path:
        return self.data / "manifest.json"

    @property
    def latents(self) -> Path:
        return self.root / "latents.npz"

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def eval_results(self) -> Path:
        return self.root / "eval" / "results.json"

    @property
    def videos(self) -> Path:
        return self.root / "videos"

    @property
    def visuals(self) -> Path:
        return self.root / "visuals"

    def log(self, phase: str) -> Path:
        return self.root / "logs" / f"{phase}.jsonl"

    def baseline(self, algo: str) -> Path:
        """``baselines/<algo>/``: an SB3 baseline's checkpoints, logs and results."""
        return self.root / "baselines" / algo

    @property
    def baselines_summary(self) -> Path:
        return self.root / "baselines" / "summary.json"

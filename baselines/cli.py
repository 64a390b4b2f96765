"""``python -m baselines.<algo> --mode train|eval``: one algorithm's command line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from baselines.training import evaluate_checkpoint, train
from config import Config
from utils.cli import run_cli

SECTIONS = ("eval", "baselines")


@dataclass
class AlgoOptions:
    mode: Literal["train", "eval"] = "train"
    """train (then score the best checkpoint) or only evaluate an existing checkpoint."""
    checkpoint: Literal["best", "final"] = "best"
    """The checkpoint --mode eval plays."""


def shorthands(algo: str) -> dict[str, tuple[str, str]]:
    return {
        "--num-episodes": (f"{algo}.num_episodes", "stop training after this many full games"),
        "--total-timesteps": (f"{algo}.total_timesteps", "agent steps to train (replaces the frame budget)"),
        "--eval-episodes": ("eval.num_episodes", "seeded full games for --mode eval"),
        "--frame-budget": ("baselines.frame_budget", "training budget in emulator frames"),
    }


def algo_main(algo: str, doc: str, argv: list[str] | None = None) -> int:
    def main(cfg: Config, opts: AlgoOptions) -> dict:
        if opts.mode == "train":
            train(cfg, algo)
        return evaluate_checkpoint(cfg, algo, opts.checkpoint, cfg.eval.record_video)

    return run_cli(main, argv, doc, (*SECTIONS, algo), shorthands(algo), AlgoOptions)

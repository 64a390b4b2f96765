"""Train the model-free baselines (DDQN, PPO, discrete SAC) on the same game and frame budget.

    python train_baselines.py                                    # all three, baselines.frame_budget each
    python train_baselines.py --algorithms ddqn ppo --frame-budget 1000000
    python train_baselines.py --ddqn-episodes 50 --sac-episodes 50 --ppo-timesteps 200000

Each algorithm trains in ``<run_dir>/baselines/<algo>/`` (final and best checkpoints, a training log
of raw game scores vs emulator frames, periodic validation scores), then its best checkpoint plays
eval.num_episodes seeded full games. One failing algorithm does not stop the others; the exit code
is non-zero if any failed. Compare them all with ``compare_baselines.py``.
"""

from __future__ import annotations

import utils.omp  # noqa: F401  (first: sets GOMP_SPINCOUNT before torch loads OpenMP)

# isort: split

import sys
import traceback
from dataclasses import dataclass, field

from baselines.checkpoints import ALGORITHMS
from baselines.training import evaluate_checkpoint, train
from config import Config
from utils.cli import run_cli
from utils.common import Timer
from utils.io import UserError, atomic_write_json
from utils.run_paths import RunPaths

SHORTHANDS = {
    "--ddqn-episodes": ("ddqn.num_episodes", "stop DDQN after this many training games"),
    "--sac-episodes": ("sac.num_episodes", "stop SAC after this many training games"),
    "--ppo-timesteps": ("ppo.total_timesteps", "PPO agent steps (replaces the frame budget for PPO)"),
    "--frame-budget": ("baselines.frame_budget", "training budget of every algorithm in emulator frames"),
    "--eval-episodes": ("eval.num_episodes", "seeded full games to score each best checkpoint"),
}

# The config sections this script reads (its --help shows them, with env, logging and the run's fields).
SECTIONS = ("eval", "baselines", *ALGORITHMS)


def parse_algorithms(names: list[str], continuous: bool = False) -> list[str]:
    """``all`` is every algorithm the game's actions allow (a continuous game: PPO and SAC, not DDQN)."""
    if names == ["all"]:
        if continuous:
            print("[baselines] continuous actions: all = ppo, sac (DDQN needs discrete actions)")
            return [a for a in ALGORITHMS if a != "ddqn"]
        return list(ALGORITHMS)
    bad = [n for n in names if n not in ALGORITHMS]
    if bad:
        raise UserError(f"unknown algorithm(s) {', '.join(bad)} in --algorithms; choose from all, {', '.join(ALGORITHMS)}")
    return list(dict.fromkeys(names))


@dataclass
class BaselinesOptions:
    algorithms: list[str] = field(default_factory=lambda: ["all"], metadata={"metavar": "ALGO"})
    """all (a continuous game: ppo and sac), or any of ddqn, ppo, sac."""


def main(cfg: Config, opts: BaselinesOptions | None = None) -> dict:
    algos = parse_algorithms((opts or BaselinesOptions()).algorithms, continuous=not cfg.env.atari)
    summary: dict = {"algorithms": {}, "failed": {}}
    total = Timer()
    for algo in algos:
        print(f"\n[baselines] === {algo} ===")
        t = Timer()
        try:
            metrics = train(cfg, algo)
            results = evaluate_checkpoint(cfg, algo, "best", cfg.eval.record_video)
        except (UserError, RuntimeError, ValueError, OSError) as e:
            if cfg.logging.debug:
                traceback.print_exc()
            summary["failed"][algo] = str(e) if isinstance(e, UserError) else f"{type(e).__name__}: {e}"
            print(f"[baselines] {algo} failed: {e}")  # stdout: the one error line on stderr comes at the end
            continue
        a = results["agent"]
        summary["algorithms"][algo] = {"env_frames": metrics["env_frames"], "train_seconds": metrics["train_seconds"],
                                       "best_validation": metrics["best"]["validation_mean"], "eval_mean": a["mean"],
                                       "eval_std": a["std"], "eval_episodes": a["num_episodes"], "seconds": t.seconds}
    summary["seconds"] = total.seconds
    if summary["algorithms"]:
        atomic_write_json(RunPaths.of(cfg).baselines_summary, summary)
    print("\n[baselines] summary")
    for algo, s in summary["algorithms"].items():
        print(f"  {algo:<5} {s['eval_mean']:7.1f} +/- {s['eval_std']:6.1f} over {s['eval_episodes']} games; "
              f"{s['env_frames']:,} training frames in {s['train_seconds'] / 60:.1f} min")
    if summary["failed"]:
        raise UserError("; ".join(f"{k} failed: {v}" for k, v in summary["failed"].items()))
    return summary


def cli(argv: list[str] | None = None) -> int:
    return run_cli(main, argv, __doc__.splitlines()[0], sections=SECTIONS,
                   shorthands=SHORTHANDS, options=BaselinesOptions)


if __name__ == "__main__":
    sys.exit(cli())

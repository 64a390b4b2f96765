"""The whole World Models pipeline: data -> VAE -> MDN-RNN -> controller (dream, then real) -> evaluation.

    python train_world_model.py                      # default preset (CPU-sized)
    python train_world_model.py --dry-run --no-wandb # tiny sizes, whole pipeline in about a minute
    python train_world_model.py --preset paper       # the paper's sizes (days on a CPU)

Phases whose outputs already exist in the run directory are reused; ``--restart`` redoes them all.
"""

from __future__ import annotations

import utils.omp  # noqa: F401  (first: sets GOMP_SPINCOUNT before torch loads OpenMP)

# isort: split

import functools
import sys
from dataclasses import dataclass

import evaluate
import train_controller
import train_mdn_rnn
import train_vae
from config import Config
from utils.cli import run_cli
from utils.common import Timer
from utils.io import atomic_write_json
from utils.run_paths import RunPaths

# The config sections this script reads (its --help shows them, with env, logging and the run's fields).
SECTIONS = ("data", "vae", "mdn_rnn", "controller", "eval")


@dataclass
class WorldModelOptions:
    reference: bool = False
    """Also score a random policy and every constant action on the evaluation games."""


def main(cfg: Config, opts: WorldModelOptions | None = None) -> dict:
    opts = opts or WorldModelOptions()
    summary: dict = {}
    total = Timer()
    print(f"[world-models] preset {cfg.preset}, seed {cfg.seed}, run dir {cfg.run_path}")
    evaluation = functools.partial(evaluate.main, opts=evaluate.EvaluateOptions(reference=opts.reference))
    for name, phase in (("vae", train_vae.main), ("mdn_rnn", train_mdn_rnn.main), ("controller", train_controller.main),
                        ("evaluate", evaluation)):
        t = Timer()
        result = phase(cfg)
        summary[name] = {"seconds": round(t.seconds, 1)}
        if name == "vae":
            summary[name].update(recon=round(result["final_recon"], 2), kl=round(result["final_kl"], 2), frames=result["frames"])
        elif name == "mdn_rnn":
            summary[name].update(nll_per_dim=round(result["final_nll"], 3))
        elif name == "controller":
            for p in ("dream", "real"):
                if p in result:
                    summary[name][f"{p}_best"] = round(max(h["best"] for h in result[p]["history"]), 2)
        else:
            summary[name].update(mean=round(result["agent"]["mean"], 1), std=round(result["agent"]["std"], 1),
                                 episodes=result["agent"]["num_episodes"])
    summary["total_seconds"] = round(total.seconds, 1)
    atomic_write_json(RunPaths.of(cfg).summary, summary)
    print("\n[world-models] summary")
    for name, s in summary.items():
        if isinstance(s, dict):
            print(f"  {name:<11} " + "  ".join(f"{k}={v}" for k, v in s.items()))
    print(f"  total       {summary['total_seconds']}s  -> {cfg.run_path}")
    return summary


def cli(argv: list[str] | None = None) -> int:
    return run_cli(main, argv, __doc__.splitlines()[0], sections=SECTIONS,
                   options=WorldModelOptions)


if __name__ == "__main__":
    sys.exit(cli())

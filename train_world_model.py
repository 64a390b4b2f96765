"""The whole World Models pipeline: data -> VAE -> MDN-RNN -> controller (dream, then real) -> evaluation.

    python train_world_model.py                      # default preset (CPU-sized)
    python train_world_model.py --dry-run --no-wandb # tiny sizes, whole pipeline in about a minute
    python train_world_model.py --preset paper       # the paper's sizes (days on a CPU)
    python train_world_model.py --iterate.rounds 3 --iterate.frames_per_round 100000   # + iterative training

Phases whose outputs already exist in the run directory are reused; ``--restart`` redoes them all.
With ``--iterate.rounds N`` the first pass is followed by N rounds of real play with the current
controller, fine-tuning and dream training (see utils/iterate.py); the final agent is the last round's,
evaluated into ``rounds/round_<N>/eval/results.json``, and ``rounds/curve.json`` has its score against
real frames. Rounds resume like phases: a finished round is reused.
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
from utils import iterate
from utils.cli import run_cli
from utils.common import Timer, resolve_device
from utils.io import atomic_write_json
from utils.run_paths import RunPaths
from utils.world_model import WorldModel

# The config sections this script reads (its --help shows them, with env, logging and the run's fields).
SECTIONS = ("data", "vae", "mdn_rnn", "controller", "eval", "iterate", "rollout")


@dataclass
class WorldModelOptions:
    reference: bool = False
    """Also score a random policy and every constant action on the evaluation games."""


def _top(rec: dict) -> str:
    """A round's top action and its share (a continuous game: its mean action, already in ``top_action``)."""
    share = rec.get("top_action_share")
    return rec["top_action"] if share is None else f"{rec['top_action']} {share:.0%}"


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
    if cfg.iterate.rounds > 0:
        summary["rounds"] = iterate_rounds(cfg)
        last = iterate.round_config(cfg, cfg.iterate.rounds)
        result = evaluation(last)
        summary["final"] = {"round": cfg.iterate.rounds, "run_dir": last.run_dir, "mean": round(result["agent"]["mean"], 1),
                            "std": round(result["agent"]["std"], 1), "episodes": result["agent"]["num_episodes"],
                            "real_frames": summary["rounds"][-1]["real_frames_total"]}
    summary["total_seconds"] = round(total.seconds, 1)
    atomic_write_json(RunPaths.of(cfg).summary, summary)
    print("\n[world-models] summary")
    for name, s in summary.items():
        if name == "rounds":
            for r in s:
                print(f"  round {r['round']:<5} real_frames={r['real_frames_total']}  validation={r['validation_mean']:.1f}"
                      f"  top_action={_top(r)}")
        elif isinstance(s, dict):
            print(f"  {name:<11} " + "  ".join(f"{k}={v}" for k, v in s.items()))
    print(f"  total       {summary['total_seconds']}s  -> {cfg.run_path}")
    return summary


def iterate_rounds(cfg: Config) -> list[dict]:
    """Round 0 (the first pass) scored on the validation games, then rounds 1..N (utils/iterate.py)."""
    device = resolve_device(cfg.device)
    curve = []
    if (rec := iterate.finished_round(cfg.run_path, 0)) is None:
        rec = iterate.finish_round(cfg, 0, device, 0.0)
    curve.append(rec)
    print(f"[iterate] round 0 (first pass): {rec['real_frames_total']} real frames, validation {rec['validation_mean']:.1f}")
    for k in range(1, cfg.iterate.rounds + 1):
        if (rec := iterate.finished_round(cfg.run_path, k)) is not None:
            print(f"[iterate] round {k} already done; reusing it")
            curve.append(rec)
            continue
        t = Timer()
        rcfg = iterate.round_config(cfg, k)
        wm = WorldModel.load(iterate.round_dir(cfg.run_path, k - 1), device, env=cfg.env)
        collected = iterate.collect_round(cfg, k, wm, cfg.logging.progress)
        frames = sum(s["steps"] for s in collected["shards"]) * cfg.env.frameskip
        print(f"[iterate] round {k}: {sum(s['episodes'] for s in collected['shards'])} real games, {frames} frames "
              f"played by round {k - 1}'s controller (epsilon {cfg.iterate.epsilon})")
        iterate.assemble_round_data(cfg, k)
        if cfg.iterate.vae_epochs:
            train_vae.main(rcfg)
        else:
            iterate.keep_vae(cfg, k)
        train_mdn_rnn.main(rcfg)
        train_controller.main(rcfg)
        rec = iterate.finish_round(cfg, k, device, t.seconds)
        curve.append(rec)
        print(f"[iterate] round {k} done in {t.seconds:.0f}s: {rec['real_frames_total']} real frames in all, "
              f"validation {rec['validation_mean']:.1f} +/- {rec['validation_std']:.1f} ({_top(rec)})")
    return curve


def cli(argv: list[str] | None = None) -> int:
    return run_cli(main, argv, __doc__.splitlines()[0], sections=SECTIONS,
                   options=WorldModelOptions)


if __name__ == "__main__":
    sys.exit(cli())

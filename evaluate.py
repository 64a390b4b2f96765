"""Evaluate a trained World Models agent on seeded full games (optionally beside reference policies).

    python evaluate.py --num-episodes 30                    # the default run's agent
    python evaluate.py --run-dir runs/X --reference         # + random and every constant action
    python evaluate.py --record-video                       # + an mp4 of the first game

Games are full episodes of ALE/<Game>-v5 (sticky actions, no life-loss resets, raw score), episode
i seeded with ``eval.seed + i`` (independent of the training seed), played in parallel on the
vector env. Writes ``<run_dir>/eval/results.json``.
"""

from __future__ import annotations

import os

# Before torch loads OpenMP: idle OpenMP threads spin only briefly, so they do not steal the cores
# the emulator threads need (compare `GOMP_SPINCOUNT=300000 python bench.py`, libgomp's default).
os.environ.setdefault("GOMP_SPINCOUNT", "10000")

import argparse
import sys
from pathlib import Path

import numpy as np

from config import Config
from utils.agent import ConstantPolicy, RandomPolicy, WorldModel, WorldModelPolicy, record_video
from utils.common import Timer, cli_main, resolve_device, seed_everything
from utils.io import UserError, atomic_write_json, check_writable_dir
from utils.runner import Policy, run_episodes
from utils.wrappers import action_meanings


def summarize(returns: np.ndarray, lengths: np.ndarray, seeds: list[int]) -> dict:
    return {
        "mean": float(np.mean(returns)), "std": float(np.std(returns)), "median": float(np.median(returns)),
        "min": float(np.min(returns)), "max": float(np.max(returns)), "num_episodes": int(len(returns)),
        "mean_length": float(np.mean(lengths)),
        "episodes": [{"seed": int(s), "score": float(r), "length": int(n)} for s, r, n in zip(seeds, returns, lengths, strict=False)],
    }


def evaluate_policy(cfg: Config, policy: Policy, seeds: list[int]) -> dict:
    stats = run_episodes(cfg.env, policy, seeds)
    out = summarize(stats.returns, stats.lengths, seeds)
    share = stats.action_counts / max(1, stats.action_counts.sum())
    out["action_share"] = {n: round(float(s), 4) for n, s in zip(action_meanings(cfg.env), share, strict=True)}
    return out


def reference_policies(cfg: Config, seeds: list[int]) -> dict:
    """A uniform random policy and every constant action, on the same seeds."""
    names = action_meanings(cfg.env)
    out = {"random": evaluate_policy(cfg, RandomPolicy(len(names), cfg.eval.seed), seeds), "constant": {}}
    for a, name in enumerate(names):
        out["constant"][name] = evaluate_policy(cfg, ConstantPolicy(a), seeds)
    best = max(out["constant"], key=lambda k: out["constant"][k]["mean"])
    out["best_constant"] = {"action": best, **{k: out["constant"][best][k] for k in ("mean", "std", "min", "max")}}
    return out


def add_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("evaluate")
    g.add_argument("--reference", action="store_true", help="also evaluate a random policy and every constant action")
    g.add_argument("--output", default=None, help="results JSON path (default <run_dir>/eval/results.json)")
    g.add_argument("--controller", default=None,
                   help="controller checkpoint folder to play instead of <run_dir>/controller (e.g. <run_dir>/controller/dream)")
    g.add_argument("--visualize", action="store_true",
                   help="write what the model learned to <run_dir>/visuals/ (reconstructions, dream vs reality video, "
                        "MDN-RNN prediction vs horizon, latent PCA, training curves) instead of scoring games")
    g.add_argument("--run", dest="cfg:run_dir", default=None, metavar="DIR", help="same as --run-dir")
    g.add_argument("--from-hub", default=None, metavar="REPO_ID_OR_DIR",
                   help="play an agent published by publish_model.py: a Hub repo id (downloaded) or a local folder")


def hub_folder(source: str) -> Path:
    """A published agent's folder: ``source`` itself if it is a directory, else a Hub download."""
    if Path(source).is_dir():
        return Path(source)
    if source.count("/") != 1 or source.startswith(("/", ".")):
        raise UserError(f"--from-hub {source!r} is neither a folder nor a Hub repo id like user/name")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(source, repo_type="model"))
    except Exception as e:  # offline, unknown repo, no access
        raise UserError(f"could not download {source} from the Hub ({type(e).__name__}: {str(e).splitlines()[0][:160]}); "
                        "check the network and the repo id, or pass a local folder") from None


def evaluate_published(cfg: Config, source: str, output: str | None) -> dict:
    """``--from-hub``: play a published World Models or SB3 agent on seeded full games."""
    from config import EnvConfig
    from utils.io import read_json

    folder = hub_folder(source)
    published = read_json(folder / "config.json", f"config of the published agent in {folder}")
    agent = published.get("agent")
    if agent is None or "env" not in published:
        raise UserError(f"{folder} was not made by publish_model.py (config.json has no agent/env)")
    out = Path(output) if output else Path("runs") / "from_hub" / source.strip("/").replace("/", "__") / "results.json"
    check_writable_dir(out.parent, "--output")  # before the games, not after
    cfg.env = EnvConfig(**published["env"])  # play the game the agent was trained on
    seeds = [cfg.eval.seed + i for i in range(cfg.eval.num_episodes)]
    seed_everything(cfg.seed)
    timer = Timer()
    if agent == "world-models":
        wm = WorldModel.load(folder, resolve_device(cfg.device), env=cfg.env)
        res = evaluate_policy(cfg, WorldModelPolicy.from_world_model(wm), seeds)
    else:
        from baselines.common import evaluate_model, load_model

        zips = sorted(folder.glob(f"{agent}-*.zip"))
        if not zips:
            raise UserError(f"no {agent} checkpoint (.zip) in {folder}")
        deterministic = published.get(agent, {}).get("deterministic_eval", True)
        model = load_model(agent, zips[0])  # nothing in the file is unpickled
        res = evaluate_model(model, cfg.env, seeds, deterministic, cfg.baselines.eval_envs)
    res["seconds"] = timer.seconds
    results = {"env_id": cfg.env.env_id, "source": source, "agent": agent, "eval_seed": cfg.eval.seed, "agent_results": res}
    print(f"[eval] {agent} from {source}: mean {res['mean']:.1f} +/- {res['std']:.1f} (min {res['min']:.0f}, "
          f"max {res['max']:.0f}) over {res['num_episodes']} games")
    atomic_write_json(out, results)
    print(f"[eval] wrote {out}")
    return results


def main(cfg: Config) -> dict:
    args = getattr(cfg, "_args", argparse.Namespace(reference=False, output=None, controller=None, from_hub=None))
    if getattr(args, "from_hub", None):
        return evaluate_published(cfg, args.from_hub, args.output)
    run = cfg.run_path
    if getattr(args, "visualize", False):
        from utils.visualize import visualize_run

        if not run.is_dir():
            raise UserError(f"run directory {run} does not exist; train first or pass --run-dir")
        summary = visualize_run(cfg, run, resolve_device(cfg.device))
        print(f"[visualize] wrote {run / 'visuals'}/: {', '.join(summary['files'])}")
        if cfg.logging.wandb:
            visuals = run / "visuals"
            log_media_to_wandb(cfg, run, "visualize", {f"mdn_rnn/{k}": v for k, v in summary["mdn"].items()},
                               videos=sorted(visuals.glob("*.mp4")), images=sorted(visuals.glob("*.png")))
        return summary
    if not run.is_dir():
        raise UserError(f"run directory {run} does not exist; train first or pass --run-dir")
    out = Path(args.output) if args.output else run / "eval" / "results.json"
    check_writable_dir(out.parent, "--output" if args.output else "--run-dir")  # before the games, not after
    seed_everything(cfg.seed)
    device = resolve_device(cfg.device)
    wm = WorldModel.load(run, device, controller_dir=Path(args.controller) if args.controller else None, env=cfg.env)
    seeds = [cfg.eval.seed + i for i in range(cfg.eval.num_episodes)]
    timer = Timer()
    policy = WorldModelPolicy.from_world_model(wm)
    results = {"env_id": cfg.env.env_id, "run_dir": str(run), "controller": str(args.controller or run / "controller"), "eval_seed": cfg.eval.seed, "train_seed": cfg.seed,
               "protocol": "full games, sticky actions 0.25, frameskip 4, raw score, no life-loss resets",
               "agent": evaluate_policy(cfg, policy, seeds)}
    results["agent"]["seconds"] = timer.seconds
    a = results["agent"]
    top = max(a["action_share"], key=a["action_share"].get)
    print(f"[eval] agent: mean {a['mean']:.1f} +/- {a['std']:.1f} (min {a['min']:.0f}, max {a['max']:.0f}) "
          f"over {a['num_episodes']} games; mean length {a['mean_length']:.0f} steps; "
          f"top action {top} {a['action_share'][top]:.0%}")
    if args.reference:
        results["reference"] = ref = reference_policies(cfg, seeds)
        print(f"[eval] random: mean {ref['random']['mean']:.1f} +/- {ref['random']['std']:.1f}; best constant "
              f"({ref['best_constant']['action']}): mean {ref['best_constant']['mean']:.1f} +/- {ref['best_constant']['std']:.1f}")
    if cfg.eval.record_video:
        video, score, length = record_video(cfg.env, WorldModelPolicy.from_world_model(wm), seeds[0], run / "videos", "world_models")
        results["video"] = {"path": str(video), "seed": seeds[0], "score": score, "length": length}
        print(f"[eval] video: {video} (score {score:.0f}, {length} steps)")
    atomic_write_json(out, results)
    print(f"[eval] wrote {out}")
    if cfg.logging.wandb:
        a = results["agent"]
        metrics = {f"eval/{k}": a[k] for k in ("mean", "std", "median", "min", "max", "mean_length")}
        if "reference" in results:
            metrics.update({"eval/random_mean": results["reference"]["random"]["mean"],
                            "eval/best_constant_mean": results["reference"]["best_constant"]["mean"]})
        log_media_to_wandb(cfg, run, "evaluate", metrics, videos=[Path(results["video"]["path"])] if "video" in results else [])
    return results


def log_media_to_wandb(cfg: Config, run: Path, phase: str, metrics: dict, videos: list[Path] = (), images: list[Path] = ()) -> None:
    """One wandb run with metrics, videos (``videos/<name>``) and images (``charts/<name>``)."""
    import wandb

    from utils.logger import RunLogger

    logger = RunLogger(cfg, phase, run, algo=f"world-models-{phase}")
    try:
        media = {f"videos/{p.stem}": wandb.Video(str(p), format="mp4") for p in videos}
        media.update({f"charts/{p.stem}": wandb.Image(str(p)) for p in images})
        logger.log({**metrics, **media})
    finally:
        logger.close()


if __name__ == "__main__":
    sys.exit(cli_main(__doc__.splitlines()[0], main, extra_args=add_args))

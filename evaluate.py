"""Evaluate a trained World Models agent on seeded full games (optionally beside reference policies).

    python evaluate.py --num-episodes 30                    # the default run's agent
    python evaluate.py --run-dir runs/X --reference         # + random and every constant action
    python evaluate.py --record-video                       # + an mp4 of the first game

Games are full episodes of ALE/<Game>-v5 (sticky actions, no life-loss resets, raw score), episode
i seeded with ``eval.seed + i`` (independent of the training seed), played in parallel on the
vector env. Writes ``<run_dir>/eval/results.json``.
"""

from __future__ import annotations

import utils.omp  # noqa: F401  (first: sets GOMP_SPINCOUNT before torch loads OpenMP)

# isort: split

import sys
from dataclasses import dataclass, field
from pathlib import Path

from config import Config, EnvConfig
from utils.cli import run_cli
from utils.common import Timer, resolve_device, seed_everything, train_seed_of
from utils.evaluation import describe_actions, evaluate_on, record_video, reference_policies
from utils.hub import hub_folder
from utils.io import UserError, atomic_write_json, check_writable_dir, read_json
from utils.rollout import Models, controller_spec, make_engine
from utils.run_paths import RunPaths
from utils.world_model import WorldModel, WorldModelPolicy

# The config sections this script reads (its --help shows them, with env, logging and the run's fields).
SECTIONS = ("eval", "baselines", "rollout")


@dataclass
class EvaluateOptions:
    reference: bool = False
    """Also evaluate a random policy and every constant action on the same games."""
    output: str | None = None
    """Results JSON path (default <run_dir>/eval/results.json)."""
    controller: str | None = None
    """Controller checkpoint folder to play instead of <run_dir>/controller (e.g. <run_dir>/controller/dream)."""
    visualize: bool = False
    """Write what the model learned to <run_dir>/visuals/ (reconstructions, dream vs reality video, MDN-RNN
    prediction vs horizon, latent PCA, training curves) instead of scoring games."""
    from_hub: str | None = field(default=None, metadata={"metavar": "REPO_ID_OR_DIR"})
    """Play an agent published by publish_model.py: a Hub repo id (downloaded) or a local folder."""


def evaluate_published(cfg: Config, source: str, output: str | None) -> dict:
    """``--from-hub``: play a published World Models or SB3 agent on seeded full games."""
    folder = hub_folder(source)
    published = read_json(folder / "config.json", f"config of the published agent in {folder}")
    agent = published.get("agent")
    if agent is None or "env" not in published:
        raise UserError(f"{folder} was not made by publish_model.py (config.json has no agent/env)")
    out = Path(output) if output else Path("runs") / "from_hub" / source.strip("/").replace("/", "__") / "results.json"
    check_writable_dir(out.parent, "--output")  # before the games, not after
    cfg.env = EnvConfig(**published["env"])  # play the game the agent was trained on
    seeds = cfg.eval.seeds()
    seed_everything(cfg.seed)
    timer = Timer()
    if agent == "world-models":
        wm = WorldModel.load(folder, resolve_device(cfg.device), env=cfg.env)
        with make_engine(cfg, cfg.eval.num_envs or None, Models(wm.vae, wm.mdn)) as engine:
            res = evaluate_on(engine, controller_spec(wm), cfg.env, seeds)
    else:
        from baselines.checkpoints import load_model
        from baselines.training import evaluate_model

        zips = sorted(folder.glob(f"{agent}-*.zip"))
        if not zips:
            raise UserError(f"no {agent} checkpoint (.zip) in {folder}")
        deterministic = published.get(agent, {}).get("deterministic_eval", True)
        model = load_model(agent, zips[0])  # nothing in the file is unpickled
        res = evaluate_model(model, cfg.env, seeds, deterministic, cfg.baselines.eval_envs)
    res["seconds"] = timer.seconds
    results = {"env_id": cfg.env.env_id, "source": source, "agent": agent, "eval_seed": cfg.eval.seed,
               "protocol": cfg.env.protocol(), "agent_results": res}
    print(f"[eval] {agent} from {source}: mean {res['mean']:.1f} +/- {res['std']:.1f} (min {res['min']:.0f}, "
          f"max {res['max']:.0f}) over {res['num_episodes']} games")
    atomic_write_json(out, results)
    print(f"[eval] wrote {out}")
    return results


def visualize(cfg: Config, paths: RunPaths) -> dict:
    """``--visualize``: what the model learned, as images and videos in <run_dir>/visuals/."""
    from utils.visualize import visualize_run

    summary = visualize_run(cfg, paths.root, resolve_device(cfg.device))
    print(f"[visualize] wrote {paths.visuals}/: {', '.join(summary['files'])}")
    if cfg.logging.wandb:
        log_media_to_wandb(cfg, paths.root, "visualize", {f"mdn_rnn/{k}": v for k, v in summary["mdn"].items()},
                           videos=sorted(paths.visuals.glob("*.mp4")), images=sorted(paths.visuals.glob("*.png")))
    return summary


def main(cfg: Config, opts: EvaluateOptions | None = None) -> dict:
    opts = opts or EvaluateOptions()
    if opts.from_hub:
        return evaluate_published(cfg, opts.from_hub, opts.output)
    paths = RunPaths.of(cfg)
    if not paths.root.is_dir():
        raise UserError(f"run directory {paths.root} does not exist; train first or pass --run-dir")
    if opts.visualize:
        return visualize(cfg, paths)
    out = Path(opts.output) if opts.output else paths.eval_results
    check_writable_dir(out.parent, "--output" if opts.output else "--run-dir")  # before the games, not after
    seed_everything(cfg.seed)
    device = resolve_device(cfg.device)
    wm = WorldModel.load(paths.root, device, controller_dir=Path(opts.controller) if opts.controller else None, env=cfg.env)
    seeds = cfg.eval.seeds()
    timer = Timer()
    results = {"env_id": cfg.env.env_id, "run_dir": str(paths.root), "controller": str(opts.controller or paths.controller),
               "eval_seed": cfg.eval.seed, "train_seed": train_seed_of(paths.root, cfg.seed), "protocol": cfg.env.protocol()}
    with make_engine(cfg, cfg.eval.num_envs or None, Models(wm.vae, wm.mdn)) as engine:
        results["agent"] = evaluate_on(engine, controller_spec(wm), cfg.env, seeds)
    results["agent"]["seconds"] = timer.seconds
    a = results["agent"]
    print(f"[eval] agent: mean {a['mean']:.1f} +/- {a['std']:.1f} (min {a['min']:.0f}, max {a['max']:.0f}) "
          f"over {a['num_episodes']} games; mean length {a['mean_length']:.0f} steps; "
          f"{describe_actions(a)}; emulators busy {a['emulator_utilization']:.0%} of their steps")
    if opts.reference:
        results["reference"] = ref = reference_policies(cfg.env, seeds, cfg.eval.seed, cfg.eval.num_envs or None)
        print(f"[eval] random: mean {ref['random']['mean']:.1f} +/- {ref['random']['std']:.1f}; best constant "
              f"({ref['best_constant']['action']}): mean {ref['best_constant']['mean']:.1f} +/- {ref['best_constant']['std']:.1f}")
    if cfg.eval.record_video:
        video, score, length = record_video(cfg.env, WorldModelPolicy.from_world_model(wm), seeds[0], paths.videos, "world_models")
        results["video"] = {"path": str(video), "seed": seeds[0], "score": score, "length": length}
        print(f"[eval] video: {video} (score {score:.0f}, {length} steps)")
    atomic_write_json(out, results)
    print(f"[eval] wrote {out}")
    if cfg.logging.wandb:
        metrics = {f"eval/{k}": a[k] for k in ("mean", "std", "median", "min", "max", "mean_length")}
        if "reference" in results:
            metrics.update({"eval/random_mean": results["reference"]["random"]["mean"],
                            "eval/best_constant_mean": results["reference"]["best_constant"]["mean"]})
        log_media_to_wandb(cfg, paths.root, "evaluate", metrics, videos=[Path(results["video"]["path"])] if "video" in results else [])
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


def cli(argv: list[str] | None = None) -> int:
    return run_cli(main, argv, __doc__.splitlines()[0], sections=SECTIONS, options=EvaluateOptions)


if __name__ == "__main__":
    sys.exit(cli())

"""Publish a trained agent to the Hugging Face Hub (or build the Hub folder locally).

    python publish_model.py --hf-username USER                           # the World Models agent
    python publish_model.py --hf-username USER --agent ppo --private
    python publish_model.py --hf-username USER --local-dir hub/wm        # build only, no upload

The folder holds the weights (World Models: vae/, mdn_rnn/, controller/ as safetensors + config.json
written by huggingface_hub's PyTorchModelHubMixin; baselines: the SB3 zip), results.json from a
fresh seeded evaluation beside random and always-FIRE play, replay.mp4, training_curves.png, the
comparison chart when compare_baselines.py has run, config.json, and a model card (README.md) with
``model-index`` metadata. The token comes from ``HF_TOKEN`` or the cached ``huggingface-cli login``
(``--hf-token`` works too, but a command line is visible to other users of the machine); it is
only handed to ``HfApi`` and never printed, logged or written.
"""

from __future__ import annotations

import utils.omp  # noqa: F401  (first: sets GOMP_SPINCOUNT before torch loads OpenMP)

# isort: split

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from config import Config
from utils.agents import Agent, load_sb3_agent, load_world_models, reference_agent
from utils.cli import run_cli
from utils.common import resolve_device, seed_everything
from utils.hub import ALGO_NAMES, create_repo, model_card, move_into, push, resolve_token
from utils.io import UserError, atomic_write_json, atomic_write_text, check_writable_dir
from utils.run_paths import PHASES, RunPaths

# The config sections this script reads (its --help shows them, with env, logging and the run's fields).
SECTIONS = ("eval", "baselines", "rollout")


@dataclass
class PublishOptions:
    hf_username: str
    """Hub user or organisation that will own the repo."""
    repo_name: str | None = None
    """Repo name (default: <agent>-<Game>-v5)."""
    agent: Literal["world-models", "ddqn", "ppo", "sac"] = "world-models"
    """Which trained agent of the run."""
    private: bool = False
    """Create the repo private."""
    local_dir: str | None = None
    """Build the folder here and do not upload."""
    hf_token: str | None = None
    """Hub token (HF_TOKEN or the cached login are safer)."""
    comparison_dir: str = "comparison_results"
    """Where compare_baselines.py wrote its charts."""


# --------------------------------------------------------------------------- the folder


def load_agent(cfg: Config, agent: str) -> Agent:
    """The agent to publish, loaded to play (a missing or corrupt checkpoint is a clear error)."""
    try:
        return load_world_models(cfg, resolve_device("cpu")) if agent == "world-models" else load_sb3_agent(cfg, agent, "best")
    except FileNotFoundError as e:
        raise UserError(str(e)) from None


def _evaluate(cfg: Config, agent: Agent, folder: Path) -> dict[str, Any]:
    """A fresh seeded evaluation (+ random and always-FIRE on the same seeds) and one recorded game."""
    seeds = cfg.eval.seeds()
    res = agent.play(cfg, seeds)
    try:
        fire = reference_agent(cfg, "fire").play(cfg, seeds)
    except FileNotFoundError:  # a game without FIRE
        fire = None
    reference = {"random": reference_agent(cfg, "random").play(cfg, seeds), "always_fire": fire}
    with tempfile.TemporaryDirectory() as tmp:
        path, score, length = agent.record(cfg, seeds[0], Path(tmp), "replay")
        shutil.copyfile(path, folder / "replay.mp4")
    return {"env_id": cfg.env.env_id, "agent": agent.name, "eval_seeds": seeds, "train_seed": cfg.seed,
            "protocol": cfg.env.protocol(), "results": res, "reference": reference,
            "replay": {"seed": seeds[0], "score": score, "length": length}}


def _copy_weights(cfg: Config, agent: str, paths: RunPaths, folder: Path) -> dict[str, Any]:
    """Weights into the folder; returns a description of the files for the card."""
    if agent == "world-models":
        from utils.world_model import WorldModel

        wm = WorldModel.load(paths.root, resolve_device("cpu"), env=cfg.env)  # validates sizes and types before anything is written
        for phase, model in zip(PHASES, (wm.vae, wm.mdn, wm.controller), strict=True):
            model.save_pretrained(folder / phase, config={"model_type": phase, **model.config()})  # type: ignore[union-attr]
            (folder / phase / "README.md").unlink(missing_ok=True)  # one card, at the top
        return {"vae": wm.vae.config(), "mdn_rnn": wm.mdn.config(), "controller": wm.controller.config()}  # type: ignore[union-attr]
    from baselines.checkpoints import load_model

    src = paths.baseline(agent) / "best_model.zip"
    load_model(agent, src)  # a clear error for a missing or corrupt checkpoint
    shutil.copyfile(src, folder / f"{agent}-{cfg.env.game}.zip")
    return {"checkpoint": f"{agent}-{cfg.env.game}.zip"}


def build_folder(cfg: Config, agent: str, paths: RunPaths, folder: Path, repo_id: str, comparison_dir: Path | None) -> dict[str, Any]:
    """Everything the Hub repo holds, in ``folder``. Returns the evaluation results."""
    from utils import plots

    folder.mkdir(parents=True, exist_ok=True)
    weights = _copy_weights(cfg, agent, paths, folder)
    seed_everything(cfg.seed)  # before loading: building an SB3 policy draws from torch's generator
    player = load_agent(cfg, agent)
    results = _evaluate(cfg, player, folder)
    results["training"] = {"env_frames": player.env_frames, "train_seconds": player.train_seconds}
    atomic_write_json(folder / "results.json", results)
    atomic_write_json(folder / "config.json", {"agent": agent, **cfg.to_dict()})
    files = ["results.json", "config.json", "replay.mp4"]
    if player.curve:
        refs = {"random": results["reference"]["random"]["mean"]}
        plots.learning_curves({ALGO_NAMES[agent]: player.curve}, refs, folder / "training_curves.png",
                              f"{cfg.env.env_id}: {ALGO_NAMES[agent]} training")
        files.append("training_curves.png")
    if agent == "world-models" and paths.visuals.is_dir():  # made by `evaluate.py --visualize`
        (folder / "visuals").mkdir(exist_ok=True)
        for path in sorted([*paths.visuals.glob("*.png"), *paths.visuals.glob("*.mp4"), *paths.visuals.glob("*.json")]):
            shutil.copyfile(path, folder / "visuals" / path.name)
            files.append(f"visuals/{path.name}")
    if comparison_dir and (comparison_dir / "bar_chart.png").exists():
        shutil.copyfile(comparison_dir / "bar_chart.png", folder / "comparison.png")
        files.append("comparison.png")
    card = model_card(cfg, agent, repo_id, results, weights, files)
    atomic_write_text(folder / "README.md", str(card))
    return results


# --------------------------------------------------------------------------- upload


def main(cfg: Config, args: PublishOptions) -> dict:
    paths = RunPaths.of(cfg)
    if not paths.root.is_dir():
        raise UserError(f"run directory {paths.root} does not exist; train first or pass --run")
    repo_id = f"{args.hf_username}/{args.repo_name or f'{args.agent}-{cfg.env.game}'}"
    token = None if args.local_dir else resolve_token(args.hf_token)
    if not args.local_dir and not token:
        raise UserError("no Hugging Face token: set HF_TOKEN, run `huggingface-cli login`, or build locally with --local-dir")
    comparison = Path(args.comparison_dir) if args.comparison_dir else None
    if args.local_dir:
        folder = Path(args.local_dir)
        check_writable_dir(folder, "--local-dir")
        # Built beside the target and moved in when complete: a failure leaves no half-built folder.
        with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}.") as tmp:
            results = build_folder(cfg, args.agent, paths, Path(tmp), repo_id, comparison)
            move_into(Path(tmp), folder)
        print(f"[publish] built {folder}/ for {repo_id} (not uploaded: --local-dir)")
        return results
    load_agent(cfg, args.agent)  # a missing or corrupt checkpoint fails before the Hub is asked
    url = create_repo(repo_id, args.private, token)  # network and token fail here, before minutes of evaluation
    with tempfile.TemporaryDirectory() as tmp:
        results = build_folder(cfg, args.agent, paths, Path(tmp), repo_id, comparison)
        push(Path(tmp), repo_id, token)
    print(f"[publish] uploaded {args.agent} to {url} (mean {results['results']['mean']:.1f} +/- {results['results']['std']:.1f})")
    return results


def cli(argv: list[str] | None = None) -> int:
    return run_cli(main, argv, __doc__.splitlines()[0], sections=SECTIONS, options=PublishOptions)


if __name__ == "__main__":
    sys.exit(cli())

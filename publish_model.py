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

import os

# Before torch loads OpenMP (see evaluate.py).
os.environ.setdefault("GOMP_SPINCOUNT", "10000")

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from config import Config
from utils.common import cli_main, resolve_device, seed_everything
from utils.io import UserError, atomic_write_json, atomic_write_text, check_writable_dir

AGENTS = ("world-models", "ddqn", "ppo", "sac")
ALGO_NAMES = {"world-models": "World Models", "ddqn": "DDQN", "ppo": "PPO", "sac": "SAC"}
PARTS = (("vae", "vae"), ("mdn_rnn", "mdn_rnn"), ("controller", "controller"))


def add_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("publish")
    g.add_argument("--hf-username", required=True, help="Hub user or organisation that will own the repo")
    g.add_argument("--repo-name", default=None, help="repo name (default: <agent>-<Game>-v5)")
    g.add_argument("--agent", choices=AGENTS, default="world-models", help="which trained agent of the run")
    g.add_argument("--run", default=None, help="run directory (default: the config's run dir)")
    g.add_argument("--private", action="store_true", help="create the repo private")
    g.add_argument("--local-dir", default=None, help="build the folder here and do not upload")
    g.add_argument("--hf-token", default=None, help="Hub token (HF_TOKEN or the cached login are safer)")
    g.add_argument("--comparison-dir", default="comparison_results", help="where compare_baselines.py wrote its charts")


# --------------------------------------------------------------------------- the folder


def _evaluate(cfg: Config, agent: str, run: Path, folder: Path) -> dict[str, Any]:
    """A fresh seeded evaluation (+ random and always-FIRE on the same seeds) and one recorded game."""
    import evaluate
    from utils.agent import ConstantPolicy, RandomPolicy, WorldModel, WorldModelPolicy, record_video
    from utils.wrappers import action_meanings

    seeds = [cfg.eval.seed + i for i in range(cfg.eval.num_episodes)]
    seed_everything(cfg.seed)
    if agent == "world-models":
        wm = WorldModel.load(run, resolve_device("cpu"), env=cfg.env)
        res = evaluate.evaluate_policy(cfg, WorldModelPolicy.from_world_model(wm), seeds)
        video_policy, make_env = WorldModelPolicy.from_world_model(wm), None
    else:
        from baselines.common import SB3Policy, algo_config, evaluate_model, load_model, make_eval_game

        model = load_model(agent, run / "baselines" / agent / "best_model.zip")
        deterministic = algo_config(cfg, agent).deterministic_eval
        res = evaluate_model(model, cfg.env, seeds, deterministic, cfg.baselines.eval_envs)
        video_policy, make_env = SB3Policy(model, deterministic), (lambda mode: make_eval_game(cfg.env, mode))
    names = action_meanings(cfg.env)
    reference = {"random": evaluate.evaluate_policy(cfg, RandomPolicy(len(names), cfg.eval.seed), seeds),
                 "always_fire": evaluate.evaluate_policy(cfg, ConstantPolicy(names.index("FIRE")), seeds)
                 if "FIRE" in names else None}
    with tempfile.TemporaryDirectory() as tmp:
        path, score, length = record_video(cfg.env, video_policy, seeds[0], Path(tmp), "replay", make_env=make_env)
        shutil.copyfile(path, folder / "replay.mp4")
    return {"env_id": cfg.env.env_id, "agent": agent, "eval_seeds": seeds, "train_seed": cfg.seed,
            "protocol": "full games, sticky actions 0.25, frameskip 4, raw score, no life-loss resets",
            "results": res, "reference": reference, "replay": {"seed": seeds[0], "score": score, "length": length}}


def _copy_weights(cfg: Config, agent: str, run: Path, folder: Path) -> dict[str, Any]:
    """Weights into the folder; returns a description of the files for the card."""
    if agent == "world-models":
        from utils.agent import WorldModel

        wm = WorldModel.load(run, resolve_device("cpu"), env=cfg.env)  # validates sizes and types before anything is written
        for (sub, kind), model in zip(PARTS, (wm.vae, wm.mdn, wm.controller), strict=True):
            model.save_pretrained(folder / sub, config={"model_type": kind, **model.config()})  # type: ignore[union-attr]
            (folder / sub / "README.md").unlink(missing_ok=True)  # one card, at the top
        return {"vae": wm.vae.config(), "mdn_rnn": wm.mdn.config(), "controller": wm.controller.config()}  # type: ignore[union-attr]
    from baselines.common import load_model

    src = run / "baselines" / agent / "best_model.zip"
    load_model(agent, src)  # a clear error for a missing or corrupt checkpoint
    shutil.copyfile(src, folder / f"{agent}-{_game(cfg)}.zip")
    return {"checkpoint": f"{agent}-{_game(cfg)}.zip"}


def _game(cfg: Config) -> str:
    return cfg.env.env_id.split("/")[-1]


def _training_info(cfg: Config, agent: str, run: Path) -> dict[str, Any]:
    import compare_baselines as cb

    loaded = cb.load_world_models(cfg, resolve_device("cpu")) if agent == "world-models" else cb.load_sb3_agent(cfg, agent, "best")
    return {"env_frames": loaded.env_frames, "train_seconds": loaded.train_seconds, "curve": loaded.curve}


def build_folder(cfg: Config, agent: str, run: Path, folder: Path, repo_id: str, comparison_dir: Path | None) -> dict[str, Any]:
    """Everything the Hub repo holds, in ``folder``. Returns the evaluation results."""
    from utils import plots

    folder.mkdir(parents=True, exist_ok=True)
    weights = _copy_weights(cfg, agent, run, folder)
    info = _training_info(cfg, agent, run)
    results = _evaluate(cfg, agent, run, folder)
    results["training"] = {"env_frames": info["env_frames"], "train_seconds": info["train_seconds"]}
    atomic_write_json(folder / "results.json", results)
    atomic_write_json(folder / "config.json", {"agent": agent, **cfg.to_dict()})
    files = ["results.json", "config.json", "replay.mp4"]
    if info["curve"]:
        refs = {"random": results["reference"]["random"]["mean"]}
        plots.learning_curves({ALGO_NAMES[agent]: info["curve"]}, refs, folder / "training_curves.png",
                              f"{cfg.env.env_id}: {ALGO_NAMES[agent]} training")
        files.append("training_curves.png")
    visuals = run / "visuals"
    if agent == "world-models" and visuals.is_dir():  # made by `evaluate.py --visualize`
        (folder / "visuals").mkdir(exist_ok=True)
        for path in sorted([*visuals.glob("*.png"), *visuals.glob("*.mp4"), *visuals.glob("*.json")]):
            shutil.copyfile(path, folder / "visuals" / path.name)
            files.append(f"visuals/{path.name}")
    if comparison_dir and (comparison_dir / "bar_chart.png").exists():
        shutil.copyfile(comparison_dir / "bar_chart.png", folder / "comparison.png")
        files.append("comparison.png")
    card = model_card(cfg, agent, repo_id, results, weights, files)
    atomic_write_text(folder / "README.md", str(card))
    return results


def model_card(cfg: Config, agent: str, repo_id: str, results: dict[str, Any], weights: dict[str, Any], files: list[str]):
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    r = results["results"]
    ref = results["reference"]
    game = _game(cfg)
    data = ModelCardData(
        library_name="world-models-space-invaders" if agent == "world-models" else "stable-baselines3",
        tags=["reinforcement-learning", "world-models", "atari", game.split("-")[0], game, agent,
              *(["deep-reinforcement-learning", "stable-baselines3"] if agent != "world-models" else ["cma-es"])],
        model_name=f"{ALGO_NAMES[agent]} on {cfg.env.env_id}",
        eval_results=[EvalResult(task_type="reinforcement-learning", task_name="reinforcement-learning",
                                 dataset_type=cfg.env.env_id, dataset_name=cfg.env.env_id, metric_type="mean_reward",
                                 metric_name="mean_reward", metric_value=f"{r['mean']:.2f} +/- {r['std']:.2f}")],
    )
    frames = results["training"]["env_frames"]
    budget = f"{frames:,} emulator frames" if frames else "not recorded"
    hyper = ({k: v for k, v in cfg.to_dict().items() if k in ("vae", "mdn_rnn", "controller", "data")}
             if agent == "world-models" else {agent: cfg.to_dict()[agent], "baselines": cfg.to_dict()["baselines"]})
    fire = ref.get("always_fire")
    usage = (f"""```python
from huggingface_hub import snapshot_download
folder = snapshot_download("{repo_id}")
# in a clone of the project:  python evaluate.py --from-hub {repo_id}
from models.vae import ConvVAE
from models.mdn_rnn import MDNRNN
from models.controller import Controller
vae = ConvVAE.from_pretrained(folder + "/vae")
mdn = MDNRNN.from_pretrained(folder + "/mdn_rnn")
controller = Controller.from_pretrained(folder + "/controller")
```""" if agent == "world-models" else f"""```python
from huggingface_hub import hf_hub_download
path = hf_hub_download("{repo_id}", "{weights['checkpoint']}")
# in a clone of the project:  python evaluate.py --from-hub {repo_id}
from pathlib import Path
from baselines.common import load_model
model = load_model("{agent}", Path(path))
```""")
    captions = {"training_curves.png": "Training", "comparison.png": "Comparison with the baselines (same seeded games)",
                "visuals/recon_grid.png": "VAE: real frames over reconstructions",
                "visuals/mdn_horizon.png": "MDN-RNN prediction against the horizon",
                "visuals/latent_pca.png": "Latent space", "visuals/training_curves.png": "Every phase's training curves"}
    figures = "\n".join(f"### {captions[f]}\n\n![{captions[f]}]({f})\n" for f in files if f in captions)
    figures = f"## Figures\n\n{figures}" if figures else ""
    text = f"""---
{data.to_yaml()}
---

# {ALGO_NAMES[agent]} playing {cfg.env.env_id}

{"A World Models agent (Ha & Schmidhuber, 2018): a convolutional VAE (64x64x3 frames -> z), an MDN-RNN over [z, action] and a linear controller on [z, h] trained with CMA-ES, first in the MDN-RNN's dream, then in the real game." if agent == "world-models" else f"A {ALGO_NAMES[agent]} agent trained with this project's baselines on stable-baselines3 (SB3 Atari preprocessing: no-op starts, frame skip 4 with max-pool, 84x84 grey, 4 stacked frames)."}

## Evaluation

{r['num_episodes']} full games of `{cfg.env.env_id}` (sticky actions {cfg.env.repeat_action_probability}, frameskip {cfg.env.frameskip}, raw score, no life-loss resets), seeds {results['eval_seeds'][0]}-{results['eval_seeds'][-1]}, played by `publish_model.py` when this folder was built:

| policy | mean | std | median | min | max |
|---|---:|---:|---:|---:|---:|
| **{ALGO_NAMES[agent]}** | **{r['mean']:.1f}** | {r['std']:.1f} | {r['median']:.1f} | {r['min']:.0f} | {r['max']:.0f} |
| uniform random | {ref['random']['mean']:.1f} | {ref['random']['std']:.1f} | {ref['random']['median']:.1f} | {ref['random']['min']:.0f} | {ref['random']['max']:.0f} |
{f"| always FIRE | {fire['mean']:.1f} | {fire['std']:.1f} | {fire['median']:.1f} | {fire['min']:.0f} | {fire['max']:.0f} |" if fire else ""}

Action shares: {json.dumps(r.get('action_share', {}))}. `replay.mp4` is one game (seed {results['replay']['seed']}, score {results['replay']['score']:.0f}).

## Training

Training seed {cfg.seed}; budget: {budget}; wall time: {results['training']['train_seconds'] or 0:.0f} s.
Hyperparameters (the whole resolved config is `config.json`):

```json
{json.dumps(hyper, indent=2)}
```

## Usage

{usage}

{figures}
Files: {", ".join(f"`{f}`" for f in sorted(files + ["README.md"]))}.
"""
    return ModelCard(text)


# --------------------------------------------------------------------------- upload


def resolve_token(cli_token: str | None) -> str | None:
    if cli_token:
        print("warning: --hf-token is visible in the process list and shell history; HF_TOKEN or "
              "`huggingface-cli login` are safer", file=sys.stderr)
        return cli_token
    from huggingface_hub import get_token

    return os.environ.get("HF_TOKEN") or get_token()


def _hub_error(e: Exception, repo_id: str, token: str) -> UserError:
    """One line for network, auth and permission errors alike, the token masked."""
    message = str(e).replace(token, "***").splitlines()[0][:200] if str(e) else type(e).__name__
    return UserError(f"upload to {repo_id} failed ({type(e).__name__}: {message}); check the network, the token "
                     "and your rights on the namespace, or build locally with --local-dir")


def create_repo(repo_id: str, private: bool, token: str) -> str:
    """Create the repo if needed: the network and the token are checked before the folder is built."""
    from huggingface_hub import HfApi

    try:
        return str(HfApi(token=token).create_repo(repo_id, private=private, exist_ok=True, repo_type="model"))
    except Exception as e:
        raise _hub_error(e, repo_id, token) from None


def push(folder: Path, repo_id: str, token: str) -> None:
    """Upload the folder to the (existing) repo in one commit."""
    from huggingface_hub import HfApi

    try:
        HfApi(token=token).upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                                         commit_message="Upload agent with publish_model.py")
    except Exception as e:
        raise _hub_error(e, repo_id, token) from None


def check_agent(cfg: Config, agent: str, run: Path) -> None:
    """Load the agent's checkpoints: a missing or corrupt one is an error before anything else happens."""
    if agent == "world-models":
        from utils.agent import WorldModel

        WorldModel.load(run, resolve_device("cpu"), env=cfg.env)
    else:
        from baselines.common import load_model

        load_model(agent, run / "baselines" / agent / "best_model.zip")


def move_into(built: Path, folder: Path) -> None:
    """Move a finished build into ``folder`` entry by entry (each replaces an older one of its name)."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in sorted(built.iterdir()):
        dest = folder / entry.name
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        os.replace(entry, dest)


def main(cfg: Config) -> dict:
    args = cfg._args  # type: ignore[attr-defined]
    run = Path(args.run) if args.run else cfg.run_path
    if not run.is_dir():
        raise UserError(f"run directory {run} does not exist; train first or pass --run")
    cfg.run_dir = str(run)
    repo_id = f"{args.hf_username}/{args.repo_name or f'{args.agent}-{_game(cfg)}'}"
    token = None if args.local_dir else resolve_token(args.hf_token)
    if not args.local_dir and not token:
        raise UserError("no Hugging Face token: set HF_TOKEN, run `huggingface-cli login`, or build locally with --local-dir")
    comparison = Path(args.comparison_dir) if args.comparison_dir else None
    if args.local_dir:
        folder = Path(args.local_dir)
        check_writable_dir(folder, "--local-dir")
        # Built beside the target and moved in when complete: a failure leaves no half-built folder.
        with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}.") as tmp:
            results = build_folder(cfg, args.agent, run, Path(tmp), repo_id, comparison)
            move_into(Path(tmp), folder)
        print(f"[publish] built {folder}/ for {repo_id} (not uploaded: --local-dir)")
        return results
    check_agent(cfg, args.agent, run)
    url = create_repo(repo_id, args.private, token)  # network and token fail here, before minutes of evaluation
    with tempfile.TemporaryDirectory() as tmp:
        results = build_folder(cfg, args.agent, run, Path(tmp), repo_id, comparison)
        push(Path(tmp), repo_id, token)
    print(f"[publish] uploaded {args.agent} to {url} (mean {results['results']['mean']:.1f} +/- {results['results']['std']:.1f})")
    return results


if __name__ == "__main__":
    sys.exit(cli_main(__doc__.splitlines()[0], main, extra_args=add_args))

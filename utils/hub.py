"""The Hugging Face Hub side of publishing: the model card (rendered from model_card_template.md), the
token, repo creation, upload, and fetching a published folder. huggingface_hub is imported lazily."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huggingface_hub import ModelCard

    from config import Config
    from utils.io import UserError

ALGO_NAMES = {"world-models": "World Models", "ddqn": "DDQN", "ppo": "PPO", "sac": "SAC"}
TEMPLATE = Path(__file__).with_name("model_card_template.md")


# --------------------------------------------------------------------------- the model card


def model_card(cfg: Config, agent: str, repo_id: str, results: dict[str, Any], weights: dict[str, Any],
               files: list[str]) -> ModelCard:
    """The folder's README.md: ``model-index`` metadata, the evaluation table, training, usage and figures."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    r = results["results"]
    game = cfg.env.game
    data = ModelCardData(
        library_name="world-models-space-invaders" if agent == "world-models" else "stable-baselines3",
        tags=["reinforcement-learning", "world-models", "atari" if cfg.env.atari else "box2d", game.split("-")[0], game, agent,
              *(["deep-reinforcement-learning", "stable-baselines3"] if agent != "world-models" else ["cma-es"])],
        model_name=f"{ALGO_NAMES[agent]} on {cfg.env.env_id}",
        eval_results=[EvalResult(task_type="reinforcement-learning", task_name="reinforcement-learning",
                                 dataset_type=cfg.env.env_id, dataset_name=cfg.env.env_id, metric_type="mean_reward",
                                 metric_name="mean_reward", metric_value=f"{r['mean']:.2f} +/- {r['std']:.2f}")],
    )
    config = cfg.to_dict()
    hyper = ({k: v for k, v in config.items() if k in ("vae", "mdn_rnn", "controller", "data")}
             if agent == "world-models" else {agent: config[agent], "baselines": config["baselines"]})
    return ModelCard.from_template(
        data, template_path=str(TEMPLATE), agent=agent, algo=ALGO_NAMES[agent], repo_id=repo_id, env=cfg.env,
        train_seed=cfg.seed, results=results, files=files,
        action_share=json.dumps(r.get("action_share", {})), hyperparameters=json.dumps(hyper, indent=2),
        checkpoint=None if agent == "world-models" else weights["checkpoint"],
        preprocessing=None if agent == "world-models" else _baseline_preprocessing(cfg),
    )


def _baseline_preprocessing(cfg: Config) -> str:
    from baselines.envs import preprocessing

    return preprocessing(cfg.env)


# --------------------------------------------------------------------------- upload


def resolve_token(cli_token: str | None) -> str | None:
    if cli_token:
        print("warning: --hf-token is visible in the process list and shell history; HF_TOKEN or "
              "`huggingface-cli login` are safer", file=sys.stderr)
        return cli_token
    from huggingface_hub import get_token

    return os.environ.get("HF_TOKEN") or get_token()


def hub_error(e: Exception, repo_id: str, token: str) -> UserError:
    """One line for network, auth and permission errors alike, the token masked."""
    from utils.io import UserError

    message = str(e).replace(token, "***").splitlines()[0][:200] if str(e) else type(e).__name__
    return UserError(f"upload to {repo_id} failed ({type(e).__name__}: {message}); check the network, the token "
                     "and your rights on the namespace, or build locally with --local-dir")


def create_repo(repo_id: str, private: bool, token: str) -> str:
    """Create the repo if needed: the network and the token are checked before the folder is built."""
    from huggingface_hub import HfApi

    try:
        return str(HfApi(token=token).create_repo(repo_id, private=private, exist_ok=True, repo_type="model"))
    except Exception as e:
        raise hub_error(e, repo_id, token) from None


def push(folder: Path, repo_id: str, token: str) -> None:
    """Upload the folder to the (existing) repo in one commit."""
    from huggingface_hub import HfApi

    try:
        HfApi(token=token).upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                                         commit_message="Upload agent with publish_model.py")
    except Exception as e:
        raise hub_error(e, repo_id, token) from None


def move_into(built: Path, folder: Path) -> None:
    """Move a finished build into ``folder`` entry by entry (each replaces an older one of its name)."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in sorted(built.iterdir()):
        dest = folder / entry.name
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        os.replace(entry, dest)


# --------------------------------------------------------------------------- download


def hub_folder(source: str) -> Path:
    """A published agent's folder: ``source`` itself if it is a directory, else a Hub download."""
    from utils.io import UserError

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

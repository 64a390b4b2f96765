"""Loading a trained world model, batched policies, and playing seeded games on the vector env."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from config import EnvConfig
from models.controller import Controller, batched_logits
from models.mdn_rnn import MDNRNN
from models.vae import ConvVAE
from utils.io import UserError, load_model_config, load_weights
from utils.runner import Policy
from utils.wrappers import num_actions

VAE_DIR, MDN_DIR, CONTROLLER_DIR = "vae", "mdn_rnn", "controller"


def load_vae(path: Path, device: torch.device) -> ConvVAE:
    cfg = load_model_config(path, "vae")
    try:
        vae = ConvVAE(**cfg)
    except TypeError as e:
        raise UserError(f"VAE config at {path} is not valid ({e}); retrain it with train_vae.py --restart") from None
    return load_weights(vae, path, "vae").to(device).eval().to(memory_format=torch.channels_last)


def load_mdn_rnn(path: Path, device: torch.device, latent_dim: int | None = None, action_dim: int | None = None) -> MDNRNN:
    cfg = load_model_config(path, "mdn_rnn")
    if latent_dim is not None and cfg.get("latent_dim") != latent_dim:
        raise UserError(f"MDN-RNN at {path} expects z of size {cfg.get('latent_dim')}, but the VAE gives {latent_dim}; "
                        "retrain the MDN-RNN on this VAE (train_mdn_rnn.py --restart)")
    if action_dim is not None and cfg.get("action_dim") != action_dim:
        raise UserError(f"MDN-RNN at {path} was trained for {cfg.get('action_dim')} actions, this game has {action_dim}; "
                        "check --env.env_id or retrain with train_mdn_rnn.py --restart")
    try:
        mdn = MDNRNN(**cfg)
    except TypeError as e:
        raise UserError(f"MDN-RNN config at {path} is not valid ({e}); retrain it with train_mdn_rnn.py --restart") from None
    return load_weights(mdn, path, "mdn_rnn").to(device).eval()


def load_controller(path: Path, device: torch.device, latent_dim: int, hidden_size: int, action_dim: int) -> Controller:
    cfg = load_model_config(path, "controller")
    want = {"latent_dim": latent_dim, "hidden_size": hidden_size, "action_dim": action_dim}
    if cfg != want:
        raise UserError(f"controller at {path} has sizes {cfg}, but the VAE/MDN-RNN need {want}; "
                        "retrain it with train_controller.py --restart (or pass the matching --controller)")
    return load_weights(Controller(**cfg), path, "controller").to(device).eval()


@dataclass
class WorldModel:
    vae: ConvVAE
    mdn: MDNRNN
    controller: Controller | None
    device: torch.device

    @classmethod
    def load(cls, run_dir: Path, device: torch.device, with_controller: bool = True,
             controller_dir: Path | None = None, env: EnvConfig | None = None) -> WorldModel:
        """The three checkpoints, their sizes checked against each other (and the game's action count if ``env``)."""
        vae = load_vae(run_dir / VAE_DIR, device)
        mdn = load_mdn_rnn(run_dir / MDN_DIR, device, latent_dim=vae.latent_dim,
                           action_dim=num_actions(env) if env is not None else None)
        ctrl_dir = controller_dir or run_dir / CONTROLLER_DIR
        ctrl = load_controller(ctrl_dir, device, vae.latent_dim, mdn.hidden_size, mdn.action_dim) if with_controller else None
        return cls(vae, mdn, ctrl, device)


class WorldModelPolicy:
    """VAE encode -> controller -> LSTM step for every emulator at once, whatever candidate it plays.

    ``params`` holds P flat controllers; job k is played by candidate ``job_candidates[k]``
    (default: all jobs by candidate 0). Each step is one batched encode, one ``baddbmm`` with
    per-emulator weights, and one LSTM step, for the whole population.
    """

    def __init__(self, vae: ConvVAE, mdn: MDNRNN, params: torch.Tensor, job_candidates: np.ndarray | None = None):
        self.vae, self.mdn = vae, mdn
        self.device = next(mdn.parameters()).device
        self.params = params.to(self.device, torch.float32)
        self.job_candidates = job_candidates
        self.action_counts = np.zeros(mdn.action_dim, dtype=np.int64)

    @classmethod
    def from_world_model(cls, wm: WorldModel) -> WorldModelPolicy:
        assert wm.controller is not None
        return cls(wm.vae, wm.mdn, torch.as_tensor(wm.controller.get_flat())[None])

    def reset(self, num_envs: int) -> None:
        self.state = self.mdn.initial_state(num_envs, self.device)
        self.candidate = torch.zeros(num_envs, dtype=torch.long, device=self.device)

    def start(self, envs: np.ndarray, jobs: np.ndarray) -> None:
        idx = torch.as_tensor(envs, device=self.device)
        cands = np.zeros(len(jobs), dtype=np.int64) if self.job_candidates is None else self.job_candidates[jobs]
        self.candidate[idx] = torch.as_tensor(cands, device=self.device)
        for s in self.state:
            s[idx] = 0.0

    @torch.no_grad()
    def act(self, frames: np.ndarray) -> np.ndarray:
        z = self.vae.encode_frames(torch.from_numpy(frames).to(self.device))
        h, c = self.state
        if self.params.shape[0] == 1:  # one controller: a plain matmul
            logits = batched_logits(self.params, z[None], h[None], self.mdn.action_dim)[0]
        else:  # each emulator with its own candidate's weights
            logits = batched_logits(self.params[self.candidate], z[:, None], h[:, None], self.mdn.action_dim)[:, 0]
        a = logits.argmax(-1)
        self.state = self.mdn.step(z, a, (h, c))
        a_np = a.cpu().numpy()
        self.action_counts += np.bincount(a_np, minlength=self.mdn.action_dim)
        return a_np


class RandomPolicy:
    """Uniform random actions (the usual 'random agent' reference)."""

    def __init__(self, n_actions: int, seed: int):
        self.n, self.rng = n_actions, np.random.default_rng(seed)

    def reset(self, num_envs: int) -> None:
        pass

    def start(self, envs: np.ndarray, jobs: np.ndarray) -> None:
        pass

    def act(self, frames: np.ndarray) -> np.ndarray:
        return self.rng.integers(self.n, size=len(frames))


class ConstantPolicy:
    def __init__(self, action: int):
        self.action = action

    def reset(self, num_envs: int) -> None:
        pass

    def start(self, envs: np.ndarray, jobs: np.ndarray) -> None:
        pass

    def act(self, frames: np.ndarray) -> np.ndarray:
        return np.full(len(frames), self.action, dtype=np.int64)


def record_video(env_cfg: EnvConfig, policy: Policy, seed: int, video_dir: Path, name_prefix: str,
                 make_env: Callable[[str], gym.Env] | None = None) -> tuple[Path, float, int]:
    """Play one seeded game in a single env (``make_env(render_mode)``, default the World Models
    agent's), recorded by gymnasium's RecordVideo at full resolution, one video frame per agent step."""
    from gymnasium.wrappers import RecordVideo

    from utils.wrappers import make_single_env

    video_dir.mkdir(parents=True, exist_ok=True)
    base = make_env("rgb_array") if make_env else make_single_env(env_cfg, render_mode="rgb_array")
    with warnings.catch_warnings():  # an existing folder is fine: the file of this name is replaced
        warnings.filterwarnings("ignore", message=".*Overwriting existing videos.*")
        env = RecordVideo(base, str(video_dir), name_prefix=name_prefix,
                          episode_trigger=lambda i: i == 0, disable_logger=True)
    obs, _ = env.reset(seed=seed)
    policy.reset(1)
    policy.start(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))
    total, length, done = 0.0, 0, False
    while not done:
        action = int(policy.act(obs[None])[0])
        obs, r, term, trunc, _ = env.step(action)
        total += float(r)
        length += 1
        done = term or trunc
    env.close()
    videos = sorted(video_dir.glob(f"{name_prefix}*.mp4"))
    if not videos:
        raise UserError(f"video recording produced no file in {video_dir}")
    return videos[-1], total, length

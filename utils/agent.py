"""Loading a trained world model, batched policies, and playing seeded games on the vector env."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from config import EnvConfig
from models.controller import Controller, batched_logits
from models.mdn_rnn import MDNRNN
from models.vae import ConvVAE
from utils.io import UserError, load_model_config, load_weights
from utils.wrappers import make_vector_env, squeeze_obs

VAE_DIR, MDN_DIR, CONTROLLER_DIR = "vae", "mdn_rnn", "controller"


def load_vae(path: Path, device: torch.device) -> ConvVAE:
    cfg = load_model_config(path, "vae")
    try:
        vae = ConvVAE(**cfg)
    except TypeError as e:
        raise UserError(f"VAE config at {path} is not valid: {e}") from None
    return load_weights(vae, path, "vae").to(device).eval().to(memory_format=torch.channels_last)


def load_mdn_rnn(path: Path, device: torch.device, latent_dim: int | None = None, action_dim: int | None = None) -> MDNRNN:
    cfg = load_model_config(path, "mdn_rnn")
    if latent_dim is not None and cfg.get("latent_dim") != latent_dim:
        raise UserError(f"MDN-RNN at {path} expects z of size {cfg.get('latent_dim')}, but the VAE gives {latent_dim}; "
                        "retrain the MDN-RNN on this VAE (train_mdn_rnn.py --restart)")
    if action_dim is not None and cfg.get("action_dim") != action_dim:
        raise UserError(f"MDN-RNN at {path} was trained for {cfg.get('action_dim')} actions, this game has {action_dim}")
    try:
        mdn = MDNRNN(**cfg)
    except TypeError as e:
        raise UserError(f"MDN-RNN config at {path} is not valid: {e}") from None
    return load_weights(mdn, path, "mdn_rnn").to(device).eval()


def load_controller(path: Path, device: torch.device, latent_dim: int, hidden_size: int, action_dim: int) -> Controller:
    cfg = load_model_config(path, "controller")
    want = {"latent_dim": latent_dim, "hidden_size": hidden_size, "action_dim": action_dim}
    if cfg != want:
        raise UserError(f"controller at {path} has sizes {cfg}, but the VAE/MDN-RNN need {want}")
    return load_weights(Controller(**cfg), path, "controller").to(device).eval()


@dataclass
class WorldModel:
    vae: ConvVAE
    mdn: MDNRNN
    controller: Controller | None
    device: torch.device

    @classmethod
    def load(cls, run_dir: Path, device: torch.device, with_controller: bool = True) -> WorldModel:
        vae = load_vae(run_dir / VAE_DIR, device)
        mdn = load_mdn_rnn(run_dir / MDN_DIR, device, latent_dim=vae.latent_dim)
        ctrl = (load_controller(run_dir / CONTROLLER_DIR, device, vae.latent_dim, mdn.hidden_size, mdn.action_dim)
                if with_controller else None)
        return cls(vae, mdn, ctrl, device)


class Policy(Protocol):
    def reset(self, num_envs: int) -> None: ...
    def act(self, frames: np.ndarray) -> np.ndarray: ...


class WorldModelPolicy:
    """P controllers x R episodes each, stepped together: VAE encode -> controller -> LSTM step.

    Env ``i`` is played by candidate ``i // R``. One call of :meth:`act` is three batched tensor ops
    for the whole population (encode, ``baddbmm``, LSTM step).
    """

    def __init__(self, vae: ConvVAE, mdn: MDNRNN, params: torch.Tensor, repeats: int = 1):
        self.vae, self.mdn, self.repeats = vae, mdn, repeats
        self.device = next(mdn.parameters()).device
        self.params = params.to(self.device, torch.float32)
        self.P = self.params.shape[0]
        self.state = None
        self.action_counts = np.zeros(mdn.action_dim, dtype=np.int64)

    @classmethod
    def from_world_model(cls, wm: WorldModel, repeats: int = 1) -> WorldModelPolicy:
        """The trained controller playing ``repeats`` games at once (each with its own LSTM state)."""
        assert wm.controller is not None
        return cls(wm.vae, wm.mdn, torch.as_tensor(wm.controller.get_flat())[None], repeats=repeats)

    def reset(self, num_envs: int) -> None:
        if num_envs != self.P * self.repeats:
            raise ValueError(f"{num_envs} envs for {self.P} candidates x {self.repeats} repeats")
        self.state = self.mdn.initial_state(num_envs, self.device)

    @torch.no_grad()
    def act(self, frames: np.ndarray) -> np.ndarray:
        z = self.vae.encode_frames(torch.from_numpy(frames).to(self.device))
        h, c = self.state
        logits = batched_logits(self.params, z.view(self.P, self.repeats, -1), h.view(self.P, self.repeats, -1),
                                self.mdn.action_dim)
        a = logits.argmax(-1).view(-1)
        self.state = self.mdn.step(z, a, (h, c))
        a_np = a.cpu().numpy()
        self.action_counts += np.bincount(a_np, minlength=self.mdn.action_dim)
        return a_np


class RandomPolicy:
    """Uniform random actions (the usual 'random agent' reference)."""

    def __init__(self, n_actions: int, seed: int):
        self.n, self.rng = n_actions, np.random.default_rng(seed)

    def reset(self, num_envs: int) -> None:
        self.num_envs = num_envs

    def act(self, frames: np.ndarray) -> np.ndarray:
        return self.rng.integers(self.n, size=len(frames))


class ConstantPolicy:
    def __init__(self, action: int):
        self.action = action

    def reset(self, num_envs: int) -> None:
        pass

    def act(self, frames: np.ndarray) -> np.ndarray:
        return np.full(len(frames), self.action, dtype=np.int64)


@dataclass
class EpisodeStats:
    returns: np.ndarray
    lengths: np.ndarray
    steps_taken: int  # env steps the vector env ran (including steps of already-finished envs)


def play_episodes(env_cfg: EnvConfig, policy: Policy, seeds: list[int], max_steps: int | None = None) -> EpisodeStats:
    """Play one episode per seed, all at once on the vector env; full games unless ``max_steps``."""
    n = len(seeds)
    venv = make_vector_env(env_cfg, n)
    try:
        obs, _ = venv.reset(seed=np.asarray(seeds, dtype=np.int64))
        policy.reset(n)
        returns = np.zeros(n, dtype=np.float64)
        lengths = np.zeros(n, dtype=np.int64)
        alive = np.ones(n, dtype=bool)
        steps = 0
        while alive.any():
            actions = policy.act(squeeze_obs(obs)).astype(np.int64)
            obs, rew, term, trunc, _ = venv.step(actions)
            steps += 1
            returns += rew * alive
            lengths += alive
            alive &= ~(term | trunc)
            if max_steps is not None and steps >= max_steps:
                break
    finally:
        venv.close()
    return EpisodeStats(returns, lengths, steps * n)


def record_video(env_cfg: EnvConfig, policy: Policy, seed: int, video_dir: Path, name_prefix: str) -> tuple[Path, float, int]:
    """Play one seeded game in the single env, recorded by gymnasium's RecordVideo at full resolution."""
    from gymnasium.wrappers import RecordVideo

    from utils.wrappers import make_single_env

    video_dir.mkdir(parents=True, exist_ok=True)
    env = RecordVideo(make_single_env(env_cfg, render_mode="rgb_array"), str(video_dir), name_prefix=name_prefix,
                      episode_trigger=lambda i: i == 0, disable_logger=True)
    obs, _ = env.reset(seed=seed)
    policy.reset(1)
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

"""Loading a trained world model (sizes checked against each other) and its batched policy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from config import EnvConfig
from models.controller import Controller, batched_logits, to_actions
from models.mdn_rnn import MDNRNN
from models.vae import ConvVAE
from utils.io import UserError, load_model_config, load_weights
from utils.run_paths import RunPaths
from utils.wrappers import num_actions


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
        """The three checkpoints of a run (or a published folder), their sizes checked against each other
        (and the game's action count if ``env``)."""
        paths = RunPaths(run_dir)
        vae = load_vae(paths.vae, device)
        mdn = load_mdn_rnn(paths.mdn_rnn, device, latent_dim=vae.latent_dim,
                           action_dim=num_actions(env) if env is not None else None)
        ctrl_dir = controller_dir or paths.controller
        ctrl = load_controller(ctrl_dir, device, vae.latent_dim, mdn.hidden_size, mdn.action_dim) if with_controller else None
        return cls(vae, mdn, ctrl, device)


class Explorer(Protocol):
    """Replaces some of a policy's actions (per emulator; ``start`` tells which job each emulator now plays)."""

    def start(self, envs: np.ndarray, jobs: np.ndarray) -> None: ...
    def __call__(self, actions: np.ndarray, envs: np.ndarray) -> np.ndarray:
        """The actions of emulators ``envs`` -> the ones played."""


class WorldModelPolicy:
    """VAE encode -> controller -> LSTM step for every emulator at once, whatever candidate it plays.

    ``params`` holds P flat controllers; job k is played by candidate ``job_candidates[k]``
    (default: all jobs by candidate 0). Each step is one batched encode, one ``baddbmm`` with
    per-emulator weights, and one LSTM step, for the whole population.

    A continuous game (CarRacing) is played one emulator at a time on one torch thread: the CPU kernels round a row
    differently in batches of other sizes and on other thread counts (5e-8 to 1e-6), a continuous action carries that
    into the physics, and the physics amplifies it, so a batch would make a game's score depend on how many games
    share the engine (``docs/issue13/batch_rounding.py``). Row by row, the engine's shape and the backend change no
    score there either. Atari's argmax hides the rounding and keeps the batch.
    """

    def __init__(self, vae: ConvVAE, mdn: MDNRNN, params: torch.Tensor, job_candidates: np.ndarray | None = None,
                 explore: Explorer | None = None):
        self.vae, self.mdn = vae, mdn
        self.device = next(mdn.parameters()).device
        self.params = params.to(self.device, torch.float32)
        self.job_candidates = job_candidates
        self.explore = explore  # replaces some of the controller's actions; the LSTM is fed the action played
        self.action_counts = np.zeros(mdn.action_dim, dtype=np.float64 if mdn.continuous else np.int64)

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
        if self.explore is not None:
            self.explore.start(envs, jobs)

    active_only = True  # the runner gives it only the emulators playing a game

    def act(self, frames: np.ndarray, envs: np.ndarray | None = None) -> np.ndarray:
        """Frames of emulators ``envs`` (default: all) -> their actions; only their LSTM states move."""
        if not self.mdn.continuous:
            return self._act(frames, envs)
        rows = np.arange(len(self.candidate)) if envs is None else np.asarray(envs)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return np.concatenate([self._act(frames[i:i + 1], rows[i:i + 1]) for i in range(len(rows))])
        finally:
            torch.set_num_threads(threads)

    @torch.no_grad()
    def _act(self, frames: np.ndarray, envs: np.ndarray | None) -> np.ndarray:
        z = self.vae.encode_frames(torch.from_numpy(np.ascontiguousarray(frames)).to(self.device))
        every = envs is None or len(envs) == len(self.candidate)
        idx = None if every else torch.as_tensor(envs, device=self.device)
        h, c = self.state if every else (self.state[0][idx], self.state[1][idx])
        cand = self.candidate if every else self.candidate[idx]
        if self.params.shape[0] == 1:  # one controller: a plain matmul
            logits = batched_logits(self.params, z[None], h[None], self.mdn.action_dim)[0]
        else:  # each emulator with its own candidate's weights
            logits = batched_logits(self.params[cand], z[:, None], h[:, None], self.mdn.action_dim)[:, 0]
        a = to_actions(logits, self.mdn.action_low, self.mdn.action_high, self.mdn.action_clip)  # index, or vector in the box
        if self.explore is not None:
            rows = np.arange(len(self.candidate)) if envs is None else np.asarray(envs)
            a = torch.as_tensor(self.explore(a.cpu().numpy(), rows), device=self.device)
        new = self.mdn.step(z, a, (h, c))
        if every:
            self.state = new
        else:
            self.state[0][idx], self.state[1][idx] = new
        a_np = a.cpu().numpy()
        self.action_counts += a_np.sum(0) if self.mdn.continuous else np.bincount(a_np, minlength=self.mdn.action_dim)
        return a_np

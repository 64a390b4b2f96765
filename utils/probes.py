"""What the VAE's z keeps of the one object a Space Invaders controller must know: its own cannon.

Issue 11's reconstructions showed the invaders and shields sharp but the cannon often missing. These numbers make
that measurable on a run's own frames (64x64 RGB, as stored in ``data/``):

- ``present``: the share of frames with a cannon (it is absent while it explodes and between lives), and ``x_std``
  how far it moves (the std of its x in pixels: random play that keeps it near the middle gives the probe little to
  explain);
- ``recon_found``: of those, the share whose VAE reconstruction (decoded from mu) shows the cannon within 1 pixel
  of where it is;
- ``probe_r2``: how much of the cannon's x position a linear map of z explains (ridge regression fitted on the
  first 80% of the episodes, R^2 on the last 20%): 1.0 = z carries x linearly, 0 = not at all.

The cannon is found by colour: its green rows of the 64x64 frame (:data:`CANNON_ROWS`) hold the only pixels whose
green channel exceeds red and blue by more than :data:`GREEN_MARGIN` (the ground below is olive, the score green but
at the top).

Shots and bombs (:func:`shot_pixels`) are the only grey things in the playfield: every other sprite is coloured
(invaders yellow, shields orange, cannon green, ground olive), so a pixel between the score and the cannon whose
channels agree within :data:`GREY_CHROMA` and whose brightest channel exceeds :data:`GREY_MIN` is part of one (at
64x64 a 1-pixel shot blends with the black around it to a dim grey of about 57). ``shot_pixels`` marks them, and
``shot_recall`` is the share of them that the reconstruction shows: grey there too, at least half as
bright. Where it is 0 the dream cannot know where a bomb falls, so no controller trained in it can learn to dodge.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

CANNON_ROWS = slice(56, 59)  # rows of the 64x64 frame the cannon's green body occupies
GREEN_MARGIN = 25
PLAYFIELD_ROWS = slice(7, 56)  # rows of the 64x64 frame between the score and the cannon
GREY_CHROMA, GREY_MIN = 12, 30


def cannon_x(frames: np.ndarray) -> np.ndarray:
    """(N, 64, 64, 3) uint8 or float in [0, 255] -> (N,) the cannon's mean column, NaN where no cannon is seen."""
    band = np.asarray(frames, dtype=np.float32)[:, CANNON_ROWS]
    green = (band[..., 1] > band[..., 0] + GREEN_MARGIN) & (band[..., 1] > band[..., 2] + GREEN_MARGIN)  # (N, 3, W)
    cols = green.any(axis=1)  # (N, W)
    count = cols.sum(axis=1)
    xs = (cols * np.arange(cols.shape[1])).sum(axis=1) / np.maximum(count, 1)
    return np.where(count > 0, xs, np.nan)


def _grey(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The playfield rows of (N, 64, 64, 3) frames in [0, 255]: (N, 49, 64) whether each pixel is grey (its channels
    agree within GREY_CHROMA) and its brightest channel."""
    band = np.asarray(frames, dtype=np.float32)[:, PLAYFIELD_ROWS]
    hi = band.max(axis=-1)
    return hi - band.min(axis=-1) < GREY_CHROMA, hi


def shot_pixels(frames: np.ndarray) -> np.ndarray:
    """(N, 64, 64, 3) uint8 or float in [0, 255] -> (N, 49, 64) bool: the grey pixels of shots and bombs in the
    playfield rows (:data:`PLAYFIELD_ROWS`)."""
    grey, hi = _grey(frames)
    return grey & (hi > GREY_MIN)


def shot_recall(frames: np.ndarray, recon: np.ndarray) -> tuple[int, int]:
    """(shot pixels in ``frames``, how many of them ``recon`` shows: grey within GREY_CHROMA and at least half as
    bright). Both (N, 64, 64, 3) in [0, 255]."""
    grey, target = _grey(frames)
    want = grey & (target > GREY_MIN)
    grey_r, hi_r = _grey(recon)
    return int(want.sum()), int((want & grey_r & (hi_r >= 0.5 * target)).sum())


def ridge_r2(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, alpha: float = 1e-3) -> float:
    """R^2 on the test set of a ridge regression (with intercept) fitted on the training set."""
    mean_x, mean_y = train_x.mean(0), train_y.mean()
    a = train_x - mean_x
    w = np.linalg.solve(a.T @ a + alpha * len(a) * np.eye(a.shape[1]), a.T @ (train_y - mean_y))
    pred = (test_x - mean_x) @ w + mean_y
    return float(1.0 - ((test_y - pred) ** 2).sum() / ((test_y - test_y.mean()) ** 2).sum())


@torch.no_grad()
def cannon_report(vae: Any, frames: np.ndarray, episode_of_frame: np.ndarray, device: torch.device,
                  batch: int = 1024) -> dict[str, float]:
    """The numbers of the module docstring on ``frames`` (N, 64, 64, 3) uint8; ``episode_of_frame`` (N,)
    splits the probe's training and test frames by episode (the last 20% of the episodes are the test set)."""
    mus, found = [], []
    shots = shown = 0
    x_true = cannon_x(frames)
    for i in range(0, len(frames), batch):
        chunk = torch.as_tensor(frames[i:i + batch], device=device)
        mu = vae.encode_frames(chunk)
        mus.append(mu.cpu().numpy())
        recon = vae.decode(mu).permute(0, 2, 3, 1).cpu().numpy() * 255.0
        found.append(cannon_x(recon))
        n, k = shot_recall(frames[i:i + batch], recon)
        shots, shown = shots + n, shown + k
    mu_all, x_recon = np.concatenate(mus), np.concatenate(found)
    seen = ~np.isnan(x_true)
    episodes = np.unique(episode_of_frame)
    test_eps = episodes[int(len(episodes) * 0.8):]
    test = np.isin(episode_of_frame, test_eps) & seen
    train = ~np.isin(episode_of_frame, test_eps) & seen
    close = np.abs(np.nan_to_num(x_recon[seen], nan=-99.0) - x_true[seen]) <= 1.0
    return {"frames": int(len(frames)), "present": float(seen.mean()), "x_std": float(np.std(x_true[seen])),
            "recon_found": float(close.mean()), "shot_pixels_per_frame": shots / max(1, len(frames)),
            "shot_recall": shown / max(1, shots),
            "probe_r2": ridge_r2(mu_all[train], x_true[train], mu_all[test], x_true[test])}


@torch.no_grad()
def teacher_forced_episodes(data_dir: Path, vae: Any, mdn: Any) -> Iterator[dict[str, Any]]:
    """Every stored episode of ``data_dir``'s shards, as real play would feed the models: ``mu`` (T+1, Z) of each
    frame, ``h`` (T+1, H) the LSTM state the controller reads at each frame (zero at the first, then after every
    earlier (mu, action)), ``pred`` the MDN-RNN's heads for each step (T, ...), beside the episode's ``obs``,
    ``actions``, ``lives`` and ``id``."""
    from utils.data import action_values

    for shard in sorted(Path(data_dir).glob("shard_*.npz")):
        d = np.load(shard)
        f0, s0 = 0, 0
        for ep, n in zip(d["episode_ids"], d["lengths"]):
            obs, act, lives = d["obs"][f0:f0 + n + 1], d["actions"][s0:s0 + n], d["lives"][f0:f0 + n + 1]
            f0, s0 = f0 + n + 1, s0 + n
            mu = torch.cat([vae.encode_frames(torch.as_tensor(obs[i:i + 512])) for i in range(0, len(obs), 512)])
            x = torch.cat([mu[None, :-1], mdn.action_input(torch.as_tensor(action_values(act))[None], mu.dtype)], -1)
            out = mdn.lstm(x)[0][0]  # (T, H): the state after each step
            yield {"id": int(ep), "obs": obs, "actions": act, "lives": lives, "mu": mu, "pred": mdn.predict(out, mu[1:]),
                   "h": torch.cat([torch.zeros(1, mdn.hidden_size), out])}

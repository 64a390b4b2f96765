"""evaluate.py --visualize on a tiny run: every file exists and is not trivial."""

from __future__ import annotations

import json

import imageio_ffmpeg
import matplotlib.image as mpimg
import numpy as np
import pytest
import torch
import torch.distributions as D

import evaluate
from utils.data import LatentData
from utils.visualize import mdn_quality
from utils.world_model import WorldModel


def test_visualize_writes_every_file(dry_run):
    cfg, _ = dry_run
    argv = ["--dry-run", "--run", str(cfg.run_path), "--visualize", "--env.max-episode-frames", "800",
            "--logging.progress", "false"]
    assert evaluate.cli(argv) == 0
    out = cfg.run_path / "visuals"
    summary = json.loads((out / "summary.json").read_text())
    for name in ("recon_grid", "latent_pca", "mdn_horizon", "training_curves"):
        img = mpimg.imread(out / f"{name}.png")
        assert img.shape[0] > 200 and img[..., :3].std() > 0.05, f"{name}.png is (nearly) one colour"
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(out / "dream_vs_reality.mp4"))
    assert frames == summary["dream_video"]["frames"] > 10
    quality = json.loads((out / "mdn_quality.json").read_text())
    assert len(quality["horizon_mse"]) == len(quality["persistence_mse"]) == 30
    assert all(c > 0 for c in quality["horizon_counts"])
    # The variance shares of the PCA plot: the top eigenvalues of the latents' covariance (every frame of
    # the tiny run is under the 5,000-point sample), by another route than the plot's SVD.
    mu = LatentData.load(cfg.run_path / "latents.npz").mu.astype(np.float64)
    eig = np.sort(np.linalg.eigvalsh(np.cov(mu.T)))[::-1]
    assert len(mu) < 5000
    np.testing.assert_allclose(summary["pca_explained"], eig[:2] / eig.sum(), rtol=1e-4)


def test_mdn_quality_against_a_direct_computation(dry_run):
    """The MDN-RNN's numbers on one episode, recomputed with torch.distributions and plain numpy."""
    cfg, _ = dry_run
    wm = WorldModel.load(cfg.run_path, torch.device("cpu"))
    lat = LatentData.load(cfg.run_path / "latents.npz")
    q = mdn_quality(wm, lat, max_episodes=1, horizon=3)
    T, f0, s0 = int(lat.lengths[0]), int(lat.frame_start[0]), int(lat.step_start[0])
    z = torch.from_numpy(lat.mu[f0:f0 + T + 1]).float()
    a = torch.from_numpy(lat.actions[s0:s0 + T]).long()
    with torch.no_grad():
        pred, _ = wm.mdn(z[None, :-1], a[None])
    mix = D.MixtureSameFamily(D.Categorical(logits=pred["logit_pi"]), D.Normal(pred["mu"], pred["log_sigma"].exp()))
    assert q["nll_per_dim"] == pytest.approx(-mix.log_prob(z[None, 1:]).mean().item(), rel=1e-5)
    r = lat.rewards[s0:s0 + T]
    hits = (np.sign(np.round(pred["reward"][0].numpy())) == np.sign(r)).mean()
    assert q["reward_sign_accuracy"] == pytest.approx(hits)
    starts = np.arange(0, T - 3, 10)  # open-loop starts; "persistence" predicts z_s for every later step
    zn = z.numpy().astype(np.float64)
    for k in range(3):
        assert q["persistence_mse"][k] == pytest.approx(((zn[starts] - zn[starts + k + 1]) ** 2).mean(), rel=1e-5)
    assert q["horizon_counts"] == [len(starts)] * 3


def test_visualize_needs_a_run(tmp_path, capsys):
    argv = ["--dry-run", "--run", str(tmp_path / "missing"), "--visualize"]
    assert evaluate.cli(argv) == 1
    assert "does not exist" in capsys.readouterr().err

"""evaluate.py --visualize on a tiny run: every file exists and is not trivial."""

from __future__ import annotations

import json

import imageio_ffmpeg
import matplotlib.image as mpimg

import evaluate


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
    assert 0.0 <= quality["reward_sign_accuracy"] <= 1.0 and quality["nll_per_dim"] == quality["nll_per_dim"]  # not NaN
    assert len(summary["pca_explained"]) == 2 and 0 < sum(summary["pca_explained"]) <= 1


def test_visualize_needs_a_run(tmp_path, capsys):
    argv = ["--dry-run", "--run", str(tmp_path / "missing"), "--visualize"]
    assert evaluate.cli(argv) == 1
    assert "does not exist" in capsys.readouterr().err

"""Phase 1: collect random rollouts (if not already collected) and train the VAE on their frames.

    python train_vae.py --num-epochs 4            # default preset
    python train_vae.py --dry-run --no-wandb      # tiny, seconds

Writes ``<run_dir>/data/`` (shards + manifest) and ``<run_dir>/vae/`` (model.safetensors + config.json,
metrics.json with per-epoch reconstruction and KL).
"""

from __future__ import annotations

import utils.omp  # noqa: F401  (first: sets GOMP_SPINCOUNT before torch loads OpenMP)

# isort: split

import sys
from pathlib import Path

import numpy as np
import torch

from config import Config
from models.vae import ConvVAE
from utils.cli import run_cli
from utils.common import (
    Timer,
    cpu_kernels,
    finished_phase,
    prepare_run_dir,
    record_config,
    resolve_device,
    seed_everything,
    train_epochs,
)
from utils.data import FrameDataset, collect_rollouts, data_signature
from utils.io import UserError, atomic_write_json, load_weights, save_model
from utils.logger import RunLogger
from utils.resume import (
    RESUME_NAME,
    clear_state,
    load_state,
    phase_lock,
    restore_epoch,
    save_epoch,
    signature_of,
    trim_log,
)
from utils.run_paths import RunPaths

# The config sections this script reads (its --help shows them, with env, logging and the run's fields).
SECTIONS = ("data", "vae", "rollout")


def mean_frame(dataset: FrameDataset, rng: np.random.Generator, max_frames: int = 5000,
               median: bool = False) -> tuple[np.ndarray, float, np.ndarray | None]:
    """Mean of up to ``max_frames`` training frames, (H, W, 3) in [0, 1], the reconstruction error
    (summed squared error per frame) of always predicting it (the baseline a VAE must beat), and (if
    ``median``) their per-pixel median (the static background: moving objects occupy a pixel in few frames)."""
    batches = []
    for batch in dataset.batches(min(len(dataset), 500), rng):
        batches.append(batch.astype(np.float32) / 255.0)
        if sum(len(b) for b in batches) >= max_frames:
            break
    if not batches:  # fewer frames than one streamed batch
        return np.full(dataset.frame_shape, 0.5, dtype=np.float32), float("nan"), np.full(dataset.frame_shape, 0.5, np.float32)
    sample = np.concatenate(batches)
    mean = sample.mean(0)
    return mean, float(((sample - mean) ** 2).sum(axis=(1, 2, 3)).mean()), np.median(sample, axis=0) if median else None


def main(cfg: Config) -> dict:
    paths = RunPaths.of(cfg)
    run, out = paths.root, paths.vae
    if (done := finished_phase(out, "vae", cfg.restart)) is not None:
        return done
    prepare_run_dir(cfg)
    with phase_lock(out, "vae"):
        seed_everything(cfg.seed)
        device = resolve_device(cfg.device)
        timer = Timer()
        # Everything the weights depend on except the epoch count, which may grow on resume.
        signature = {"seed": cfg.seed, "vae": signature_of(cfg.vae, "num_epochs"), "data": data_signature(cfg)}
        state = load_state(out, "vae", signature, cfg.restart)
        logger = RunLogger(cfg, "vae", run)  # before collection: a wandb problem shows at once
        try:
            return _train(cfg, run, out, device, timer, signature, state, logger)
        finally:
            logger.close()


def _train(cfg: Config, run: Path, out: Path, device: torch.device, timer: Timer, signature: dict, state: dict | None, logger: RunLogger) -> dict:
    manifest = collect_rollouts(cfg, progress=cfg.logging.progress)
    steps = sum(s["steps"] for s in manifest["shards"])
    print(f"[data] {sum(s['episodes'] for s in manifest['shards'])} episodes, {steps} steps in {cfg.data_path} "
          f"(collected in {timer.seconds:.1f}s)")
    dataset = FrameDataset(cfg.data_path, cfg.data.max_in_memory_frames)
    if len(dataset) < cfg.vae.batch_size and dataset.streaming:
        raise UserError(f"only {len(dataset)} frames for --vae.batch_size {cfg.vae.batch_size}")
    record_config(cfg, run)
    trim_log(RunPaths(run).log("vae"), int(state["step"]) if state else 0)  # drop what a killed run's lost part logged

    model = ConvVAE(cfg.vae.latent_dim, cfg.env.frame_size)
    weighted = cfg.vae.foreground_weight > 0
    mean, mean_frame_error, median = mean_frame(dataset, rng=np.random.default_rng(cfg.seed), median=weighted)
    background = torch.from_numpy(median).permute(2, 0, 1).to(device) if weighted else None
    if cfg.vae.init_from:  # fine-tuning (iterative training): the given weights, pixel bias included
        load_weights(model, Path(cfg.vae.init_from), "vae")
    elif cfg.vae.pixel_bias:
        model.set_pixel_bias(torch.from_numpy(mean))
    model = model.to(device).to(memory_format=torch.channels_last)
    pays = cfg.vae.pay_weight > 0  # batches then come with (B, 2) flags: the steps into and out of the frame pay
    # The pay head trains beside the VAE (in its optimizer and resume state) and is not saved with it.
    pay_head = torch.nn.Linear(cfg.vae.latent_dim, 2).to(device) if pays else None
    trained = torch.nn.ModuleDict({"vae": model, "pay_head": pay_head}) if pays else model
    optimizer = torch.optim.Adam(trained.parameters(), lr=cfg.vae.learning_rate)
    rng = np.random.default_rng(cfg.seed)
    done, step, history, seconds_before = 0, 0, [], 0.0
    if state is not None:
        done, step, history, seconds_before = restore_epoch(state, trained, optimizer, rng)
        print(f"[vae] resuming from {out / RESUME_NAME}: {done}/{cfg.vae.num_epochs} epochs done "
              "(pass --restart to start over)")
    bs = cfg.vae.batch_size
    t_train = Timer()

    hits = cfg.vae.hit_weight > 0  # batches then come with a (B,) flag: the frame is next to a paying step
    moving = cfg.vae.motion_weight > 0 or hits  # batches hold each frame and the one before it: (B, 2, H, W, 3)

    def loss_fn(batch):
        frames, flags = batch if hits or pays else (batch, None)
        x = torch.from_numpy(frames).to(device)
        flags = torch.from_numpy(flags).to(device) if flags is not None else None
        return model.compute_loss(x[:, 0] if moving else x, cfg.vae.kl_tolerance, cfg.vae.kl_weight, background,
                                  cfg.vae.foreground_weight, x[:, 1] if moving else None, cfg.vae.motion_weight,
                                  flags if hits else None, cfg.vae.hit_weight, pay_head, flags if pays else None,
                                  cfg.vae.pay_weight)

    def on_epoch_end(epoch: int, summary: dict, step: int) -> None:
        history.append(summary)
        save_model(model, out, model.config(), "vae")
        save_epoch(out, signature, trained, optimizer, rng, epoch + 1, step, history, seconds_before + t_train.seconds)
        print(f"[vae] epoch {epoch + 1}/{cfg.vae.num_epochs}  recon {summary['recon']:.2f}  kl {summary['kl']:.2f}  "
              f"({summary['steps'] * bs / summary['seconds']:.0f} frames/s)")

    train_epochs(model, optimizer, range(done, cfg.vae.num_epochs), lambda e: dataset.batches(bs, rng, previous=moving, near_pay=hits, pays=pays),
                 loss_fn, "vae", logger, progress=cfg.logging.progress,
                 total_batches=max(1, len(dataset) // bs), on_epoch_end=on_epoch_end, first_step=step)
    logger.log_artifact(out, "vae")
    seconds = seconds_before + t_train.seconds
    metrics = {
        "frames": len(dataset), "epochs": history, "final_recon": history[-1]["recon"], "final_kl": history[-1]["kl"],
        "train_seconds": seconds, "frames_per_second": sum(h["steps"] for h in history) * bs / seconds,
        "streaming": dataset.streaming, "mean_frame_recon": mean_frame_error, "pixel_bias": cfg.vae.pixel_bias,
        "cpu_kernels": cpu_kernels(), "resumed_at_epoch": done if state is not None else None,
    }
    atomic_write_json(out / "metrics.json", metrics)
    clear_state(out)
    print(f"[vae] done: recon {metrics['final_recon']:.2f} per frame (always predicting the mean frame: "
          f"{mean_frame_error:.2f}), kl {metrics['final_kl']:.2f}")
    return metrics


def cli(argv: list[str] | None = None) -> int:
    return run_cli(main, argv, __doc__.splitlines()[0], sections=SECTIONS,
                   shorthands={"--num-epochs": ("vae.num_epochs", "training epochs")})


if __name__ == "__main__":
    sys.exit(cli())

"""Phase 2: encode the rollouts with the trained VAE (once, cached) and train the MDN-RNN on them.

    python train_mdn_rnn.py --num-epochs 20

Reads ``<run_dir>/data`` and ``<run_dir>/vae``; writes ``<run_dir>/latents.npz`` (mu/logvar per
frame, keyed to the VAE weights and the data) and ``<run_dir>/mdn_rnn/``. The latent size comes
from the VAE, the action count from the game.
"""

from __future__ import annotations

import utils.omp  # noqa: F401  (first: sets GOMP_SPINCOUNT before torch loads OpenMP)

# isort: split

import math
import sys
from pathlib import Path

import numpy as np
import torch

from config import Config
from models.mdn_rnn import MDNRNN, fit_logit_offset
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
from utils.data import LatentData, SequenceSampler, action_values, data_signature, read_manifest
from utils.io import WEIGHTS_NAME, UserError, atomic_write_json, load_weights, save_model
from utils.latents import encode_dataset
from utils.logger import RunLogger
from utils.resume import (
    RESUME_NAME,
    clear_state,
    file_digest,
    load_state,
    phase_lock,
    restore_epoch,
    save_epoch,
    signature_of,
    trim_log,
)
from utils.run_paths import RunPaths
from utils.wrappers import action_clip, action_space, num_actions

# The config sections this script reads (its --help shows them, with env, logging and the run's fields).
SECTIONS = ("data", "mdn_rnn")


def check_calibration_episodes(n_held: int, n_episodes: int) -> None:
    if n_held >= n_episodes:
        raise UserError(f"--mdn_rnn.calibration-episodes {n_held} leaves no episode to train on (the data has {n_episodes})")


def main(cfg: Config) -> dict:
    paths = RunPaths.of(cfg)
    out = paths.mdn_rnn
    mc = cfg.mdn_rnn
    if mc.calibrate_events and mc.calibration_episodes and (m := read_manifest(cfg.data_path)) is not None:
        check_calibration_episodes(mc.calibration_episodes, sum(s["episodes"] for s in m["shards"]))  # before --restart drops anything
    if (done := finished_phase(out, "mdn_rnn", cfg.restart)) is not None:
        return done
    if not (paths.vae / WEIGHTS_NAME).exists():
        raise UserError(f"no trained VAE in {paths.vae}: run train_vae.py first (same --run-dir / preset / seed)")
    prepare_run_dir(cfg)
    with phase_lock(out, "mdn_rnn"):
        seed_everything(cfg.seed)
        device = resolve_device(cfg.device)
        # Everything the weights depend on except the epoch count, which may grow on resume (freeze_lstm only acts with
        # init_from: without it the signature is the one runs had before the flag existed, so they still resume).
        unused = () if mc.init_from else ("freeze_lstm",)
        signature = {"seed": cfg.seed, "mdn_rnn": signature_of(cfg.mdn_rnn, "num_epochs", *unused),
                     "vae": file_digest(paths.vae / WEIGHTS_NAME), "data": data_signature(cfg)}
        state = load_state(out, "mdn_rnn", signature, cfg.restart)
        logger = RunLogger(cfg, "mdn_rnn", paths.root)  # before encoding: a wandb problem shows at once
        try:
            return _train(cfg, paths, device, signature, state, logger)
        finally:
            logger.close()


def _train(cfg: Config, paths: RunPaths, device: torch.device, signature: dict, state: dict | None,
           logger: RunLogger) -> dict:
    out = paths.mdn_rnn
    latents = encode_dataset(cfg, paths, device, cfg.logging.progress)
    record_config(cfg, paths.root)
    trim_log(paths.log("mdn_rnn"), int(state["step"]) if state else 0)  # drop what a killed run's lost part logged
    latent_dim = latents.mu.shape[1]
    mc = cfg.mdn_rnn
    box = action_space(cfg.env)  # None: discrete actions; else CarRacing's (low, high)
    model = MDNRNN(latent_dim, num_actions(cfg.env), mc.hidden_size, mc.num_mixtures, reward_target=mc.reward_target,
                   life_head=mc.life_head, events_see_z=mc.events_see_z, life_shift=mc.life_shift, z_target=mc.z_target,
                   action_low=box and box[0], action_high=box and box[1], action_clip=action_clip(cfg.env),
                   event_logit_offset=math.log(mc.done_pos_weight) if mc.calibrate_events else 0.0)
    if mc.init_from:  # fine-tuning (iterative training): the given weights, same sizes and heads
        load_weights(model, Path(mc.init_from), "mdn_rnn")
    if mc.init_from and mc.freeze_lstm:  # only the heads learn: h, and so what a controller reads, stays as it was
        model.lstm.requires_grad_(False)
    model = model.to(device)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=mc.learning_rate)
    held = None
    if mc.calibrate_events and mc.calibration_episodes:  # the last episodes fit the event offsets, not the weights
        n = len(latents.lengths)
        check_calibration_episodes(mc.calibration_episodes, n)
        held = latents.episodes(np.arange(n - mc.calibration_episodes, n))
        latents = latents.episodes(np.arange(n - mc.calibration_episodes))
    sampler = SequenceSampler(latents, mc.seq_len, life_shift=mc.life_shift)
    rng = np.random.default_rng(cfg.seed)
    per_epoch = sampler.batches_per_epoch(mc.batch_size)

    def batches(epoch: int):
        for _ in range(per_epoch):
            yield {k: torch.from_numpy(v).to(device) for k, v in sampler.sample(mc.batch_size, rng).items()}

    def loss_fn(batch):
        return model.compute_loss(batch, mc.reward_weight, mc.done_weight, mc.done_pos_weight)

    done, step, history, seconds_before = 0, 0, [], 0.0
    if state is not None:
        done, step, history, seconds_before = restore_epoch(state, model, optimizer, rng)
        print(f"[mdn_rnn] resuming from {out / RESUME_NAME}: {done}/{mc.num_epochs} epochs done "
              "(pass --restart to start over)")
    timer = Timer()

    def on_epoch_end(epoch: int, s: dict, step: int) -> None:
        history.append(s)
        save_model(model, out, model.config(), "mdn_rnn")
        save_epoch(out, signature, model, optimizer, rng, epoch + 1, step, history, seconds_before + timer.seconds)
        if epoch == 0 or (epoch + 1) % max(1, mc.num_epochs // 10) == 0 or epoch + 1 == mc.num_epochs:
            print(f"[mdn_rnn] epoch {epoch + 1}/{mc.num_epochs}  nll/dim {s['nll']:.3f}  reward_mse {s['reward_mse']:.4f}  "
                  f"done_bce {s['done_bce']:.4f}  " + (f"life_bce {s['life_bce']:.4f}  " if "life_bce" in s else "")
                  + f"({s['steps'] / s['seconds']:.1f} steps/s)")

    train_epochs(model, optimizer, range(done, mc.num_epochs), batches, loss_fn, "mdn_rnn", logger,
                 grad_clip=mc.grad_clip, progress=cfg.logging.progress, total_batches=per_epoch,
                 on_epoch_end=on_epoch_end, first_step=step)
    calibration = None
    if held is not None:
        calibration = calibrate_on(model, held, device)
        save_model(model, out, model.config(), "mdn_rnn")
        c = calibration
        print(f"[mdn_rnn] event offsets fitted on {c['episodes']} held-out episodes: done {c['done']['offset']:.2f} "
              f"(class weight {c['done']['class_weight_offset']:.2f}: {c['done']['predicted_with_class_weight_offset']:.1f} "
              f"predicted vs {c['done']['events']} real)" + (
                  f", life {c['life']['offset']:.2f} ({c['life']['predicted_with_class_weight_offset']:.1f} predicted vs "
                  f"{c['life']['events']} real)" if "life" in c else ""))
    logger.log_artifact(out, "mdn_rnn")
    seconds = seconds_before + timer.seconds
    metrics = {"epochs": history, "final_nll": history[-1]["nll"], "train_seconds": seconds,
               "steps_per_second": sum(h["steps"] for h in history) / seconds, "latent_dim": latent_dim,
               "cpu_kernels": cpu_kernels(), "resumed_at_epoch": done if state is not None else None, "calibration": calibration}
    atomic_write_json(out / "metrics.json", metrics)
    clear_state(out)
    return metrics


@torch.no_grad()
def calibrate_on(model: MDNRNN, held: LatentData, device: torch.device) -> dict:
    """Fit the done (and life) head's logit offset on held-out episodes, teacher forced from a zero state on the
    VAE means (as the dream report does): afterwards each head's probabilities there sum to its real events."""
    model.eval()
    logits: dict[str, list[torch.Tensor]] = {"done": [], "life": []}
    for e in range(len(held.lengths)):
        f, s, T = int(held.frame_start[e]), int(held.step_start[e]), int(held.lengths[e])
        mu = torch.from_numpy(held.mu[f:f + T + 1]).float()[None].to(device)
        pred, _ = model(mu[:, :-1], torch.from_numpy(action_values(held.actions[s:s + T]))[None].to(device), z_next=mu[:, 1:])
        logits["done"].append(pred["done_logit"][0].cpu())
        if model.life_head:
            logits["life"].append(pred["life_logit"][0].cpu())
    events = {"done": float(held.dones.sum()), "life": float(held.life_loss_at(model.life_shift).sum())}
    out = {}
    for head in ("done", "life") if model.life_head else ("done",):
        lg = torch.cat(logits[head])
        before = model.event_logit_offset if head == "done" else model.life_logit_offset
        offset = fit_logit_offset(lg, events[head])
        out[head] = {"offset": offset, "class_weight_offset": before, "events": int(events[head]), "steps": int(lg.numel()),
                     "predicted_with_class_weight_offset": float(torch.sigmoid(lg - before).sum())}
    model.event_logit_offset = out["done"]["offset"]
    if model.life_head:
        model.life_logit_offset = out["life"]["offset"]
    model.train()
    return {"episodes": len(held.lengths), **out}


def cli(argv: list[str] | None = None) -> int:
    return run_cli(main, argv, __doc__.splitlines()[0], sections=SECTIONS,
                   shorthands={"--num-epochs": ("mdn_rnn.num_epochs", "training epochs")})


if __name__ == "__main__":
    sys.exit(cli())

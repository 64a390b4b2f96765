"""Phase 2: encode the rollouts with the trained VAE (once, cached) and train the MDN-RNN on them.

    python train_mdn_rnn.py --num-epochs 20

Reads ``<run_dir>/data`` and ``<run_dir>/vae``; writes ``<run_dir>/latents.npz`` (mu/logvar per
frame, keyed to the VAE weights and the data) and ``<run_dir>/mdn_rnn/``. The latent size comes
from the VAE, the action count from the game.
"""

from __future__ import annotations

import os

# Before torch loads OpenMP: idle OpenMP threads spin only briefly, so they do not steal the cores
# the emulator threads need (compare `GOMP_SPINCOUNT=300000 python bench.py`, libgomp's default).
os.environ.setdefault("GOMP_SPINCOUNT", "10000")

import json
import sys
from pathlib import Path

import numpy as np
import torch

from config import Config
from models.mdn_rnn import MDNRNN
from utils.agent import MDN_DIR, VAE_DIR, load_vae
from utils.common import (
    Timer,
    cli_main,
    finished_phase,
    prepare_run_dir,
    record_config,
    resolve_device,
    seed_everything,
    train_epochs,
)
from utils.data import (
    LatentData,
    SequenceSampler,
    check_manifest,
    complete_manifest,
    data_signature,
    load_shard,
    shard_paths,
)
from utils.io import WEIGHTS_NAME, UserError, atomic_write_json, save_model
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
from utils.wrappers import num_actions

LATENTS = "latents.npz"


@torch.no_grad()
def encode_dataset(cfg: Config, run: Path, device: torch.device, progress: bool = True) -> LatentData:
    """mu/logvar of every frame, cached in ``latents.npz``; re-encoded when the VAE or data change."""
    from tqdm import tqdm

    data_dir = cfg.data_path
    manifest = complete_manifest(data_dir)
    check_manifest(manifest, cfg, data_dir)  # the data this config asks for, not another config's
    key = {"vae": file_digest(run / VAE_DIR / WEIGHTS_NAME), "data": [s["file"] + f":{s['frames']}" for s in manifest["shards"]],
           "signature": manifest["signature"]}
    cache = run / LATENTS
    meta_path = cache.with_suffix(".json")
    if cache.exists() and meta_path.exists() and json.loads(meta_path.read_text()).get("key") == key:
        return LatentData.load(cache)
    vae = load_vae(run / VAE_DIR, device)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("mu", "logvar", "actions", "rewards", "dones", "lengths")}
    timer, n = Timer(), 0
    for path in tqdm(shard_paths(data_dir, manifest), desc="encode", disable=not progress, leave=False):
        shard = load_shard(path)
        for i in range(0, len(shard["obs"]), 1024):
            x = vae.to_input(torch.from_numpy(shard["obs"][i:i + 1024]).to(device))
            mu, logvar = vae.encode(x)
            parts["mu"].append(mu.cpu().numpy())
            parts["logvar"].append(logvar.cpu().numpy())
        n += len(shard["obs"])
        for k in ("actions", "rewards", "dones", "lengths"):
            parts[k].append(shard[k])
    latents = LatentData(**{k: np.concatenate(v) for k, v in parts.items()})
    latents.save(cache, {"key": key, "frames": n, "encode_frames_per_second": n / timer.seconds})
    print(f"[mdn_rnn] encoded {n} frames ({n / timer.seconds:.0f} frames/s) -> {cache}")
    return latents


def main(cfg: Config) -> dict:
    run = cfg.run_path
    out = run / MDN_DIR
    if (done := finished_phase(out, "mdn_rnn", cfg.restart)) is not None:
        return done
    if not (run / VAE_DIR / WEIGHTS_NAME).exists():
        raise UserError(f"no trained VAE in {run / VAE_DIR}: run train_vae.py first (same --run-dir / preset / seed)")
    prepare_run_dir(cfg)
    with phase_lock(out, "mdn_rnn"):
        seed_everything(cfg.seed)
        device = resolve_device(cfg.device)
        # Everything the weights depend on except the epoch count, which may grow on resume.
        signature = {"seed": cfg.seed, "mdn_rnn": signature_of(cfg.mdn_rnn, "num_epochs"),
                     "vae": file_digest(run / VAE_DIR / WEIGHTS_NAME), "data": data_signature(cfg)}
        state = load_state(out, "mdn_rnn", signature, cfg.restart)
        logger = RunLogger(cfg, "mdn_rnn", run)  # before encoding: a wandb problem shows at once
        try:
            return _train(cfg, run, out, device, signature, state, logger)
        finally:
            logger.close()


def _train(cfg: Config, run: Path, out: Path, device: torch.device, signature: dict, state: dict | None,
           logger: RunLogger) -> dict:
    latents = encode_dataset(cfg, run, device, cfg.logging.progress)
    record_config(cfg, run)
    trim_log(run / "logs" / "mdn_rnn.jsonl", int(state["step"]) if state else 0)  # drop what a killed run's lost part logged
    latent_dim = latents.mu.shape[1]
    mc = cfg.mdn_rnn
    model = MDNRNN(latent_dim, num_actions(cfg.env), mc.hidden_size, mc.num_mixtures).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=mc.learning_rate)
    sampler = SequenceSampler(latents, mc.seq_len)
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
                  f"done_bce {s['done_bce']:.4f}  ({s['steps'] / s['seconds']:.1f} steps/s)")

    train_epochs(model, optimizer, range(done, mc.num_epochs), batches, loss_fn, "mdn_rnn", logger,
                 grad_clip=mc.grad_clip, progress=cfg.logging.progress, total_batches=per_epoch,
                 on_epoch_end=on_epoch_end, first_step=step)
    logger.log_artifact(out, "mdn_rnn")
    seconds = seconds_before + timer.seconds
    metrics = {"epochs": history, "final_nll": history[-1]["nll"], "train_seconds": seconds,
               "steps_per_second": sum(h["steps"] for h in history) / seconds, "latent_dim": latent_dim,
               "resumed_at_epoch": done if state is not None else None}
    atomic_write_json(out / "metrics.json", metrics)
    clear_state(out)
    return metrics


if __name__ == "__main__":
    sys.exit(cli_main(__doc__.splitlines()[0], main, num_epochs_field="mdn_rnn.num_epochs"))

"""The VAE's encoding of every collected frame (mu, logvar), cached in ``<run>/latents.npz`` and made
again when the VAE weights or the data change. The MDN-RNN trains on it, the dream starts from it."""

from __future__ import annotations

import json

import numpy as np
import torch

from config import Config
from utils.common import Timer
from utils.data import LATENT_KEYS, LatentData, check_manifest, complete_manifest, load_shard, shard_paths
from utils.io import WEIGHTS_NAME
from utils.resume import file_digest
from utils.run_paths import RunPaths
from utils.world_model import load_vae


@torch.no_grad()
def encode_dataset(cfg: Config, paths: RunPaths, device: torch.device, progress: bool = True) -> LatentData:
    """mu/logvar of every frame, cached in ``latents.npz``; re-encoded when the VAE or data change."""
    from tqdm import tqdm

    manifest = complete_manifest(paths.data)
    check_manifest(manifest, cfg, paths.data)  # the data this config asks for, not another config's
    key = {"vae": file_digest(paths.vae / WEIGHTS_NAME), "data": [s["file"] + f":{s['frames']}" for s in manifest["shards"]],
           "signature": manifest["signature"]}
    cache = paths.latents
    meta_path = cache.with_suffix(".json")
    # Loaded even when the cache answers: building the VAE draws its initial weights from the global RNG, and the
    # MDN-RNN is initialised from that RNG next, so both paths must draw the same (same seed -> same MDN-RNN).
    vae = load_vae(paths.vae, device)
    if cache.exists() and meta_path.exists() and json.loads(meta_path.read_text()).get("key") == key:
        return LatentData.load(cache)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in LATENT_KEYS}
    timer, n = Timer(), 0
    for path in tqdm(shard_paths(paths.data, manifest), desc="encode", disable=not progress, leave=False):
        shard = load_shard(path)
        for i in range(0, len(shard["obs"]), 1024):
            x = vae.to_input(torch.from_numpy(shard["obs"][i:i + 1024]).to(device))
            mu, logvar = vae.encode(x)
            parts["mu"].append(mu.cpu().numpy())
            parts["logvar"].append(logvar.cpu().numpy())
        n += len(shard["obs"])
        for k in ("actions", "rewards", "dones", "lives", "lengths"):
            parts[k].append(shard[k])
    latents = LatentData(**{k: np.concatenate(v) for k, v in parts.items()})
    latents.save(cache, {"key": key, "frames": n, "encode_frames_per_second": n / timer.seconds})
    print(f"[mdn_rnn] encoded {n} frames ({n / timer.seconds:.0f} frames/s) -> {cache}")
    return latents

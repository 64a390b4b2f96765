"""How many directions of the VAE's z carry its variation, per training seed (runs/mt/s<SEED>):
- the means mu over every frame of the data (what real play feeds the controller, and what
  ``--controller.z-components K`` takes its directions from): the share of their variance in the first K principal
  directions, and the per-dimension std of mu and mean sigma (collapsed dimensions: mu barely moves, sigma near 1);
- the sampled z at the 2,048 dream starts that ``--controller.h-components`` uses (what the dream feeds it).

    python docs/issue11/session39/z_spectrum.py 0 1 2
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np  # noqa: E402
import torch  # noqa: E402

import utils.omp  # noqa: E402, F401
from config import make_config  # noqa: E402
from utils.dream import Dream  # noqa: E402
from utils.latents import encode_dataset  # noqa: E402
from utils.run_paths import RunPaths  # noqa: E402
from utils.world_model import WorldModel  # noqa: E402


def share(x: np.ndarray, ks) -> dict:
    var = np.linalg.svd(x - x.mean(0), compute_uv=False) ** 2
    return {k: round(float(np.cumsum(var)[k - 1] / var.sum()), 4) for k in ks}


out = {}
for seed in map(int, sys.argv[1:]):
    cfg = make_config("default", **{"run_dir": f"runs/mt/s{seed}", "seed": seed})
    paths, cpu = RunPaths.of(cfg), torch.device("cpu")
    wm = WorldModel.load(paths.root, cpu, with_controller=False, env=cfg.env)
    latents = encode_dataset(cfg, paths, cpu, False)
    dream = Dream(wm.mdn, latents, cfg.controller.warmup_steps, cpu)
    starts = dream.sample_starts(2048, np.random.default_rng(seed + 11), torch.Generator().manual_seed(seed + 11))
    mu, sigma = latents.mu.astype(np.float64), np.exp(0.5 * latents.logvar.astype(np.float64))
    ks = (4, 6, 8, 9, 12, 16, 24)
    out[seed] = {"mu_share": share(mu, ks), "sampled_z_share": share(starts.z.numpy().astype(np.float64), ks),
                 "mu_std_sorted": np.round(np.sort(mu.std(0))[::-1], 3).tolist(),
                 "mean_sigma_sorted": np.round(np.sort(sigma.mean(0)), 3).tolist()}
    o = out[seed]
    print(f"seed {seed}: share of variance in the first K directions: means {o['mu_share']}; sampled z at dream starts "
          f"{o['sampled_z_share']}\n  std of mu per dimension {o['mu_std_sorted'][:12]} ...; mean sigma per dimension "
          f"{o['mean_sigma_sorted'][:12]} ...")
print(json.dumps(out))

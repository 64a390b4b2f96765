"""How many directions of the VAE's z carry its variation: the share of z's variance over the same 2,048 dream starts
that ``--controller.h-components`` uses (same seeded draw) in its first K principal directions, per training seed.

    python docs/issue11/session39/z_spectrum.py 0 1 2     # runs/mt/s<SEED>
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

out = {}
for seed in map(int, sys.argv[1:]):
    cfg = make_config("default", **{"run_dir": f"runs/mt/s{seed}", "seed": seed})
    paths, cpu = RunPaths.of(cfg), torch.device("cpu")
    wm = WorldModel.load(paths.root, cpu, with_controller=False, env=cfg.env)
    dream = Dream(wm.mdn, encode_dataset(cfg, paths, cpu, False), cfg.controller.warmup_steps, cpu)
    starts = dream.sample_starts(2048, np.random.default_rng(seed + 11), torch.Generator().manual_seed(seed + 11))
    z = starts.z.numpy().astype(np.float64)
    var = np.linalg.svd(z - z.mean(0), compute_uv=False) ** 2
    share = np.cumsum(var) / var.sum()
    out[seed] = {k: round(float(share[k - 1]), 4) for k in (2, 4, 8, 16, 24)}
    print(f"seed {seed}: share of z's variance in its first K directions {out[seed]}; per-dimension std "
          f"min {z.std(0).min():.3f} median {np.median(z.std(0)):.3f} max {z.std(0).max():.3f}")
print(json.dumps(out))

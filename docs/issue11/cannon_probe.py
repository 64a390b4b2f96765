"""Does z know where the cannon is? utils.probes.cannon_report on each run's own stored frames (every 4th frame of
its data/, so each run is measured on its own random episodes), printed as a table and written as JSON.

    python docs/issue11/cannon_probe.py RUN [RUN ...] [--output docs/issue11/cannon_probe.json]
    python docs/issue11/cannon_probe.py RUN --vae vae_e5 vae     # one run's data, several of its VAE folders
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import numpy as np  # noqa: E402
import torch  # noqa: E402

from utils.probes import cannon_report  # noqa: E402
from utils.world_model import load_vae  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("runs", nargs="+")
parser.add_argument("--output", default="")
parser.add_argument("--vae", nargs="+", default=["vae"], help="VAE folder(s) inside each run (default: vae)")
parser.add_argument("--stride", type=int, default=4, help="use every STRIDE-th frame")
args = parser.parse_args()
torch.manual_seed(0)
rows = {}
for run in args.runs:
    frames, episodes = [], []
    for shard in sorted(Path(run, "data").glob("shard_*.npz")):
        d = np.load(shard)
        obs, lengths, ids = d["obs"], d["lengths"], d["episode_ids"]
        ep = np.repeat(ids, lengths + 1)  # each episode stores length + 1 frames
        frames.append(obs[::args.stride])
        episodes.append(ep[::args.stride])
    for folder in args.vae:
        name = run if folder == "vae" else f"{run}/{folder}"
        vae = load_vae(Path(run) / folder, torch.device("cpu")).eval()
        rows[name] = r = cannon_report(vae, np.concatenate(frames), np.concatenate(episodes), torch.device("cpu"))
        print(f"{name}: {r['frames']} frames, cannon present {r['present']:.2f} (x std {r['x_std']:.1f} px), found in the reconstruction "
              f"{r['recon_found']:.2f}, linear probe R^2 {r['probe_r2']:.3f}", flush=True)
if args.output:
    Path(args.output).write_text(json.dumps(rows, indent=1) + "\n")

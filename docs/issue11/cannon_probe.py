"""Does z know where the cannon (and the shots and bombs) are? utils.probes.cannon_report on each run's own stored frames (every 4th frame of
its data/, so each run is measured on its own random episodes), printed as a table and written as JSON.

    python docs/issue11/cannon_probe.py RUN [RUN ...] [--output docs/issue11/cannon_probe.json]
    python docs/issue11/cannon_probe.py RUN --vae vae_e5 vae     # one run's data, several of its VAE folders
    python docs/issue11/cannon_probe.py RUN --state              # also probe the controller's input [z, h]

With ``--state`` (the run's own VAE and MDN-RNN): h is the LSTM state the controller sees at each frame, teacher
forced on the episode's mu and actions (as in real play, where the controller reads [mu_t, h_t] and h_t has consumed
every earlier (mu, action)); ``state_r2`` is the probe R^2 from [z, h] and ``h_r2`` from h alone: the LSTM sees the
actions, so it could know where the cannon went even where z lost it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import numpy as np  # noqa: E402
import torch  # noqa: E402

from utils.probes import cannon_report, cannon_x, ridge_r2, teacher_forced_episodes  # noqa: E402
from utils.world_model import load_mdn_rnn, load_vae  # noqa: E402


def state_probe(run: Path, stride: int) -> dict[str, float]:
    """R^2 of the cannon's x from [z, h] and from h alone, every stride-th frame, split by episode as cannon_report."""
    vae = load_vae(run / "vae", torch.device("cpu")).eval()
    mdn = load_mdn_rnn(run / "mdn_rnn", torch.device("cpu")).eval()
    feats, hs, xs, eps = [], [], [], []
    for e in teacher_forced_episodes(run / "data", vae, mdn):
        keep = np.arange(0, len(e["obs"]), stride)
        feats.append(e["mu"][keep].numpy()), hs.append(e["h"][keep].numpy()), xs.append(cannon_x(e["obs"][keep]))
        eps.append(np.full(len(keep), e["id"]))
    z, h, x, ep = np.concatenate(feats), np.concatenate(hs), np.concatenate(xs), np.concatenate(eps)
    seen = ~np.isnan(x)
    test_eps = np.unique(ep)[int(len(np.unique(ep)) * 0.8):]
    test, train = np.isin(ep, test_eps) & seen, ~np.isin(ep, test_eps) & seen
    zh = np.concatenate([z, h], 1)
    return {"state_r2": ridge_r2(zh[train], x[train], zh[test], x[test]), "h_r2": ridge_r2(h[train], x[train], h[test], x[test]),
            "z_r2": ridge_r2(z[train], x[train], z[test], x[test])}

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("runs", nargs="+")
parser.add_argument("--output", default="")
parser.add_argument("--vae", nargs="+", default=["vae"], help="VAE folder(s) inside each run (default: vae)")
parser.add_argument("--state", action="store_true", help="also probe [z, h] and h (needs the run's mdn_rnn)")
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
              f"{r['recon_found']:.2f}, linear probe R^2 {r['probe_r2']:.3f}; shot/bomb pixels {r['shot_pixels_per_frame']:.2f} "
              f"per frame, shown by the reconstruction {r['shot_recall']:.3f}", flush=True)
    if args.state:
        rows[run].update(sp := state_probe(Path(run), args.stride))
        print(f"{run}: probe R^2 from [z, h] {sp['state_r2']:.3f}, from h {sp['h_r2']:.3f} (z alone, every frame of "
              f"the episodes: {sp['z_r2']:.3f})", flush=True)
if args.output:
    Path(args.output).write_text(json.dumps(rows, indent=1) + "\n")

"""Issue 11: does the 64x64 frame show that a step pays, and does the VAE's z keep it?

    python docs/issue11/pixel_probe.py RUN [--games 40] [--vae VAE_DIR ...] [--json FILE]

Plays random games (the dream report's held-out policy and seeds, never the training data's) with RUN's world model
loaded, then trains the same small classifiers to tell the steps that pay (r_t > 0) from the others on the first
80% of the games and reports the AUC on the rest (0.5: no information, 1.0: perfect), from:
the frame change |x_{t+1} - x_t| at 64x64 (what the VAE is given), the same with the changes of the two steps
before and after (a hit shown a step early or late), and the VAE's codes [z_t, z_{t+1}]
and [z_{t-2} .. z_{t+3}] (the frames those changes come from).
If the pixels separate the paying steps and z does not, the VAE throws the hit away. ``--vae`` adds the same z rows
for other VAE checkpoints (e.g. one trained with ``--vae.hit_weight``) on the same games.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from reward_probe import classifier_auc  # noqa: E402

from config import config_from_dict  # noqa: E402
from utils.dream_quality import heldout_games  # noqa: E402
from utils.rollout import Models, make_engine  # noqa: E402
from utils.world_model import WorldModel, load_vae  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("--games", type=int, default=40)
    p.add_argument("--vae", nargs="*", default=[], help="more VAE checkpoint folders to probe on the same games")
    p.add_argument("--split-row", type=int, help="also probe the frame changes above and below this 64x64 row "
                   "(rows 3-5 hold the score: is the pixels' AUC the score counter or the hit on the playfield?)")
    p.add_argument("--only", help="probe only the features whose name contains this")
    p.add_argument("--json")
    args = p.parse_args()
    run = Path(args.run)
    cfg = config_from_dict(json.loads((run / "config.json").read_text()))
    cfg.run_dir = str(run)
    dev = torch.device("cpu")
    wm = WorldModel.load(run, dev)
    with make_engine(cfg, cfg.controller.real_num_envs, Models(wm.vae, wm.mdn)) as engine:
        games = heldout_games(cfg, engine, args.games)
    vaes = {"": wm.vae, **{f" ({v})": load_vae(Path(v), dev) for v in args.vae}}
    feats: dict[str, list[np.ndarray]] = {"pixel change": [], "pixel change t-2..t+2": []}
    for tag in vaes:
        feats[f"z_t, z_t+1{tag}"], feats[f"z_t-2..z_t+3{tag}"] = [], []
    R = args.split_row
    if R is not None:
        feats[f"pixel change t-2..t+2, rows < {R}"], feats[f"pixel change t-2..t+2, rows >= {R}"] = [], []
    ys = []
    with torch.no_grad():
        for g in games:
            obs = g["obs"]
            diff = np.abs(obs[1:].astype(np.int16) - obs[:-1].astype(np.int16)).sum(-1)  # (T, 64, 64)
            flat = diff.reshape(len(diff), -1).astype(np.float32)
            feats["pixel change"].append(flat)
            pad = np.pad(flat, ((2, 2), (0, 0)))  # the changes of the two steps before and after as well
            feats["pixel change t-2..t+2"].append(np.concatenate([pad[k:k + len(flat)] for k in range(5)], 1))
            if R is not None:
                rows = np.pad(diff.astype(np.float32), ((2, 2), (0, 0), (0, 0)))
                for name, part in ((f"rows < {R}", rows[:, :R]), (f"rows >= {R}", rows[:, R:])):
                    part = part.reshape(len(part), -1)
                    feats[f"pixel change t-2..t+2, {name}"].append(np.concatenate([part[k:k + len(flat)] for k in range(5)], 1))
            for tag, vae in vaes.items():
                z = vae.encode_frames(torch.from_numpy(obs)).numpy()
                feats[f"z_t, z_t+1{tag}"].append(np.concatenate([z[:-1], z[1:]], 1))
                zp = np.pad(z, ((2, 2), (0, 0)))  # frames t-2 .. t+3: the same window as the pixel changes t-2..t+2
                feats[f"z_t-2..z_t+3{tag}"].append(np.concatenate([zp[k:k + len(z) - 1] for k in range(6)], 1))
            ys.append(g["rewards"] > 0)
    n_train = int(0.8 * len(games))
    y_tr, y_te = np.concatenate(ys[:n_train]), np.concatenate(ys[n_train:])
    out = {"games": len(games), "train_steps": len(y_tr), "train_paying": int(y_tr.sum()), "test_steps": len(y_te),
           "test_paying": int(y_te.sum()), "auc": {}}
    print(f"{len(games)} games: train {len(y_tr)} steps ({y_tr.sum()} pay), test {len(y_te)} steps ({y_te.sum()} pay)")
    for name, f in feats.items():
        if args.only and args.only not in name:
            continue
        x_tr, x_te = np.concatenate(f[:n_train]), np.concatenate(f[n_train:])
        for hidden in (0, 256):
            kind = "logistic" if hidden == 0 else f"MLP 2x{hidden}"
            a = classifier_auc(x_tr, y_tr.astype(np.float32), x_te, y_te, hidden, cfg.seed)
            out["auc"][f"{name}, {kind}"] = a
            print(f"[{name}, {kind}] held-out AUC of paying steps {a:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

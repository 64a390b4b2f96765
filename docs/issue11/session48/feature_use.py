"""Which inputs a trained controller's logits move with: for each run, the controller's weights on the features the
real phase searches (z's means in its basis, h in its 16 principal directions) times those features' std over the
data (z: the VAE's means over every frame; h: 2,048 dream starts), i.e. how far one std of each feature moves the
logits (the root mean square over the actions); squared, each group's share of the logits' variance (as if the features
were independent). Reported by groups: z's dimensions whose means move most (std >= 0.5)
and the rest, h's first 8 directions and the next 8.

    python docs/issue11/session48/feature_use.py runs/xeon_s0_default runs/xeon_s0_std ...
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import train_controller as tc  # noqa: E402
from config import config_from_dict  # noqa: E402
from utils.run_paths import RunPaths  # noqa: E402
from utils.world_model import WorldModel  # noqa: E402


def main() -> None:
    for run in map(Path, sys.argv[1:]):
        cfg = config_from_dict(json.loads((run / "config.json").read_text()))
        cfg.run_dir = str(run)
        cfg.seed = json.loads((run / "data/manifest.json").read_text())["signature"]["seed"]  # a rerun's: the world model's
        t = tc.ControllerTraining(cfg, RunPaths.of(cfg), torch.device("cpu"))
        x = WorldModel.load(run, torch.device("cpu")).controller.get_flat().astype(np.float64)
        _, s = t.real_norm()
        t.norm = None
        A, Z = t.ctrl.action_dim, t.z_basis.shape[1]
        W = t.searched(x)[:-A].reshape(A, -1)  # weights on the raw features (in the bases)
        move = np.sqrt(((W * s) ** 2).mean(0))  # logit change per std of each feature, rms over actions
        big = s[:Z] >= 0.5
        groups = {"z (std >= 0.5)": move[:Z][big], "z (std < 0.5)": move[:Z][~big], "h 1-8": move[Z:Z + 8],
                  "h 9-16": move[Z + 8:]}
        total = (move ** 2).sum()
        print(f"{run.name}: " + "; ".join(f"{k} ({len(v)}): {(v ** 2).sum() / total:.2f}" for k, v in groups.items())
              + f"  [shares of the logits' variance, features taken as independent; total {total:.2f} logit^2]")


if __name__ == "__main__":
    main()

"""Does the dream rank two controllers as the game does? Dream fitness of several controllers of one world model.

    python docs/dream_vs_real.py RUN CONTROLLER_DIR... [--starts 256]

Every controller is scored on the same dream starts with the same per-step random numbers (the training
horizon and temperature of RUN's config), beside its real score from the results file next to it
(``eval/results.json`` of the run it belongs to, or ``--real FILE`` per controller in the same order).
If a controller that is better in the game (e.g. the real-game CMA-ES result) is worse in the dream than
the dream-trained one, more search in the dream cannot find it: the model, not the optimizer, is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from config import config_from_dict  # noqa: E402
from utils.dream import Dream  # noqa: E402
from utils.latents import encode_dataset  # noqa: E402
from utils.run_paths import RunPaths  # noqa: E402
from utils.world_model import WorldModel, load_controller  # noqa: E402


def score_in_dream(cfg, dream: Dream, X: torch.Tensor, starts: int = 256):
    """Every row of X (flat controllers) on the same ``starts`` dream starts and per-step random numbers (seed 12345),
    at RUN's training horizon and temperature -> the dream's rollout result (fitness, lengths)."""
    rng, g = np.random.default_rng(12345), torch.Generator().manual_seed(12345)
    return dream.rollout(X, dream.sample_starts(starts, rng, g), cfg.controller.dream_horizon, cfg.controller.temperature, g)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("controllers", nargs="+")
    p.add_argument("--real", nargs="*", default=[], help="results.json per controller (its agent.mean)")
    p.add_argument("--starts", type=int, default=256)
    p.add_argument("--constants", action="store_true", help="also every constant-action controller (bias only)")
    p.add_argument("--json")
    p.add_argument("--rank-near", action="store_true",
                   help="also the rank agreement (Spearman, 24 candidates x 2 real games) around each controller")
    args = p.parse_args()
    run = Path(args.run)
    cfg = config_from_dict(json.loads((run / "config.json").read_text()))
    cfg.run_dir = str(run)
    device = torch.device("cpu")
    wm = WorldModel.load(run, device)
    dream = Dream(wm.mdn, encode_dataset(cfg, RunPaths(run), device, False), cfg.controller.warmup_steps, device)
    ctrls = [load_controller(Path(c), device, wm.vae.latent_dim, wm.mdn.hidden_size, wm.mdn.action_dim) for c in args.controllers]
    flats, names = [c.get_flat() for c in ctrls], list(args.controllers)
    if args.constants:
        from utils.dream_quality import constant_controllers
        from utils.wrappers import action_meanings

        flats += list(constant_controllers(flats[0], wm.mdn.action_dim))
        names += [f"always {name}" for name in action_meanings(cfg.env)]
    X = torch.as_tensor(np.stack(flats), dtype=torch.float32)
    res = score_in_dream(cfg, dream, X, args.starts)
    rows = []
    for i, c in enumerate(names):
        real = json.loads(Path(args.real[i]).read_text())["agent"]["mean"] if i < len(args.real) else None
        rows.append({"controller": c, "dream_fitness": round(float(res.fitness[i]), 3),
                     "dream_length": round(float(res.lengths[i].float().mean()), 1), "real_score": real})
    print(f"dream: {args.starts} starts, horizon {cfg.controller.dream_horizon}, temperature {cfg.controller.temperature}")
    print("| controller | dream fitness | dream length | real score |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['controller']} | {r['dream_fitness']} | {r['dream_length']} | {r['real_score']} |")
    if args.rank_near:
        from utils.dream_quality import rank_agreement, spearman
        from utils.rollout import Models, make_engine

        with make_engine(cfg, cfg.controller.real_num_envs, Models(wm.vae, wm.mdn)) as engine:
            for r, c in zip(rows, ctrls):
                rank = rank_agreement(cfg, wm, dream, engine, c.get_flat().astype(np.float64), 24, 2, 32)
                near = slice(0, rank["candidates"] // 2)  # the controller and those around it, as docs/ablation_table.py
                r["rank_all"] = round(rank["spearman"], 3)
                r["rank_near"] = round(spearman(np.array(rank["dream_fitness"][near]), np.array(rank["real_score"][near])), 3)
                r["rank"] = rank
                print(f"rank agreement around {r['controller']}: all {r['rank_all']}, near {r['rank_near']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

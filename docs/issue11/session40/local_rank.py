"""How much does one real generation's fitness tell CMA-ES, and could the dream tell it more? (issue 11)

    python docs/issue11/session40/local_rank.py RUN [--controller DIR] [--sigma S] [--candidates 64] [--truth-games 16]
        [--json OUT]

N candidates are drawn around a controller as the real phase draws a generation (x + sigma * N(0, I) in the searched
weights; by default around the dream's best, rescaled as the real phase starts, with its step size). Each plays
2 + T seeded validation games (seeds ``baselines.validation_seed`` + i, 20,000+, used by no training and no
evaluation; capped at ``controller.real_max_steps`` as in training): the first 2 are what a generation's fitness sees
(``controller.real_rollouts``), the mean of the other T is the truth. Each is also scored in the dream, on the
training's number of rollouts (``controller.dream_rollouts``) and on 4 times as many, twice on fresh starts. Printed:
Spearman of each score against the truth, the split halves of the truth (its own reliability) and how far the
candidates' true scores spread against the noise of 2 games.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import train_controller  # noqa: E402
from config import config_from_dict  # noqa: E402
from utils.dream_quality import spearman  # noqa: E402
from utils.es import calibrate  # noqa: E402
from utils.rollout import Candidates, Models, make_engine  # noqa: E402
from utils.run_paths import RunPaths  # noqa: E402
from utils.world_model import load_controller  # noqa: E402


def draw(run: Path, controller: str | None, sigma: float | None, candidates: int, seed: int):
    """The run's ControllerTraining and the candidates (row 0 the centre, then ``candidates`` draws around it):
    (training, X (1 + candidates, params), the controller drawn around, step size)."""
    cfg = config_from_dict(json.loads((run / "config.json").read_text()))
    cfg.run_dir = str(run)
    cc, dev = cfg.controller, torch.device("cpu")
    t = train_controller.ControllerTraining(cfg, RunPaths.of(cfg), dev)
    src = Path(controller) if controller else RunPaths.of(cfg).dream_controller
    x = load_controller(src, dev, t.wm.vae.latent_dim, t.wm.mdn.hidden_size, t.wm.mdn.action_dim).get_flat().astype(np.float64)
    starts = t.dream.sample_starts(512, np.random.default_rng(cfg.seed + 7))
    xs, calibrated = calibrate(t.searched(x), t.features(starts).cpu().numpy().astype(np.float64), cc.real_sigma0,
                               rescale=controller is None)
    t.offset = x - t.full(t.searched(x)) if controller else 0.0  # a trained controller stays whole
    sigma = sigma or calibrated
    rng = np.random.default_rng(seed)
    X = t.full(xs + sigma * rng.standard_normal((candidates, xs.size)))
    return t, np.concatenate([t.full(xs)[None], X]), src, sigma  # row 0: the centre itself


def redraw(run: Path, local_rank_json: Path):
    """A local_rank run's candidates drawn again from its JSON, checked (a fresh ControllerTraining repeats the same
    random numbers, so local_rank's first dream score must come out again): (training, X, each row's truth: its mean
    over the truth games, row 0 the centre)."""
    lr = json.loads(Path(local_rank_json).read_text())
    t, X, _, _ = draw(Path(run), lr["around"], lr["sigma"], lr["candidates"], 0)
    again = t.dream_score(X, t.cc.dream_rollouts)[0]
    assert np.allclose(again, lr["dream"][f"dream{t.cc.dream_rollouts}_a"]), "not the candidates local_rank drew"
    return t, X, np.array(lr["games"])[:, 2:].mean(1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("--controller", help="the controller to draw around (default RUN/controller/dream, rescaled as the "
                   "real phase starts)")
    p.add_argument("--sigma", type=float, help="step size in the searched weights (default: the real phase's first)")
    p.add_argument("--candidates", type=int, default=64)
    p.add_argument("--truth-games", type=int, default=16)
    p.add_argument("--seed", type=int, default=0, help="the candidates' draw")
    p.add_argument("--json")
    args = p.parse_args()
    torch.set_num_threads(2)
    t, X, src, sigma = draw(Path(args.run), args.controller, args.sigma, args.candidates, args.seed)
    run, cfg, cc = Path(args.run), t.cfg, t.cc
    seeds = [cfg.baselines.validation_seed + i for i in range(2 + args.truth_games)]
    with make_engine(cfg, cc.real_num_envs, Models(t.wm.vae, t.wm.mdn)) as engine:
        st = engine.play(Candidates(X.astype(np.float32), np.repeat(np.arange(len(X)), len(seeds))),
                         np.tile(seeds, len(X)), max_steps=cc.real_max_steps)
    games = st.returns.reshape(len(X), len(seeds))
    real2, truth = games[:, :2].mean(1), games[:, 2:].mean(1)
    half_a, half_b = games[:, 2::2].mean(1), games[:, 3::2].mean(1)
    dream = {}
    for r in (cc.dream_rollouts, 4 * cc.dream_rollouts):
        dream[f"dream{r}_a"] = t.dream_score(X, r)[0]
        dream[f"dream{r}_b"] = t.dream_score(X, r)[0]
    cand = slice(1, None)  # the drawn candidates (the centre reported on its own)
    noise2 = float(np.sqrt((games[cand, 2:].var(1, ddof=1) / 2).mean()))
    res = {"run": str(run), "around": str(src), "sigma": sigma, "candidates": args.candidates,
           "truth_games": args.truth_games, "centre": {"real2": float(real2[0]), "truth": float(truth[0])},
           "truth_mean": float(truth[cand].mean()), "truth_std": float(truth[cand].std()),
           "truth_range": [float(truth[cand].min()), float(truth[cand].max())], "noise_of_2_games": noise2,
           "spearman": {"real2_truth": spearman(real2[cand], truth[cand]),
                        "truth_half_half": spearman(half_a[cand], half_b[cand]),
                        **{f"{k}_truth": spearman(v[cand], truth[cand]) for k, v in dream.items()},
                        **{f"dream{r}_a_b": spearman(dream[f"dream{r}_a"][cand], dream[f"dream{r}_b"][cand])
                           for r in (cc.dream_rollouts, 4 * cc.dream_rollouts)}},
           "games": games.tolist(), "dream": {k: v.tolist() for k, v in dream.items()},
           "agent_steps": int(st.lengths.sum())}
    print(json.dumps({k: v for k, v in res.items() if k not in ("games", "dream")}, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()

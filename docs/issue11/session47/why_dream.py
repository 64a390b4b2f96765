"""What does the dream's order of the candidates near a trained controller follow? (issue 11, session 47)

    python docs/issue11/session47/why_dream.py RUN LOCAL_RANK_JSON [--rollouts 256] [--horizon 300] [--temperature 1.15]

The candidates of session 40's local_rank.py are redrawn (as session 46's dream_knobs.py does, checked) and dreamed as
one generation on shared starts and random numbers; Dream.rollout's per-candidate action counts give each its own
dreamed action shares. Printed: the Spearman of the dream's
fitness with each candidate's share of firing steps (FIRE, RIGHTFIRE, LEFTFIRE) and with its dreamed game length, and
the same two against the 16-game truth: is the dream's judgement the firing rate, and does the firing rate tell the
game's order?
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

here = Path(__file__).resolve()
sys.path.insert(0, str(here.parents[3]))
sys.path.insert(0, str(here.parents[1] / "session40"))
from local_rank import redraw  # noqa: E402

from utils.dream_quality import spearman  # noqa: E402

FIRING = [1, 4, 5]  # Space Invaders' minimal action set: NOOP, FIRE, RIGHT, LEFT, RIGHTFIRE, LEFTFIRE


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("local_rank_json")
    p.add_argument("--rollouts", type=int, default=256)
    p.add_argument("--horizon", type=int, default=300)
    p.add_argument("--temperature", type=float, default=1.15)
    p.add_argument("--json")
    args = p.parse_args()
    torch.set_num_threads(2)
    t, X, truth = redraw(Path(args.run), Path(args.local_rank_json))
    starts = t.dream.sample_starts(args.rollouts, t.rng, t.gen_torch)
    res = t.dream.rollout(torch.as_tensor(X, dtype=torch.float32), starts, args.horizon, args.temperature,
                          torch.Generator().manual_seed(12345), t.cc.alive_bonus)
    shares = res.candidate_counts / np.maximum(1, res.candidate_counts.sum(1, keepdims=True))
    fit, fire = res.fitness.numpy().astype(np.float64), shares[:, FIRING].sum(1)
    length = res.lengths.float().mean(1).numpy().astype(np.float64)
    c = slice(1, None)  # the drawn candidates (row 0 is the centre)
    out = {"dream_fitness_vs_fire_share": spearman(fit[c], fire[c]), "dream_fitness_vs_length": spearman(fit[c], length[c]),
           "truth_vs_dream_fire_share": spearman(truth[c], fire[c]), "truth_vs_dream_length": spearman(truth[c], length[c]),
           "truth_vs_dream_fitness": spearman(truth[c], fit[c]),
           "fire_share": [float(fire[c].min()), float(np.median(fire[c])), float(fire[c].max())], "centre_fire_share": fire[0]}
    print(json.dumps(out, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({**out, "fitness": fit.tolist(), "fire": fire.tolist(),
                                               "length": length.tolist(), "shares": shares.tolist(), "truth": truth.tolist()},
                                              indent=1))


if __name__ == "__main__":
    main()

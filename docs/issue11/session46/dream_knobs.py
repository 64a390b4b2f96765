"""Can any dream setting rank the candidates near a trained controller? (issue 11, session 46)

    python docs/issue11/session46/dream_knobs.py RUN LOCAL_RANK_JSON [--rollouts 128] [--json OUT]

Session 40's local_rank.py drew 64 candidates around a controller and played each on 16 real validation games (the
truth, stored in its JSON). The same candidates are drawn again here (same run, controller, step and seed; checked:
local_rank's first dream score comes out again) and scored in the dream under other settings, without replaying the
real games: sampling temperature and horizon (steps per dreamed game), twice each on fresh starts. Printed per
setting: Spearman with the truth of the dream's fitness (reward) and of the dreamed game length, and of the two dream
runs with each other (the dream's own reliability).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

here = Path(__file__).resolve()
sys.path.insert(0, str(here.parents[3]))
sys.path.insert(0, str(here.parents[1] / "session40"))
from local_rank import redraw  # noqa: E402

from utils.dream_quality import spearman  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("local_rank_json")
    p.add_argument("--rollouts", type=int, default=128)
    p.add_argument("--temperatures", type=float, nargs="+", default=[0.5, 1.0, 1.15, 1.5])
    p.add_argument("--horizons", type=int, nargs="+", default=[300, 1000])
    p.add_argument("--json")
    args = p.parse_args()
    torch.set_num_threads(2)
    t, X, truth = redraw(Path(args.run), Path(args.local_rank_json))
    truth = truth[1:]  # the drawn candidates (row 0 is the centre)
    rows = []
    for horizon in args.horizons:
        for temp in args.temperatures:
            runs = []
            for _ in range(2):
                starts = t.dream.sample_starts(args.rollouts, t.rng, t.gen_torch)
                res = t.dream.rollout(torch.as_tensor(X, dtype=torch.float32), starts, horizon, temp, t.gen_torch,
                                      t.cc.alive_bonus)
                runs.append((res.fitness.numpy()[1:], res.lengths.mean(1).numpy()[1:]))
            (fa, la), (fb, lb) = runs
            row = {"temperature": temp, "horizon": horizon, "rollouts": args.rollouts,
                   "fitness_truth": [spearman(fa, truth), spearman(fb, truth)], "fitness_a_b": spearman(fa, fb),
                   "length_truth": [spearman(la, truth), spearman(lb, truth)], "length_a_b": spearman(la, lb),
                   "dream_length": float(la.mean())}
            rows.append(row)
            print(f"tau {temp:4.2f} horizon {horizon:4d}: fitness vs truth {row['fitness_truth'][0]:+.2f}, "
                  f"{row['fitness_truth'][1]:+.2f} (a vs b {row['fitness_a_b']:+.2f}); length vs truth "
                  f"{row['length_truth'][0]:+.2f}, {row['length_truth'][1]:+.2f} (a vs b {row['length_a_b']:+.2f}); "
                  f"mean dreamed length {row['dream_length']:.0f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"run": args.run, "local_rank": args.local_rank_json, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()

"""Does a short dream from the trained controller's own states rank its neighbours? (issue 11, session 47)

    python docs/issue11/session47/short_dream.py RUN LOCAL_RANK_JSON --latents NPZ [--random-episodes 96]
        [--horizons 10 30 100 300] [--temperatures 0.5 1.15] [--dream-mdn DIR] [--json OUT]

Session 46 found the dream's order of 64 candidates around a trained controller unrelated to the real one (Spearman
-0.24 to +0.18) at horizons of 300 and 1,000 steps, from starts drawn among the random-policy data. A model is most
often right a few steps ahead and where its data is dense, so this scores the same candidates (redrawn as
session 46's dream_knobs.py does, checked against local_rank's first dream score) on short horizons, from starts
drawn either among the random-policy episodes or among the games the trained controller itself played (an
on-policy iterative round's data, encoded by the same VAE). NPZ is a latents file holding both, the first
``--random-episodes`` episodes random play and the rest the controller's games. Printed per setting: Spearman with the
16-game truth of the dream's fitness, twice on fresh starts, and of the two runs with each other.

``--dream-mdn DIR`` dreams with another MDN-RNN whose LSTM is RUN's byte for byte (checked), such as a round fine-tuned
with ``--mdn-rnn.freeze-lstm``: the candidates then play the real game exactly as in RUN (same z, same h), so RUN's
truth holds and only the heads that judge them differ.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

here = Path(__file__).resolve()
sys.path.insert(0, str(here.parents[3]))
sys.path.insert(0, str(here.parents[1] / "session40"))
from local_rank import redraw  # noqa: E402

from utils.data import LatentData  # noqa: E402
from utils.dream import Dream  # noqa: E402
from utils.dream_quality import spearman  # noqa: E402
from utils.world_model import load_mdn_rnn  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("local_rank_json")
    p.add_argument("--latents", required=True, help="latents .npz: random-policy episodes first, then the controller's")
    p.add_argument("--random-episodes", type=int, default=96)
    p.add_argument("--rollouts", type=int, default=256)
    p.add_argument("--temperatures", type=float, nargs="+", default=[0.5, 1.15])
    p.add_argument("--horizons", type=int, nargs="+", default=[10, 30, 100, 300])
    p.add_argument("--dream-mdn", help="an MDN-RNN folder with RUN's LSTM (e.g. a frozen-LSTM round's) to dream with")
    p.add_argument("--json")
    args = p.parse_args()
    torch.set_num_threads(2)
    t, X, truth = redraw(Path(args.run), Path(args.local_rank_json))
    truth = truth[1:]  # the drawn candidates (row 0 is the centre)
    with np.load(args.latents) as d:
        lat = LatentData(**{f.name: d[f.name] for f in dataclasses.fields(LatentData)})
    n = len(lat.lengths)
    pools = {"random": np.arange(args.random_episodes), "policy": np.arange(args.random_episodes, n)}
    params = torch.as_tensor(X, dtype=torch.float32)
    mdn = t.dream.mdn
    if args.dream_mdn:
        mdn = load_mdn_rnn(Path(args.dream_mdn), t.device, t.wm.vae.latent_dim, mdn.action_dim).eval()
        same = [torch.equal(a, b) for a, b in zip(mdn.lstm.state_dict().values(), t.dream.mdn.lstm.state_dict().values())]
        assert all(same), "--dream-mdn has another LSTM: RUN's truth would not hold"
    rows = []
    for pool, idx in pools.items():
        dream = Dream(mdn, lat.episodes(idx), t.cc.warmup_steps, t.device)
        for horizon in args.horizons:
            for temp in args.temperatures:
                t0, runs = time.time(), []
                for _ in range(2):
                    starts = dream.sample_starts(args.rollouts, t.rng, t.gen_torch)
                    res = dream.rollout(params, starts, horizon, temp, t.gen_torch, t.cc.alive_bonus)
                    runs.append((res.fitness.numpy()[1:], res.lengths.float().mean(1).numpy()[1:]))
                (fa, la), (fb, lb) = runs
                row = {"starts": pool, "episodes": len(idx), "temperature": temp, "horizon": horizon,
                       "rollouts": args.rollouts, "fitness_truth": [spearman(fa, truth), spearman(fb, truth)],
                       "fitness_a_b": spearman(fa, fb), "length_truth": [spearman(la, truth), spearman(lb, truth)],
                       "dream_length": float(la.mean()), "fitness_mean": float(fa.mean()), "seconds": time.time() - t0}
                rows.append(row)
                print(f"starts {pool:6s} tau {temp:4.2f} horizon {horizon:4d}: fitness vs truth "
                      f"{row['fitness_truth'][0]:+.2f}, {row['fitness_truth'][1]:+.2f} (a vs b {row['fitness_a_b']:+.2f}); "
                      f"length vs truth {row['length_truth'][0]:+.2f}, {row['length_truth'][1]:+.2f}; "
                      f"mean fitness {row['fitness_mean']:.2f}, length {row['dream_length']:.0f} "
                      f"({row['seconds']:.0f} s)", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"run": args.run, "local_rank": args.local_rank_json, "latents": args.latents,
                                               "dream_mdn": args.dream_mdn, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()

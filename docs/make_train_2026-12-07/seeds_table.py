"""`make train` with the defaults of 2026-12-07 over 3 training seeds on the 2-core AMD EPYC (AVX-512 kernels): seed 0 is
the fresh clone's run in this folder, seeds 1 and 2 `PREFIX=runs/make_train_epyc_s bash docs/make_train_seeds.sh 1 2`
(seed1/, seed2/, log seeds_1_2.log). Each scored on the 100 games 10,000-10,099, the final agent and its dream-only
controller.

    python docs/make_train_2026-12-07/seeds_table.py
"""
import json
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parent
runs = {0: (D / "eval100.json", D / "eval_dream100.json", D / "controller_metrics.json")}
runs.update({s: (D / f"seed{s}/eval_100.json", D / f"seed{s}/eval_dream_100.json", D / f"seed{s}/controller_metrics.json")
             for s in (1, 2)})


def agent(p: Path) -> dict:
    a = json.loads(p.read_text())["agent"]
    assert a["num_episodes"] == 100 and sorted(e["seed"] for e in a["episodes"]) == list(range(10_000, 10_100)), p
    return a


print("| training seed | final agent (100 games) | dream-only controller | real frames, collection included | "
      "refinement kept |")
print("|---|---|---|---|---|")
final, dream = [], []
for s, (ev, dr, mt) in runs.items():
    a, d, m = agent(ev), agent(dr), json.loads(mt.read_text())
    final.append(a["mean"])
    dream.append(d["mean"])
    print(f"| {s} | {a['mean']:.1f} ± {a['std']:.1f} | {d['mean']:.1f} ± {d['std']:.1f} | "
          f"{m['env_frames']['total']:,} | {m['real']['refine']['kept']} |")
print(f"| across seeds | **{np.mean(final):.1f} ± {np.std(final, ddof=1):.1f}** | "
      f"{np.mean(dream):.1f} ± {np.std(dream, ddof=1):.1f} | | |")

"""`make train` with the defaults of 2026-12-07 over 3 training seeds on the 2-core AMD EPYC (AVX-512 kernels): seed 0 is
the fresh clone's run in this folder, seeds 1 and 2 `PREFIX=runs/make_train_epyc_s bash docs/make_train_seeds.sh 1 2`
(seed1/, seed2/, log seeds_1_2.log). Each scored on the 100 games 10,000-10,099, the final agent and its dream-only
controller, and on make train's own 30 games (10,000-10,029, eval30_results.json).

    python docs/make_train_2026-12-07/seeds_table.py
"""
import json
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parent
runs = {0: (D / "eval100.json", D / "eval_dream100.json", D / "controller_metrics.json", D / "eval30_results.json")}
runs.update({s: (D / f"seed{s}/eval_100.json", D / f"seed{s}/eval_dream_100.json", D / f"seed{s}/controller_metrics.json",
                 D / f"seed{s}/eval30_results.json") for s in (1, 2)})


def agent(p: Path, n: int = 100) -> dict:
    a = json.loads(p.read_text())["agent"]
    assert a["num_episodes"] == n and sorted(e["seed"] for e in a["episodes"]) == list(range(10_000, 10_000 + n)), p
    return a


print("| training seed | final agent (100 games) | dream-only controller | real frames, collection included | "
      "refinement kept | final agent, make train's 30 games |")
print("|---|---|---|---|---|---|")
final, dream, thirty = [], [], []
for s, (ev, dr, mt, e30) in runs.items():
    a, d, m, a30 = agent(ev), agent(dr), json.loads(mt.read_text()), agent(e30, 30)
    final.append(a["mean"])
    dream.append(d["mean"])
    thirty.append(a30["mean"])
    print(f"| {s} | {a['mean']:.1f} ± {a['std']:.1f} | {d['mean']:.1f} ± {d['std']:.1f} | "
          f"{m['env_frames']['total']:,} | {m['real']['refine']['kept']} | {a30['mean']:.1f} |")
print(f"| across seeds | **{np.mean(final):.1f} ± {np.std(final, ddof=1):.1f}** | "
      f"{np.mean(dream):.1f} ± {np.std(dream, ddof=1):.1f} | | | {np.mean(thirty):.1f} ± {np.std(thirty, ddof=1):.1f} |")

"""The 3-seed comparison of session34.md from the committed 100-game evaluation JSONs.

    python docs/issue11/session34/seeds_table.py
Seed 1's new rule keeps the same elite (#17) as its old rule and as G30_top10 (rescore_s1.json), so its
100-game file under the new rule is the one of that elite.
"""
import json
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parents[1]
ARMS = {"old: top 3 of 30": ["session33/s0_eval100_controller.json", "session33/s1_eval100_controller.json",
                             "session34/s2_eval100_controller.json"],
        "new: top 10 of 25": ["session33/s0_finalists10_epochs25_eval100.json", "session33/s1_eval100_pick_G30_top10.json",
                              "session34/s2_finalists10_epochs25_eval100.json"]}
rescore_s1 = json.loads((D / "session33/rescore_s1.json").read_text())
r1 = next(iter(rescore_s1.values()))["rules"]
assert r1["G25_top10"]["pick"] == r1["G30_top10"]["pick"] == r1["G30_top3"]["pick"]
for arm, files in ARMS.items():
    means = []
    for f in files:
        a = json.loads((D / f).read_text())["agent"]
        assert a["num_episodes"] == 100
        means.append(a["mean"])
    m = np.array(means)
    print(f"{arm:18s} per seed {np.round(m, 1).tolist()}  across seeds {m.mean():.1f} +/- {m.std(ddof=1):.1f}")

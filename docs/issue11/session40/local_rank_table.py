"""The table of session 40's local_rank.py runs (docs/issue11/session40/local_rank_*.json), or of the JSON files given.

    python docs/issue11/session40/local_rank_table.py
    python docs/issue11/session40/local_rank_table.py docs/issue11/session46/local_rank_*.json
"""
import json
import sys
from pathlib import Path

import numpy as np

here = Path(__file__).parent
print("| around | step size | candidates' true score, mean [10%, 50%, 90%] | the centre's | candidates above it | best 3 "
      "| Spearman with the truth: 2 games / dream 16 / dream 64 | truth split in halves | dream 64 against itself "
      "| 2-game noise |")
print("|---|---|---|---|---|---|---|---|---|---|")
names = ("start", "trained", "trained_sigma0.115", "trained_sigma0.057")
for path in sys.argv[1:] or [here / f"local_rank_s0_{name}.json" for name in names]:
    r = json.loads(Path(path).read_text())
    g = np.array(r["games"])
    t = g[:, 2:].mean(1)
    c, t = t[0], t[1:]
    s = r["spearman"]
    q = np.percentile(t, [10, 50, 90])
    print(f"| {r['around']} | {r['sigma']:.3f} | {t.mean():.1f} [{q[0]:.1f}, {q[1]:.1f}, {q[2]:.1f}] | {c:.1f} "
          f"| {(t > c).sum()} of {len(t)} | {', '.join(f'{v:.1f}' for v in np.sort(t)[::-1][:3])} "
          f"| {s['real2_truth']:.2f} / {s['dream16_a_truth']:.2f}, {s['dream16_b_truth']:.2f} / "
          f"{s['dream64_a_truth']:.2f}, {s['dream64_b_truth']:.2f} | {s['truth_half_half']:.2f} | {s['dream64_a_b']:.2f} "
          f"| {r['noise_of_2_games']:.1f} |")

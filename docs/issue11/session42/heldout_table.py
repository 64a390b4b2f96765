"""Session 42: does the default preset's refinement help on world models that took no part in choosing it? The three
`make train` world models of 2026-12-07 (AVX-512 kernels), each with today's default (the refinement) and with the
session-38 default (`--controller.real-refine 0`, the whole 5M frames to the main search). Seed 0's pair is the two
fresh-clone runs (docs/make_train_2026-12-06b/, docs/make_train_2026-12-07/: the same world model), seeds 1-2's
`SRC=runs/make_train_epyc_s OUT=docs/issue11/session42 bash docs/issue11/session36/arm.sh norefine
"--controller.real-refine 0" 1 2` against `make train --seed S`.

    python docs/issue11/session42/heldout_table.py

Every score: 100 games on seeds 10,000-10,099; per-game differences paired on those seeds.
"""
import sys
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(D / "issue11/session41"))
from arms_table import paired, scores  # noqa: E402  (session 41's table: 100 games in seed order, paired differences)

PAIRS = {0: (D / "make_train_2026-12-06b/eval100.json", D / "make_train_2026-12-07/eval100.json")}
PAIRS.update({s: (D / f"issue11/session42/make_train_epyc_s{s}_norefine_eval100.json", D / f"make_train_2026-12-07/seed{s}/eval_100.json")
              for s in (1, 2)})


print("| training seed | no refinement (session-38 default) | refinement (default) | per game [95%] |")
print("|---|---|---|---|")
rows = []
for s, (old, new) in PAIRS.items():
    if not old.is_file():
        continue
    a, b = scores(old), scores(new)
    rows.append((a.mean(), b.mean()))
    print(f"| {s} | {a.mean():.1f} | {b.mean():.1f} | {paired(b, a)} |")
if len(rows) > 1:
    a, b = np.array(rows).T
    g = b - a
    print(f"| across | {a.mean():.1f} ± {a.std(ddof=1):.1f} | {b.mean():.1f} ± {b.std(ddof=1):.1f} | "
          f"{g.mean():+.1f} (t {g.mean() / (g.std(ddof=1) / np.sqrt(len(g))):.2f}) |")

"""Per-game difference between two evaluations of the same 100 games, mean and 95% interval. By default: this folder's
make train (session-38 defaults) against docs/make_train_2026-12-06/ (the old defaults, same world model).

    python docs/make_train_2026-12-06b/paired.py [NEW.json OLD.json]
"""
import json
import sys
from pathlib import Path

import numpy as np

here = Path(__file__).resolve().parent
new, old = (Path(p) for p in sys.argv[1:3]) if len(sys.argv) > 2 else (here / "eval100.json",
                                                                      here.parent / "make_train_2026-12-06" / "eval100.json")
a, b = ({e["seed"]: e["score"] for e in json.loads(p.read_text())["agent"]["episodes"]} for p in (new, old))
assert a.keys() == b.keys(), "the two evaluations played different games"
d = np.array([a[k] - b[k] for k in sorted(a)])
half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
print(f"{len(d)} games: new {np.mean(list(a.values())):.1f}, old {np.mean(list(b.values())):.1f}, "
      f"per game {d.mean():+.1f} [{d.mean() - half:+.1f}, {d.mean() + half:+.1f}]")

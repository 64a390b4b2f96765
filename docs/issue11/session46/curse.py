"""How far the kept controller's 8-game selection score overstates its 100-game score (issue 11, session 46).

    python docs/issue11/session46/curse.py

Every full run of sessions 44-45 and `make train`'s three (docs/make_train_2026-12-07): the kept controller's mean on
the 8 selection games (the refinement's best when it kept its own, else the main search's) against its mean on the
100 evaluation games 10,000-10,099.
"""
import glob
import json
from pathlib import Path

import numpy as np

root = Path(__file__).resolve().parents[3]
runs = [(Path(f), Path(f.replace("_controller_metrics.json", "_eval100.json")))
        for f in sorted(glob.glob(str(root / "docs/issue11/session4[45]/*_controller_metrics.json")))]
mt = root / "docs/make_train_2026-12-07"
runs += [(mt / "controller_metrics.json", mt / "eval100.json")]
runs += [(mt / f"seed{s}/controller_metrics.json", mt / f"seed{s}/eval_100.json") for s in (1, 2)]
kept, evals = [], []
for metrics, ev in runs:
    real = json.loads(metrics.read_text())["real"]
    ref = real.get("refine", {})
    k = max(ref["rescored"]) if ref.get("kept") == "refinement" else max(real["rescored"])
    e = json.loads(ev.read_text())["agent"]["mean"]
    kept.append(k)
    evals.append(e)
    print(f"{metrics.parent.name}/{metrics.name.replace('_controller_metrics.json', '')}: 8 games {k:.1f}, 100 games {e:.1f}, "
          f"{k - e:+.1f}")
kept, evals = np.array(kept), np.array(evals)
d = kept - evals
print(f"{len(d)} runs: 8 games {kept.mean():.1f} against 100 games {evals.mean():.1f}; overstated by {d.mean():.1f} "
      f"(sd {d.std(ddof=1):.1f}, {(d > 0).sum()} of {len(d)} above); Pearson r {np.corrcoef(kept, evals)[0, 1]:.2f}; "
      f"sd across runs: 8 games {kept.std(ddof=1):.1f}, 100 games {evals.std(ddof=1):.1f}")

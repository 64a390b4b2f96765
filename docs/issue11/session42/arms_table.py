"""Session 42's table: full real-phase arms (session36/arm.sh with OUT=docs/issue11/session42: the world models of
runs/mt/s0-s2, the default preset's dream and real phases with the arm's flags, a 5M-frame cap) against the runs with
the same world model and controller seed under today's default (session 41's refine25q: the quarter-step refinement)
and under the session-38 default (hpc16, no refinement).

    python docs/issue11/session42/arms_table.py [ARM...]          # default: cap500

Every score: 100 games on seeds 10,000-10,099; per-game differences are paired on those seeds.
"""
import json
import sys
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(D / "session41"))
from arms_table import RUNS, paired, scores  # noqa: E402  (session 41's table: the same runs and paired differences)

ARMS = sys.argv[1:] or ["cap500"]


for arm in ARMS:
    print(f"\n### {arm}\n")
    print(f"| world model, controller seed | session-38 default (hpc16) | default (refine25q) | {arm} (main + refinement "
          "generations, real frames) | minus the default |")
    print("|---|---|---|---|---|")
    rows = []
    for wm, sfx in RUNS:
        ev = D / f"session42/s{wm}_{arm}{sfx}_eval100.json"
        if not ev.is_file():
            continue
        old = D / (f"session38/s{wm}_hpc16_eval100.json" if not sfx else f"session39/s{wm}_hpc16{sfx}_eval100.json")
        s = {"old": scores(old), "default": scores(D / f"session41/s{wm}_refine25q{sfx}_eval100.json"), "arm": scores(ev)}
        r = json.loads((D / f"session42/s{wm}_{arm}{sfx}_controller_metrics.json").read_text())
        gens = f"{len(r['real']['history'])} + {len(r['real'].get('refine', {}).get('history', []))}"
        rows.append({k: v.mean() for k, v in s.items()})
        print(f"| {wm}, {sfx[2:] or wm} | {s['old'].mean():.1f} | {s['default'].mean():.1f} | {s['arm'].mean():.1f} "
              f"({gens}, {r['env_frames']['total']:,}) | {paired(s['arm'], s['default'])} |")
    if len(rows) > 1:
        m = {k: np.array([r[k] for r in rows]) for k in rows[0]}
        print("| across | " + " | ".join(f"{m[k].mean():.1f} +/- {m[k].std(ddof=1):.1f}" for k in ("old", "default", "arm"))
              + " | |")
        g = m["arm"] - m["default"]
        t = g.mean() / (g.std(ddof=1) / np.sqrt(len(g))) if g.std(ddof=1) > 0 else float("nan")
        print(f"{arm} minus the default over {len(g)} paired runs: {np.round(g, 1).tolist()}, mean {g.mean():+.1f}, "
              f"std {g.std(ddof=1):.1f}, t {t:.2f}")

"""Sessions 36-38's table: real-phase search arms (runs of session36/arm.sh and session38/arm.sh, capped at 5M real
frames) against the default preset.

    python docs/issue11/session38/arms_table.py
The default rows are sessions 33-34's runs of the same world models (25 generations, 10 finalists, uncapped: 4.80-4.95M
real frames; seed 1 computed from its first 25 elites), as in session 35's sigma_table.py. Every row: 100 games on
seeds 10,000-10,099.
"""
import json
import re
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parents[1]
BASE = {0: "session33/s0_finalists10_epochs25_eval100.json", 1: "session33/s1_eval100_pick_G30_top10.json",
        2: "session34/s2_finalists10_epochs25_eval100.json"}


def agent(ev: Path) -> dict:
    a = json.loads(ev.read_text())["agent"]
    assert a["num_episodes"] == 100, ev
    return a


rows = [{"arm": "default", "seed": s, **{k: agent(D / p)[k] for k in ("mean", "std", "top_action_share")},
         "gens": 25, "frames": "4.80-4.95M", "pop_mean": float("nan"), "sigma": float("nan"), "searched": 1734}
        for s, p in BASE.items()]
for ev in sorted([*(D / "session36").glob("s*_eval100.json"), *(D / "session38").glob("s*_eval100.json")]):
    if ev.stem.endswith("_dream_eval100"):  # dream_only.sh's evaluations
        continue
    seed, arm = re.match(r"s(\d+)_(.+)_eval100", ev.stem).groups()
    m = json.loads((ev.parent / f"s{seed}_{arm}_controller_metrics.json").read_text())
    hist = m["real"]["history"]
    rows.append({"arm": arm, "seed": int(seed), **{k: agent(ev)[k] for k in ("mean", "std", "top_action_share")},
                 "gens": len(hist), "frames": f"{m['env_frames']['total']:,}", "pop_mean": hist[-1]["mean"],
                 "sigma": hist[-1]["sigma"] / hist[0]["sigma"], "searched": m["searched_params"]})
print(f"{'arm':>10} {'seed':>4} {'100 games':>16} {'top action':>10} {'generations':>11} {'real frames':>12}  "
      "last population mean  step size last/first  searched weights")
for r in sorted(rows, key=lambda r: (r["seed"], r["arm"] != "default")):
    print(f"{r['arm']:>10} {r['seed']:>4} {r['mean']:8.1f} +/- {r['std']:5.1f} {r['top_action_share']:10.2f} {r['gens']:>11} "
          f"{r['frames']:>12}  {r['pop_mean']:20.1f}  {r['sigma']:22.2f}  {r['searched']:16d}")
for arm in dict.fromkeys(r["arm"] for r in rows):
    m = np.array([r["mean"] for r in rows if r["arm"] == arm])
    print(f"{arm:>10}: seeds {[r['seed'] for r in rows if r['arm'] == arm]}  across seeds {m.mean():.1f}"
          + (f" +/- {m.std(ddof=1):.1f}" if len(m) > 1 else ""))
print("per-game difference from the default on the same 100 seeds, mean [95% interval]:")
for ev in sorted((D / "session38").glob("s*_eval100.json")):
    if ev.stem.endswith("_dream_eval100"):
        continue
    seed, arm = re.match(r"s(\d+)_(.+)_eval100", ev.stem).groups()
    score = {e["seed"]: e["score"] for e in json.loads(ev.read_text())["agent"]["episodes"]}
    base = {e["seed"]: e["score"] for e in json.loads((D / BASE[int(seed)]).read_text())["agent"]["episodes"]}
    assert score.keys() == base.keys(), ev
    d = np.array([score[k] - base[k] for k in sorted(score)])
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    print(f"{arm:>10} seed {seed}: {d.mean():+.1f} [{d.mean() - half:+.1f}, {d.mean() + half:+.1f}]")
dream = {}
for ev in sorted([*(D / "session36").glob("s*_dream_eval100.json"), *(D / "session38").glob("s*_dream_eval100.json")]):
    seed, arm = re.match(r"s(\d+)_?(.*)_dream_eval100", ev.stem).groups()
    dream.setdefault(arm or "default", []).append((int(seed), agent(ev)["mean"]))
for arm, v in dream.items():
    m = np.array([x for _, x in v])
    print(f"dream-only {arm:>10}: " + ", ".join(f"seed {s} {x:.1f}" for s, x in v) + f"; across seeds {m.mean():.1f}"
          + (f" +/- {m.std(ddof=1):.1f}" if len(m) > 1 else ""))

"""Session 39's table: real-phase search arms (runs of session39/arm.sh, capped at 5M real frames) against the default
preset since session 38 (hpc16: h searched in its first 16 principal directions, session38/arm.sh), on the same world
models (runs/mt/s<SEED>, sessions 33-35's, made with ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2).

    python docs/issue11/session39/arms_table.py
Rows "<arm> rerun" are rerun.sh's runs of the same arm with another controller seed on the same world model (how much
one run varies by itself). Every row: 100 games on seeds 10,000-10,099; per-game differences are paired on those seeds.
"""
import json
import re
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parents[1]
BASE = "hpc16"


def agent(ev: Path) -> dict:
    a = json.loads(ev.read_text())["agent"]
    assert a["num_episodes"] == 100, ev
    return a


def evals(folder: str, dream: bool = False) -> list[tuple[int, str, Path]]:
    out = []
    for ev in sorted((D / folder).glob("s*_eval100.json")):
        if ev.stem.endswith("_dream_eval100") != dream:
            continue
        seed, arm = re.match(r"s(\d+)_(.+?)(_dream)?_eval100", ev.stem).groups()[:2]
        out.append((int(seed), arm, ev))
    return out


def arm_name(arm: str) -> str:
    """rerun.sh's runs (<arm>_c<controller seed>) are one arm: "<arm> rerun"."""
    return re.sub(r"_c\d+$", " rerun", arm)


rows = []
for seed, arm, ev in [*evals("session38"), *evals("session39")]:
    m = json.loads((ev.parent / f"s{seed}_{arm}_controller_metrics.json").read_text())
    hist = m["real"]["history"]
    rows.append({"arm": arm_name(arm), "seed": seed, "ev": ev, **{k: agent(ev)[k] for k in ("mean", "std", "top_action_share")},
                 "gens": len(hist), "frames": f"{m['env_frames']['total']:,}", "pop_mean": hist[-1]["mean"],
                 "sigma": hist[-1]["sigma"] / hist[0]["sigma"], "searched": m["searched_params"],
                 "seconds": m["real"]["seconds"]})
print(f"{'arm':>10} {'seed':>4} {'100 games':>16} {'top action':>10} {'generations':>11} {'real frames':>12}  "
      "last population mean  step size last/first  searched weights  real phase s")
for r in sorted(rows, key=lambda r: (r["seed"], r["arm"] != BASE, r["arm"])):
    print(f"{r['arm']:>10} {r['seed']:>4} {r['mean']:8.1f} +/- {r['std']:5.1f} {r['top_action_share']:10.2f} {r['gens']:>11} "
          f"{r['frames']:>12}  {r['pop_mean']:20.1f}  {r['sigma']:22.2f}  {r['searched']:16d}  {r['seconds']:12.0f}")
for arm in dict.fromkeys(r["arm"] for r in rows):
    m = np.array([r["mean"] for r in rows if r["arm"] == arm])
    print(f"{arm:>10}: seeds {[r['seed'] for r in rows if r['arm'] == arm]}  across seeds {m.mean():.1f}"
          + (f" +/- {m.std(ddof=1):.1f}" if len(m) > 1 else ""))
print(f"per-game difference from {BASE} on the same 100 seeds, mean [95% interval]:")
base = {r["seed"]: r["ev"] for r in rows if r["arm"] == BASE}
for r in rows:
    if r["arm"] == BASE or r["seed"] not in base:
        continue
    score = {e["seed"]: e["score"] for e in agent(r["ev"])["episodes"]}
    ref = {e["seed"]: e["score"] for e in agent(base[r["seed"]])["episodes"]}
    assert score.keys() == ref.keys(), r["ev"]
    d = np.array([score[k] - ref[k] for k in sorted(score)])
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    print(f"{r['arm']:>10} seed {r['seed']}: {d.mean():+.1f} [{d.mean() - half:+.1f}, {d.mean() + half:+.1f}]")
runs = [(r["mean"], next(b["mean"] for b in rows if b["arm"] == BASE and b["seed"] == r["seed"]))
        for r in rows if r["arm"] == f"{BASE} rerun"]
if runs:
    d = np.array([a - b for a, b in runs])
    sd = np.sqrt((d ** 2).mean() / 2)
    both = np.array([x for pair in runs for x in pair])
    print(f"{BASE} run against rerun, same world model: differences {np.round(d, 1).tolist()}; one run's own std "
          f"(sqrt(mean d^2 / 2)) {sd:.1f}; run noise of the difference of two {len(runs)}-seed arm means "
          f"{sd * np.sqrt(2 / len(runs)):.1f} (2 x: {2 * sd * np.sqrt(2 / len(runs)):.1f}); of one per-seed difference "
          f"{sd * np.sqrt(2):.1f}; all {len(both)} runs of {BASE}: mean {both.mean():.1f}")
dream = {}
for seed, arm, ev in [*evals("session38", True), *evals("session39", True)]:
    dream.setdefault(arm_name(arm), []).append((seed, agent(ev)["mean"], agent(ev)["top_action_share"]))
for arm, v in dream.items():
    m = np.array([x for _, x, _ in v])
    print(f"dream-only {arm:>10}: " + ", ".join(f"seed {s} {x:.1f} (top action {t:.2f})" for s, x, t in v)
          + f"; across seeds {m.mean():.1f}" + (f" +/- {m.std(ddof=1):.1f}" if len(m) > 1 else ""))

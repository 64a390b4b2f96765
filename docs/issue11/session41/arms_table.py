"""Session 41's table: refinement arms (session41/arm.sh, started from session 40's refine25 runs' main searches with
splice.py) on the six paired runs (world models 0-2 with their own controller seed and with seeds 100-102), against the
same runs' main search pick, session 40's CMA-ES refinement (refine25) and the default run with the same seeds
(session 38's hpc16, session 39's reruns).

    python docs/issue11/session41/arms_table.py [ARM...]          # default: elite25

Every score: 100 games on seeds 10,000-10,099; per-game differences are paired on those seeds.
"""
import json
import sys
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parents[1]
ARMS = sys.argv[1:] or ["elite25"]
RUNS = [(0, ""), (1, ""), (2, ""), (0, "_c100"), (1, "_c101"), (2, "_c102")]


def scores(ev: Path) -> np.ndarray:
    a = json.loads(ev.read_text())["agent"]
    assert a["num_episodes"] == 100, ev
    return np.array([e["score"] for e in sorted(a["episodes"], key=lambda e: e["seed"])], dtype=float)


def paired(a: np.ndarray, b: np.ndarray) -> str:
    d = a - b
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    return f"{d.mean():+.1f} [{d.mean() - half:+.1f}, {d.mean() + half:+.1f}]"


def main() -> None:
    for arm in ARMS:
        print(f"\n### {arm}\n")
        print("| world model, controller seed | default | main search's pick | refine25 (CMA-ES) | " + arm +
              " (generations, kept, frames) | minus its main pick | minus refine25 |")
        print("|---|---|---|---|---|---|---|")
        rows = []
        for wm, sfx in RUNS:
            ev = D / f"session41/s{wm}_{arm}{sfx}_eval100.json"
            if not ev.is_file():
                continue
            base = D / (f"session38/s{wm}_hpc16_eval100.json" if not sfx else f"session39/s{wm}_hpc16{sfx}_eval100.json")
            main, cma = D / f"session40/s{wm}_refine25{sfx}_main_pick_eval100.json", D / f"session40/s{wm}_refine25{sfx}_eval100.json"
            s = {k: scores(p) for k, p in (("default", base), ("main", main), ("cma", cma), ("arm", ev))}
            r = json.loads((D / f"session41/s{wm}_{arm}{sfx}_controller_metrics.json").read_text())
            ref = r["real"]["refine"]
            kept = ref["kept"] + (f" after {ref['moves']} moves" if "moves" in ref else "")
            rows.append({k: v.mean() for k, v in s.items()})
            print(f"| {wm}, {sfx[2:] or wm} | {s['default'].mean():.1f} | {s['main'].mean():.1f} | {s['cma'].mean():.1f} | "
                  f"{s['arm'].mean():.1f} ({len(ref['history'])}, {kept}, {r['env_frames']['total']:,}) | "
                  f"{paired(s['arm'], s['main'])} | {paired(s['arm'], s['cma'])} |")
        if len(rows) > 1:
            m = {k: np.array([r[k] for r in rows]) for k in rows[0]}
            print("| across | " + " | ".join(f"{m[k].mean():.1f} +/- {m[k].std(ddof=1):.1f}" for k in ("default", "main", "cma", "arm"))
                  + " | | |")
            for other, label in (("main", "its main pick"), ("cma", "refine25"), ("default", "the default")):
                g = m["arm"] - m[other]
                t = g.mean() / (g.std(ddof=1) / np.sqrt(len(g))) if g.std(ddof=1) > 0 else float("nan")
                print(f"{arm} minus {label} over {len(g)} paired runs: {np.round(g, 1).tolist()}, mean {g.mean():+.1f}, "
                      f"std {g.std(ddof=1):.1f}, t {t:.2f}")


if __name__ == "__main__":
    main()

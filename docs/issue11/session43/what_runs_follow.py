"""Session 43: what a real-phase run's final score follows, across every 5M-frame run of the default preset's search
family kept in docs/ (sessions 34-43 and `make train` of 2026-12-07: each a controller_metrics.json beside the
100-game evaluation of the agent it kept). A main search counted once: runs that share one (session 41's refinement
arms start from session 40's main searches) count only the first found.

For each run: the agent's 100-game mean; its main search's population mean in the last generation and its best
generation mean (how far the population climbed); the best 2-game fitness any of its candidates reached; the main
pick's and the kept controller's score on the 8 selection games. Spearman and Pearson correlations with the 100-game
score across runs.

    python docs/issue11/session43/what_runs_follow.py
"""
import json
import sys
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(D / "issue11/session41"))
from arms_table import scores  # noqa: E402


def runs():
    for met in sorted(D.glob("issue11/session*/*_controller_metrics.json")):
        ev = met.with_name(met.name.replace("_controller_metrics.json", "_eval100.json"))
        if ev.is_file():
            yield met.parent.name + "/" + met.name.removesuffix("_controller_metrics.json"), met, ev
    mt = D / "make_train_2026-12-07"
    yield "make_train_2026-12-07/seed0", mt / "controller_metrics.json", mt / "eval100.json"
    for s in (1, 2):
        yield f"make_train_2026-12-07/seed{s}", mt / f"seed{s}/controller_metrics.json", mt / f"seed{s}/eval_100.json"


def rank(x: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(x)).astype(float)


def main() -> None:
    rows, seen = [], set()
    for name, met, ev in runs():
        m = json.loads(met.read_text())
        real = m.get("real") or {}
        h = real.get("history")
        if not h or not real.get("rescored"):
            continue
        key = tuple(round(g["mean"], 6) for g in h)
        if key in seen:  # a main search another run already counts (session 41's arms reuse session 40's)
            continue
        seen.add(key)
        ref = real.get("refine") or {}
        pick8 = max(real["rescored"])
        kept8 = max(pick8, max(ref["rescored"])) if ref.get("rescored") else pick8
        rows.append((name, scores(ev).mean(), h[-1]["mean"], max(g["mean"] for g in h), max(g["best"] for g in h),
                     pick8, kept8))
    names = [r[0] for r in rows]
    a = np.array([r[1:] for r in rows], dtype=float)
    cols = ["last population mean", "best generation mean", "best 2-game fitness", "main pick, 8 games",
            "kept, 8 games"]
    print(f"{len(rows)} runs ({', '.join(sorted({n.split('/')[0] for n in names}))}); 100-game score "
          f"{a[:, 0].mean():.1f} ± {a[:, 0].std(ddof=1):.1f} (min {a[:, 0].min():.1f}, max {a[:, 0].max():.1f})\n")
    print("| against the 100-game score | mean across runs | Spearman | Pearson |")
    print("|---|---|---|---|")
    for j, c in enumerate(cols, start=1):
        sp = np.corrcoef(rank(a[:, 0]), rank(a[:, j]))[0, 1]
        pe = np.corrcoef(a[:, 0], a[:, j])[0, 1]
        print(f"| {c} | {a[:, j].mean():.1f} | {sp:.2f} | {pe:.2f} |")


if __name__ == "__main__":
    main()

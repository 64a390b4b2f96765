"""Table for docs/issue11/fg10_real.sh: `make train` (runs/make_train_xeon_s<SEED>, docs/make_train_seeds.sh) against
the same recipe on the dirichlet_fg10 world model (runs/ablation/dirichlet_fg10_real_s<SEED>), per training seed on the
same 100 evaluation games: scores, the per-game difference with a 95% interval, and real frames used.

    python docs/issue11/fg10_real_table.py [SEED...]     # default: every seed both runs have evaluated
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
RUNS = {"make train": "runs/make_train_xeon_s{}", "fg10 world model": "runs/ablation/dirichlet_fg10_real_s{}"}


def scores(run: Path, name: str) -> dict[int, float] | None:
    f = run / name
    return {e["seed"]: e["score"] for e in json.loads(f.read_text())["agent"]["episodes"]} if f.is_file() else None


def main() -> None:
    seeds = [int(s) for s in sys.argv[1:]] or [s for s in range(10)
                                                 if all((ROOT / r.format(s) / "eval_100.json").is_file() for r in RUNS.values())]
    print("| training seed | make train | fg10 world model | per-game difference [95%] | fg10 dream-only | real frames (make train / fg10) |")
    print("|---|---:|---:|---:|---:|---:|")
    means = {k: [] for k in RUNS}
    for s in seeds:
        runs = {k: ROOT / r.format(s) for k, r in RUNS.items()}
        a, b = scores(runs["make train"], "eval_100.json"), scores(runs["fg10 world model"], "eval_100.json")
        assert a is not None and b is not None and a.keys() == b.keys(), f"seed {s}: both runs need eval_100.json on the same games"
        d = np.array([b[g] - a[g] for g in sorted(a)])
        half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
        dream = scores(runs["fg10 world model"], "eval_dream_100.json")
        frames = [json.loads((r / "controller" / "metrics.json").read_text())["env_frames"]["total"] for r in runs.values()]
        means["make train"].append(np.mean(list(a.values())))
        means["fg10 world model"].append(np.mean(list(b.values())))
        print(f"| {s} | {means['make train'][-1]:.1f} | {means['fg10 world model'][-1]:.1f} | {d.mean():+.1f} "
              f"[{d.mean() - half:+.1f}, {d.mean() + half:+.1f}] | {np.mean(list(dream.values())) if dream else float('nan'):.1f} "
              f"| {frames[0]:,} / {frames[1]:,} |")
    if len(seeds) > 1:
        m, f = np.array(means["make train"]), np.array(means["fg10 world model"])
        print(f"| mean ± std across {len(seeds)} seeds | {m.mean():.1f} ± {m.std(ddof=1):.1f} | {f.mean():.1f} ± {f.std(ddof=1):.1f} | | | |")


if __name__ == "__main__":
    main()

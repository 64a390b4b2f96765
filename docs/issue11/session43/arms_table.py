"""Session 43's table: a real-phase arm against the default preset on six world models, each with the same
controller seed, so the two runs differ only in the arm's flag.

- world models 0-2 of `make train` on 2026-12-07 (AVX-512 kernels, no part in choosing any setting): the default is
  `make train --seed S` itself (docs/make_train_2026-12-07/);
- world models 0-2 of runs/mt (AVX2 kernels, on which sessions 36-41 chose the defaults): the default is session 41's
  refine25q run (the default preset since then).

    python docs/issue11/session43/arms_table.py [ARM]        # default: csa03

Every score: 100 games on seeds 10,000-10,099; per-game differences are paired on those seeds. The main search's
population mean is its last generation's (the mean fitness of its 32 candidates, 2 games each), the step its last
CMA-ES step size against its first.
"""
import json
import sys
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(D / "issue11/session41"))
from arms_table import paired, scores  # noqa: E402  (session 41's table: 100 games in seed order)

ARM = sys.argv[1] if len(sys.argv) > 1 else "csa03"
HERE = D / "issue11/session43"
MT = D / "make_train_2026-12-07"
RUNS = [  # (label, default eval, default controller metrics, arm's run name)
    ("make train 0", MT / "eval100.json", MT / "controller_metrics.json", "make_train_epyc_s0"),
    ("make train 1", MT / "seed1/eval_100.json", MT / "seed1/controller_metrics.json", "make_train_epyc_s1"),
    ("make train 2", MT / "seed2/eval_100.json", MT / "seed2/controller_metrics.json", "make_train_epyc_s2"),
    *[(f"runs/mt {s}", D / f"issue11/session41/s{s}_refine25q_eval100.json",
       D / f"issue11/session41/s{s}_refine25q_controller_metrics.json", f"s{s}") for s in range(3)],
]


def search(metrics: Path) -> str:
    m = json.loads(metrics.read_text())
    h, r = m["real"]["history"], m["real"].get("refine", {}).get("history", [])
    return f"{len(h)} + {len(r)}, mean {h[-1]['mean']:.0f}, step x{h[-1]['sigma'] / h[0]['sigma']:.2f}"


def main() -> None:
    print(header(ARM))
    rows = []
    for label, ev, met, run in RUNS:
        arm_ev = HERE / f"{run}_{ARM}_eval100.json"
        if not arm_ev.is_file():
            continue
        a, b = scores(ev), scores(arm_ev)
        rows.append((a.mean(), b.mean()))
        print(f"| {label} | {a.mean():.1f} | {search(met)} | {b.mean():.1f} | "
              f"{search(HERE / f'{run}_{ARM}_controller_metrics.json')} | {paired(b, a)} |")
    if len(rows) > 1:
        print(summary(rows))


def header(arm: str) -> str:
    """The table's two header lines."""
    return (f"| world model | default | main search (generations + refinement, last mean, step) | {arm} | main search | "
            f"{arm} minus default, per game [95%] |\n|---|---|---|---|---|---|")


def summary(rows: list[tuple[float, float]]) -> str:
    """The table's last row from (default mean, arm mean) per world model; no t from 2 runs."""
    a, b = np.array(rows).T
    g = b - a
    t = f"t {g.mean() / (g.std(ddof=1) / np.sqrt(len(g))):.2f}; " if len(g) > 2 and g.std(ddof=1) > 0 else ""
    return (f"| **{len(rows)} world models** | {a.mean():.1f} ± {a.std(ddof=1):.1f} | | {b.mean():.1f} ± "
            f"{b.std(ddof=1):.1f} | | {g.mean():+.1f} per run ({t}{int((g > 0).sum())} of {len(g)} higher) |")


if __name__ == "__main__":
    main()

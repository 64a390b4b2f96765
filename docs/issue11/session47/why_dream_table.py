"""The table of why_dream.py's runs (why_dream_{base,onpolicy,frozen,xeon2}.json), with what is left of the dream's order
once its firing rate is taken out: the residuals of a least-squares fit of the dream fitness on the firing share (and on
the firing share and the dreamed length), Spearman with the truth.

    python docs/issue11/session47/why_dream_table.py
"""
import json
import sys
from pathlib import Path

import numpy as np

here = Path(__file__).parent
sys.path.insert(0, str(here.parents[2]))
from utils.dream_quality import spearman  # noqa: E402

SETS = [("first pass", "base"), ("on-policy round (all weights)", "onpolicy"), ("heads-only round", "frozen"),
        ("Xeon world model 2, first pass", "xeon2")]


def residual(y: np.ndarray, *xs: np.ndarray) -> np.ndarray:
    a = np.column_stack([np.ones_like(y), *xs])
    return y - a @ np.linalg.lstsq(a, y, rcond=None)[0]


def main() -> None:
    print("| candidates / dream | firing share in the dream, min / median / max | dream fitness vs firing share "
          "| share of the dream fitness's variance the firing share explains | dream fitness vs dreamed length "
          "| truth vs firing share | truth vs dream fitness | truth vs the fitness less the firing share "
          "| less firing share and length |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, key in SETS:
        d = json.loads((here / f"why_dream_{key}.json").read_text())
        fit, fire, length, truth = (np.array(d[k])[1:] for k in ("fitness", "fire", "length", "truth"))
        r1, r2 = residual(fit, fire), residual(fit, fire, length)
        q = np.percentile(fire, [0, 50, 100])
        print(f"| {name} | {q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f} | {spearman(fit, fire):+.2f} | {1 - r1.var() / fit.var():.2f} "
              f"| {spearman(fit, length):+.2f} | {spearman(truth, fire):+.2f} | {spearman(truth, fit):+.2f} "
              f"| {spearman(truth, r1):+.2f} | {spearman(truth, r2):+.2f} |")


if __name__ == "__main__":
    main()

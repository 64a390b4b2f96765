"""Session 45: how many paired runs would a real-phase arm need? Pools every full-run pair of issue 11's real-phase
ablations (sessions 38-45; 100 games each on seeds 10,000-10,099) into two kinds:

- noise pairs: the same world model and preset, another controller seed (session 39's reruns of session 38's hpc16
  default, and session 40's refine25 with its reruns): what one run's luck is;
- arm pairs: the same world model and controller seed, one flag changed (sessions 42-45: cap500, refine50q, norefine,
  csa03, sigma1, pop16, mirr; the default run of each pair as its session's table names it).

    python docs/issue11/session45/noise.py

Prints each pair's difference of 100-game means (with its label), the standard deviation of those differences per kind, and the pairs a
real-phase arm would need to show a gain of d at the 5% level with 80% power (n = ((1.96 + 0.84) sd / d)^2).
"""
import sys
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parents[1]  # docs/issue11
MT = D.parent / "make_train_2026-12-07"
sys.path.insert(0, str(D / "session41"))
from arms_table import scores  # noqa: E402  (session 41's table: a 100-game evaluation's scores in seed order)

NOISE = [  # (label, one run, the same preset with another controller seed)
    *[(f"hpc16 wm {w}", D / f"session38/s{w}_hpc16_eval100.json", D / f"session39/s{w}_hpc16_c10{w}_eval100.json")
      for w in range(3)],
    *[(f"refine25 wm {w}", D / f"session40/s{w}_refine25_eval100.json", D / f"session40/s{w}_refine25_c10{w}_eval100.json")
      for w in range(3)],
]
EPYC_DEFAULT = {0: MT / "eval100.json", 1: MT / "seed1/eval_100.json", 2: MT / "seed2/eval_100.json",
                3: D / "session45/make_train_epyc_s3_default_eval100.json"}
ARMS = [  # (label, the arm's run, the default run with the same world model and controller seed)
    *[(f"{a} wm {w}", D / f"session42/s{w}_{a}_eval100.json", D / f"session41/s{w}_refine25q_eval100.json")
      for a in ("cap500", "refine50q") for w in range(2)],
    ("norefine epyc 0", D.parent / "make_train_2026-12-06b/eval100.json", EPYC_DEFAULT[0]),
    *[(f"norefine epyc {s}", D / f"session42/make_train_epyc_s{s}_norefine_eval100.json", EPYC_DEFAULT[s]) for s in (1, 2)],
    *[(f"{a} epyc {s}", D / f"session43/make_train_epyc_s{s}_{a}_eval100.json", EPYC_DEFAULT[s])
      for a in ("csa03", "sigma1") for s in range(3)],
    *[(f"{a} mt {w}", D / f"session43/s{w}_{a}_eval100.json", D / f"session41/s{w}_refine25q_eval100.json")
      for a in ("csa03", "sigma1") for w in range(3)],
    *[(f"{a} xeon {s}", D / f"session44/xeon_s{s}_{a}_eval100.json", D / f"session44/xeon_s{s}_default_eval100.json")
      for a in ("pop16", "mirr") for s in range(3)],
    *[(f"{a} epyc {s}", D / f"session45/make_train_epyc_s{s}_{a}_eval100.json", EPYC_DEFAULT[s])
      for a in ("pop16", "mirr") for s in range(4)],
]


def report(kind: str, pairs: list[tuple[str, Path, Path]]) -> float:
    found = [(label, scores(a).mean() - scores(b).mean()) for label, a, b in pairs if a.is_file() and b.is_file()]
    g = np.array([d for _, d in found])
    print(f"{kind}: {len(g)} pairs, differences " + ", ".join(f"{label} {d:+.1f}" for label, d in found))
    sd = g.std(ddof=1)
    print(f"  mean {g.mean():+.1f}, sd {sd:.1f} (one run's own sd, if the two runs are independent: {sd / np.sqrt(2):.1f})")
    return sd


if __name__ == "__main__":
    report("noise pairs (another controller seed)", NOISE)
    sd = report("arm pairs (same controller seed, one flag)", ARMS)
    for d in (50, 100, 150, 300):
        print(f"  pairs to show +{d} per run (5% level, 80% power, sd {sd:.0f}): {int(np.ceil((2.8 * sd / d) ** 2))}")

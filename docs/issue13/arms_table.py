"""Issue 13: the controller arms of docs/issue13/controller_arms.sh side by side, each against a reference arm on the
same tracks (per-track differences: mean and 95% normal-approximation interval, 1.96 standard errors).

    python docs/issue13/arms_table.py [SEED] [EPOCHS] [REFERENCE] ARM...   # e.g. 0 10 real_only real_only_nopat ...
"""
import json
import sys
from pathlib import Path

import numpy as np

seed, epochs, ref, arms = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
root = Path(__file__).resolve().parents[2] / "runs" / "car"


def load(arm: str) -> tuple[dict, dict]:
    run = root / f"{arm}_e{epochs}_s{seed}"
    return (json.loads((run / "eval" / "results.json").read_text())["agent"],
            json.loads((run / "controller" / "metrics.json").read_text()))


base, _ = load(ref)
base_scores = {e["seed"]: e["score"] for e in base["episodes"]}
print(f"| arm | score on {base['num_episodes']} tracks | min / max | minus `{ref}`, same tracks (95% CI) "
      "| real frames (training) | controller seconds |")
print("|---|---|---|---|---|---|")
for arm in [ref, *arms]:
    agent, metrics = load(arm)
    d = np.array([e["score"] - base_scores[e["seed"]] for e in agent["episodes"]])
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d)) if arm != ref else 0.0
    diff = "-" if arm == ref else f"{d.mean():+.1f} [{d.mean() - half:+.1f}, {d.mean() + half:+.1f}]"
    print(f"| `{arm}` | {agent['mean']:.1f} +/- {agent['std']:.1f} | {agent['min']:.0f} / {agent['max']:.0f} | {diff} "
          f"| {metrics['env_frames']['real']:,} | {metrics['train_seconds']:.0f} |")

"""Issue 11: the `--equal-budget 400000` reports of several training seeds as one table.

    python docs/issue11/equal_budget_table.py runs/ablation/dirichlet_fg10_select_s{0,1,2}/comparison/results.json

One row per agent: each seed's mean over its games, then the mean +/- sample std across seeds, the training frames
and the share of games each agent scores above always-FIRE (285). References (random, always-FIRE) do not train, so
their score repeats across seeds unless the game seeds differ. Then, per seed, World Models against the strongest
other agent of that report: the mean of the per-game differences (every agent plays the same seeded games) with a
95% normal-approximation interval (1.96 standard errors of the paired differences).
"""

from __future__ import annotations

import json
import sys

import numpy as np

LABELS = {"world-models": "World Models (dream + real-game selection)", "ddqn": "DDQN", "ppo": "PPO", "sac": "SAC",
          "random": "random", "fire": "always FIRE"}


def main(paths: list[str]) -> None:
    reports = [json.loads(open(p).read()) for p in paths]
    seeds = [r["train_seed"] for r in reports]
    games = {len(r["eval_seeds"]) for r in reports}
    print(f"| agent | {' | '.join(f'seed {s}' for s in seeds)} | mean +/- std across seeds | training frames | games > 285 |")
    print("|---|" + "---:|" * (len(seeds) + 3))
    for name, label in LABELS.items():
        rows = [r["agents"].get(name) for r in reports]
        if any(a is None for a in rows):
            continue
        means = np.array([a["mean"] for a in rows])
        spread = f"{means.mean():.1f} +/- {means.std(ddof=1):.1f}" if len(means) > 1 else f"{means[0]:.1f}"
        frames = [a.get("train_env_frames") for a in rows]
        frames_s = "-" if frames[0] is None else ", ".join(f"{f / 1e3:.0f}k" for f in frames)
        above = np.mean([e["score"] > 285 for a in rows for e in a["episodes"]])
        print(f"| {label} | {' | '.join(f'{m:.1f}' for m in means)} | **{spread}** | {frames_s} | {above:.0%} |")
    print("\n| seed | World Models | strongest other agent | difference per game, 95% interval |\n|---|---:|---|---:|")
    for r in reports:
        wm = r["agents"]["world-models"]
        name, other = max(((k, a) for k, a in r["agents"].items() if k != "world-models"), key=lambda x: x[1]["mean"])
        by_seed = {e["seed"]: e["score"] for e in other["episodes"]}
        diff = np.array([e["score"] - by_seed[e["seed"]] for e in wm["episodes"]], dtype=float)
        half = 1.96 * diff.std(ddof=1) / np.sqrt(len(diff))
        print(f"| {r['train_seed']} | {wm['mean']:.1f} | {LABELS.get(name, name)} {other['mean']:.1f} | "
              f"{diff.mean():+.1f} [{diff.mean() - half:+.1f}, {diff.mean() + half:+.1f}] |")
    print(f"\n{sorted(games)} games per agent and seed; evaluation seeds {reports[0]['eval_seeds'][0]}+; "
          f"budget stated: {reports[0]['equal_budget_frames']} frames")


if __name__ == "__main__":
    main(sys.argv[1:])

"""A reference for near-constant controllers: always-FIRE with rare random actions.

    python docs/fire_jitter.py [--eps 0.002 0.004 0.01 0.05] [--games 100] [--seed 10000] [--json out.json]

Each step, with probability eps, one uniformly random action replaces FIRE (each game has its own RNG, so a
game's result does not depend on how games are scheduled on emulators). Space Invaders with a constant action
is deterministic (sticky actions repeat the same action), so always-FIRE scores 285 on every seed; a few
deviations change the course of a game. A dream-trained controller that is FIRE on 99.6% of its steps should
be compared with this, not only with always-FIRE.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from config import EnvConfig  # noqa: E402
from utils.evaluation import evaluate_policy  # noqa: E402
from utils.wrappers import action_meanings  # noqa: E402


class FireJitter:
    def __init__(self, n_actions: int, fire: int, eps: float, seed: int):
        self.n, self.fire, self.eps, self.seed = n_actions, fire, eps, seed

    def reset(self, num_envs: int) -> None:
        self.rngs = [np.random.default_rng() for _ in range(num_envs)]

    def start(self, envs: np.ndarray, jobs: np.ndarray) -> None:
        for e, j in zip(envs, jobs):
            self.rngs[int(e)] = np.random.default_rng([self.seed, int(j)])

    def act(self, frames: np.ndarray, envs: np.ndarray | None = None) -> np.ndarray:
        out = np.full(len(frames), self.fire, dtype=np.int64)
        for e, rng in enumerate(self.rngs[:len(frames)]):
            if rng.random() < self.eps:
                out[e] = int(rng.integers(self.n))
        return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--eps", type=float, nargs="+", default=[0.002, 0.004, 0.01, 0.05])
    p.add_argument("--games", type=int, default=100)
    p.add_argument("--seed", type=int, default=10_000)
    p.add_argument("--json")
    args = p.parse_args()
    env = EnvConfig()
    names = action_meanings(env)
    seeds = [args.seed + i for i in range(args.games)]
    rows = []
    for eps in args.eps:
        r = evaluate_policy(env, FireJitter(len(names), names.index("FIRE"), eps, 4242), seeds)
        rows.append({"eps": eps, "mean": r["mean"], "std": r["std"], "min": r["min"], "max": r["max"], "games": r["num_episodes"]})
        print(f"FIRE + eps {eps}: {r['mean']:.1f} +/- {r['std']:.1f} (min {r['min']:.0f}, max {r['max']:.0f}) over {r['num_episodes']} games", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

"""The table of docs/sweep_controller.sh: one row per arm, the dream controller on the 30 validation games.

    python docs/sweep_table.py runs/ctrl_sweep [--json out.json]

Columns: validation score (mean, std over games; seeds 20,000-20,029), top action, the dream's own best
re-scored fitness, mean dreamed length of the last generation, controller training seconds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def row_of(run: Path) -> dict | None:
    ev = run / "eval" / "validation.json"
    if not ev.exists():
        return None
    agent = json.loads(ev.read_text())["agent"]
    top = max(agent["action_share"].items(), key=lambda kv: kv[1])
    dream = json.loads((run / "controller" / "metrics.json").read_text())["dream"]
    return {"source": run.parent.name, "arm": run.name, "score": round(agent["mean"], 1), "std": round(agent["std"], 1),
            "games": agent["num_episodes"], "top_action": f"{top[0]} {top[1]:.0%}",
            "dream_fitness": round(max(dream["rescored"]), 2), "dream_len": round(dream["history"][-1]["dream_length"], 1),
            "generations": len(dream["history"]), "train_s": round(dream["seconds"], 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root")
    p.add_argument("--json")
    args = p.parse_args()
    rows = [r for run in sorted(Path(args.root).glob("*/*")) if run.is_dir() and (r := row_of(run))]
    cols = list(rows[0]) if rows else []
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

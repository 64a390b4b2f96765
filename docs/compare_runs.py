"""Compare two run directories (and two comparison reports) made by the same commands: every
safetensors weight, every per-epoch loss and CMA-ES generation, and every game's score.

    python docs/compare_runs.py OLD_RUN NEW_RUN [OLD_COMPARISON NEW_COMPARISON]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from safetensors.torch import load_file

TIMINGS = {"seconds", "train_seconds", "frames_per_second", "steps_per_second", "resumed", "resumed_at_epoch"}


def without_timings(obj):
    """A metrics structure without wall-clock fields (the only part two identical runs may differ in)."""
    if isinstance(obj, dict):
        return {k: without_timings(v) for k, v in obj.items() if k not in TIMINGS}
    if isinstance(obj, list):
        return [without_timings(v) for v in obj]
    return obj


def games(results: dict) -> list:
    """(seed, score, length) of every game of every policy in a results file, keyed by where it sits."""
    out = []

    def walk(obj, where):
        if isinstance(obj, dict):
            if "episodes" in obj and isinstance(obj["episodes"], list):
                out.append((where, [(e["seed"], e["score"], e["length"]) for e in obj["episodes"]]))
            for k, v in obj.items():
                if k != "episodes":
                    walk(v, f"{where}/{k}")

    walk(results, "")
    return sorted(out)


def main(old: Path, new: Path, old_cmp: Path | None, new_cmp: Path | None) -> int:
    diffs, checked = [], 0
    for path in sorted(old.rglob("*.safetensors")):
        a, b = load_file(str(path)), load_file(str(new / path.relative_to(old)))
        checked += 1
        if a.keys() != b.keys() or any(not a[k].equal(b[k]) for k in a):
            diffs.append(f"weights differ: {path.relative_to(old)}")
    for rel in ("vae/metrics.json", "mdn_rnn/metrics.json", "controller/metrics.json"):
        a, b = (without_timings(json.loads((d / rel).read_text())) for d in (old, new))
        checked += 1
        if a != b:
            diffs.append(f"{rel} differs: {sorted(k for k in a if a[k] != b.get(k))}")
    results = [p.relative_to(old) for p in old.rglob("results.json")]
    pairs = [(old / r, new / r) for r in results]
    if old_cmp and new_cmp:
        pairs.append((old_cmp / "results.json", new_cmp / "results.json"))
    for a, b in pairs:
        ga, gb = games(json.loads(a.read_text())), games(json.loads(b.read_text()))
        n = sum(len(g) for _, g in ga)
        checked += 1
        if ga != gb:
            diffs.append(f"game scores differ: {a}")
        print(f"{a.name} in {a.parent}: {n} games, {'identical' if ga == gb else 'DIFFERENT'}")
    print(f"{checked} comparisons, {len(diffs)} differences")
    for d in diffs:
        print("  " + d)
    return 1 if diffs else 0


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]]
    sys.exit(main(args[0], args[1], *(args[2:4] if len(args) >= 4 else (None, None))))

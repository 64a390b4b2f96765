"""The table of short_dream.py's runs: per candidate set and start pool, the range of the dream's Spearman with the
truth over both draws and both temperatures, per horizon, and the range of the dream against itself.

    python docs/issue11/session47/short_dream_table.py
"""
import json
from pathlib import Path

here = Path(__file__).parent
SETS = [("first pass / first pass", "base"), ("on-policy round / its dream", "onpolicy"),
        ("heads-only round / its dream", "frozen"), ("first pass / heads-only round's heads", "base_frozenheads")]
POOLS = {"random": "random play", "policy": "the controller's games"}


def main() -> None:
    first = json.loads((here / "short_dream_base.json").read_text())["rows"]
    horizons = sorted({r["horizon"] for r in first})
    print("| candidates / dream | starts | " + " | ".join(f"horizon {h}" for h in horizons) + " | the dream against itself |")
    print("|---|---|" + "---|" * len(horizons) + "---|")
    for name, key in SETS:
        rows = json.loads((here / f"short_dream_{key}.json").read_text())["rows"]
        for pool, label in POOLS.items():
            mine = [r for r in rows if r["starts"] == pool]
            cells = []
            for h in horizons:
                v = [x for r in mine if r["horizon"] == h for x in r["fitness_truth"]]
                cells.append(f"{min(v):+.2f} to {max(v):+.2f}")
            ab = [r["fitness_a_b"] for r in mine]
            print(f"| {name} | {label} | " + " | ".join(cells) + f" | {min(ab):.2f}-{max(ab):.2f} |")
    every = [x for _, key in SETS for r in json.loads((here / f"short_dream_{key}.json").read_text())["rows"]
             for x in r["fitness_truth"]]
    print(f"\nevery cell: {min(every):+.2f} to {max(every):+.2f} ({len(every)} Spearmans)")


if __name__ == "__main__":
    main()

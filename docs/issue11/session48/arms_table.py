"""Session 48's table: a real-phase arm (run this session) against the default preset (session 44's runs) on the
world models built on a 2-core Intel Xeon (`runs/xeon_s<SEED>`, rebuilt byte for byte on the same CPU type, so the
default's controller and its 100 games are session 44's), and two pairs with another controller seed, both arms made
here. Both runs of a pair use the same controller seed and differ only in the arm's flag:

    SRC=runs/xeon_s OUT=docs/issue11/session48 bash docs/issue11/session36/arm.sh std "--controller.real-standardize true" SEED
    bash docs/issue11/session48/rerun.sh default "" WM CSEED; bash docs/issue11/session48/rerun.sh std "..." WM CSEED
    python docs/issue11/session48/arms_table.py [ARM]        # default: std

Every score: 100 games on seeds 10,000-10,099; per-game differences are paired on those seeds.
"""
import importlib.util
import sys
from pathlib import Path

D = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(D / "issue11/session41"))  # session 43's table imports session 41's
_spec = importlib.util.spec_from_file_location("arms_table_s44", D / "issue11/session44/arms_table.py")
_s44 = importlib.util.module_from_spec(_spec)
ARM = sys.argv[1] if len(sys.argv) > 1 else "std"
sys.argv = [sys.argv[0], ARM]  # session 44's module reads its arm from argv
_spec.loader.exec_module(_s44)
_s43 = _s44._s43
BASE, HERE = D / "issue11/session44", D / "issue11/session48"
# (world model, run suffix): the controller seed is the world model's, or another one (rerun.sh: _c<CSEED>)
PAIRS = [(0, ""), (1, ""), (2, ""), (0, "_c100"), (2, "_c102")]


def default_and_arm(seed: int, c: str) -> tuple[Path, Path]:
    """The pair's two run prefixes: session 44's default for the world model's own controller seed, else this session's."""
    return (BASE if not c else HERE) / f"xeon_s{seed}_default{c}", HERE / f"xeon_s{seed}_{ARM}{c}"


def main() -> None:
    print(_s43.header(ARM))
    rows = []
    for seed, c in PAIRS:
        base, arm = default_and_arm(seed, c)
        if not (Path(f"{arm}_eval100.json").is_file() and Path(f"{base}_eval100.json").is_file()):
            continue
        a, b = _s44.scores(Path(f"{base}_eval100.json")), _s44.scores(Path(f"{arm}_eval100.json"))
        rows.append((a.mean(), b.mean()))
        print(f"| Xeon {seed}{', controller seed ' + c[2:] if c else ''} | {a.mean():.1f} | "
              f"{_s44.search(Path(f'{base}_controller_metrics.json'))} | {b.mean():.1f} | "
              f"{_s44.search(Path(f'{arm}_controller_metrics.json'))} | {_s44.paired(b, a)} |")
    if len(rows) > 1:
        print(_s43.summary(rows).replace(" world models**", " pairs of runs**"))
    print(f"\nThe main search per generation (mean over its generations): real frames, seconds, frames/s; the run's "
          f"real frames at its last generation (before the last re-scoring)\n\n| world model | default | {ARM} |\n|---|---|---|")
    for seed, c in PAIRS:
        runs = [Path(f"{p}_controller_metrics.json") for p in default_and_arm(seed, c)]
        if all(r.is_file() for r in runs):
            print(f"| Xeon {seed}{' c' + c[2:] if c else ''} | " + " | ".join(_s44.per_generation(r) for r in runs) + " |")


if __name__ == "__main__":
    main()

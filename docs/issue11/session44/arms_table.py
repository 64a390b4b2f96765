"""Session 44's table: a real-phase arm against the default preset on world models built this session on a 2-core
Intel Xeon (`runs/xeon_s<SEED>`: `train_world_model.py --seed SEED --controller.real-epochs 0`, by
docs/issue11/session36/arm.sh). Both runs on a world model are made here, the same day, with the same controller seed,
so they differ only in the arm's flag:

    SRC=runs/xeon_s OUT=docs/issue11/session44 bash docs/issue11/session36/arm.sh default "" SEED
    SRC=runs/xeon_s OUT=docs/issue11/session44 bash docs/issue11/session36/arm.sh ARM "FLAGS" SEED
    python docs/issue11/session44/arms_table.py [ARM]        # default: pop16

Every score: 100 games on seeds 10,000-10,099; per-game differences are paired on those seeds. The main search's
population mean is its last generation's (the mean fitness of its candidates, 2 games each), the step its last
CMA-ES step size against its first.
"""
import importlib.util
import sys
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(D / "issue11/session41"))  # session 43's table imports session 41's
_spec = importlib.util.spec_from_file_location("arms_table_s43", D / "issue11/session43/arms_table.py")
_s43 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_s43)
paired, scores, search = _s43.paired, _s43.scores, _s43.search  # sessions 41 and 43's helpers

ARM = sys.argv[1] if len(sys.argv) > 1 else "pop16"
HERE = D / "issue11/session44"


def main() -> None:
    print(f"| world model | default | main search (generations + refinement, last mean, step) | {ARM} | main search | "
          f"{ARM} minus default, per game [95%] |")
    print("|---|---|---|---|---|---|")
    rows = []
    for seed in range(3):
        base, arm = HERE / f"xeon_s{seed}_default", HERE / f"xeon_s{seed}_{ARM}"
        if not (Path(f"{arm}_eval100.json").is_file() and Path(f"{base}_eval100.json").is_file()):
            continue
        a, b = scores(Path(f"{base}_eval100.json")), scores(Path(f"{arm}_eval100.json"))
        rows.append((a.mean(), b.mean()))
        print(f"| Xeon {seed} | {a.mean():.1f} | {search(Path(f'{base}_controller_metrics.json'))} | {b.mean():.1f} | "
              f"{search(Path(f'{arm}_controller_metrics.json'))} | {paired(b, a)} |")
    if len(rows) > 1:
        a, b = np.array(rows).T
        g = b - a
        t = f"t {g.mean() / (g.std(ddof=1) / np.sqrt(len(g))):.2f}; " if len(g) > 2 else ""  # no t from 2 runs
        print(f"| **{len(rows)} world models** | {a.mean():.1f} ± {a.std(ddof=1):.1f} | | {b.mean():.1f} ± "
              f"{b.std(ddof=1):.1f} | | {g.mean():+.1f} per run ({t}{int((g > 0).sum())} of {len(g)} higher) |")


if __name__ == "__main__":
    main()

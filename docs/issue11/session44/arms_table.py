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
import json
import sys
from pathlib import Path

D = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(D / "issue11/session41"))  # session 43's table imports session 41's
_spec = importlib.util.spec_from_file_location("arms_table_s43", D / "issue11/session43/arms_table.py")
_s43 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_s43)
paired, scores, search = _s43.paired, _s43.scores, _s43.search  # sessions 41 and 43's helpers

ARM = sys.argv[1] if len(sys.argv) > 1 else "pop16"
HERE = D / "issue11/session44"


def main() -> None:
    print(_s43.header(ARM))
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
        print(_s43.summary(rows))
    print(f"\nThe main search per generation (mean over its generations): real frames, seconds, frames/s; the run's "
          f"real frames at its last generation (before the last re-scoring)\n\n| world model | default | {ARM} |\n|---|---|---|")
    for seed in range(3):
        runs = [HERE / f"xeon_s{seed}_{a}_controller_metrics.json" for a in ("default", ARM)]
        if all(r.is_file() for r in runs):
            print(f"| Xeon {seed} | " + " | ".join(per_generation(r) for r in runs) + " |")


def per_generation(metrics: Path) -> str:
    r = json.loads(metrics.read_text())["real"]
    h, last = r["history"], (r.get("refine", {}).get("history") or r["history"])[-1]
    frames, seconds = h[-1]["env_frames"] / len(h), sum(x["seconds"] for x in h) / len(h)
    return f"{frames:,.0f} frames, {seconds:.1f} s, {frames / seconds:,.0f}/s; {last['env_frames'] / 1e6:.2f}M"


if __name__ == "__main__":
    main()

"""Session 45's table: a real-phase arm against the default preset on six world models, each pair with the same
controller seed, so the two runs differ only in the arm's flag:

- Xeon 0-2: session 44's world models, built on a 2-core Intel Xeon; both runs made there (docs/issue11/session44);
- EPYC 0-2: `make train --seed S`'s world models (docs/make_train_2026-12-07, AVX-512 kernels on the AMD EPYC), rebuilt
  here on the same CPU type by `SRC=runs/make_train_epyc_s ... arm.sh` (`train_world_model.py --seed S
  --controller.real-epochs 0`; their logs equal `make train`'s line for line up to the dream phase's last line, which
  is where the real phase starts), so the default is `make train --seed S`'s own controller, as in session 43;
- EPYC 3: a fourth world model of the same kind built here (`train_world_model.py --seed 3`, no `make train` of it),
  with the default controller run here as its pair (`arm.sh default "" 3`):

    SRC=runs/make_train_epyc_s OUT=docs/issue11/session45 bash docs/issue11/session36/arm.sh ARM "FLAGS" SEED
    python docs/issue11/session45/arms_table.py [ARM]        # default: pop16

Every score: 100 games on seeds 10,000-10,099; per-game differences are paired on those seeds.
"""
import importlib.util
import sys
from pathlib import Path

D = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(D / "issue11/session41"))  # session 43's table imports session 41's
_spec = importlib.util.spec_from_file_location("arms_table_s44", D / "issue11/session44/arms_table.py")
_s44 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_s44)
paired, scores, search, summary, per_generation = (_s44.paired, _s44.scores, _s44.search, _s44._s43.summary,
                                                   _s44.per_generation)

ARM = sys.argv[1] if len(sys.argv) > 1 else "pop16"
S44, HERE, MT = D / "issue11/session44", D / "issue11/session45", D / "make_train_2026-12-07"
RUNS = [  # (label, default eval, default controller metrics, the arm's files' prefix)
    *[(f"Xeon {s}", S44 / f"xeon_s{s}_default_eval100.json", S44 / f"xeon_s{s}_default_controller_metrics.json",
       S44 / f"xeon_s{s}_{ARM}") for s in range(3)],
    ("EPYC 0", MT / "eval100.json", MT / "controller_metrics.json", HERE / f"make_train_epyc_s0_{ARM}"),
    *[(f"EPYC {s}", MT / f"seed{s}/eval_100.json", MT / f"seed{s}/controller_metrics.json",
       HERE / f"make_train_epyc_s{s}_{ARM}") for s in (1, 2)],
    ("EPYC 3", HERE / "make_train_epyc_s3_default_eval100.json", HERE / "make_train_epyc_s3_default_controller_metrics.json",
     HERE / f"make_train_epyc_s3_{ARM}"),
]


def main() -> None:
    print(_s44._s43.header(ARM))
    rows = []
    for label, ev, met, arm in RUNS:
        arm_ev, arm_met = Path(f"{arm}_eval100.json"), Path(f"{arm}_controller_metrics.json")
        if not (arm_ev.is_file() and ev.is_file()):
            continue
        a, b = scores(ev), scores(arm_ev)
        rows.append((a.mean(), b.mean()))
        print(f"| {label} | {a.mean():.1f} | {search(met)} | {b.mean():.1f} | {search(arm_met)} | {paired(b, a)} |")
    if len(rows) > 1:
        print(summary(rows))
    print(f"\nThe main search per generation (mean over its generations): real frames, seconds, frames/s; the run's "
          f"real frames at its last generation (before the last re-scoring)\n\n| world model | default | {ARM} |\n|---|---|---|")
    for label, _, met, arm in RUNS:
        arm_met = Path(f"{arm}_controller_metrics.json")
        if arm_met.is_file() and met.is_file():
            print(f"| {label} | {per_generation(met)} | {per_generation(arm_met)} |")


if __name__ == "__main__":
    main()

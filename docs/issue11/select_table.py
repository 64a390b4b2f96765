"""The table of docs/issue11/select.sh: per training seed, the dream's own controller and the real-game
selection's on the same 100 evaluation games, the selection's 4-game scores and the real frames used.

    python docs/issue11/select_table.py [ROOT] [ARM]     # default runs/ablation dirichlet_select (also: dirichlet_fg10_select)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

root = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/ablation")
arm = sys.argv[2] if len(sys.argv) > 2 else "dirichlet_select"
rows, means = [], {"dream": [], "select": []}
for run in sorted(p for p in root.glob(f"{arm}_s*") if p.is_dir()):
    m = json.loads((run / "controller" / "metrics.json").read_text())
    cells = []
    for k in ("dream", "select"):
        a = json.loads((run / f"eval_{k}_100.json").read_text())["agent"]
        top = max(a["action_share"], key=a["action_share"].get)
        means[k].append(a["mean"])
        cells.append(f"{a['mean']:.1f} +/- {a['std']:.1f} ({top} {a['action_share'][top]:.0%})")
    s = m["select"]
    rows.append(f"| {run.name.rsplit('_s', 1)[1]} | {cells[0]} | {cells[1]} | #{s['chosen']} of {s['candidates']}: "
                f"{', '.join(f'{v:.0f}' for v in s['scores'])} | {m['env_frames']['total']:,} |")
print("| training seed | dream's choice (100 games) | real-game selection's choice (100 games) | selection: chosen, 4-game means "
      "| real frames (data + selection) |")
print("|---|---|---|---|---|")
print("\n".join(rows))
for k, v in means.items():
    print(f"{k}: {np.mean(v):.1f} +/- {np.std(v, ddof=1):.1f} across {len(v)} seeds (sample std)")

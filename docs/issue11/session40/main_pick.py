"""The controller a --controller.real-refine run's main search kept (before its refinement), written to
RUN/controller/main_pick/ for ``evaluate.py --controller``: the best of its finalists (controller/real_elites.npz's
best elites and mean, as train_controller.finalists orders them) by the 8-game scores in metrics.json.

    python docs/issue11/session40/main_pick.py RUN...
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from config import config_from_dict  # noqa: E402
from models.controller import Controller  # noqa: E402
from utils.es import finalists  # noqa: E402
from utils.io import save_model  # noqa: E402

for run in map(Path, sys.argv[1:]):
    cfg = config_from_dict(json.loads((run / "config.json").read_text()))
    m = json.loads((run / "controller/metrics.json").read_text())
    el = np.load(run / "controller/real_elites.npz")
    cands = finalists(list(zip(el["scores"].tolist(), el["params"], strict=True)), el["mean"], cfg.controller.real_finalists)
    assert len(cands) == len(m["real"]["rescored"])
    i = int(np.argmax(m["real"]["rescored"]))
    c = json.loads((run / "controller/config.json").read_text())
    ctrl = Controller(c["latent_dim"], c["hidden_size"], c["action_dim"]).set_flat(cands[i])
    save_model(ctrl, run / "controller/main_pick", ctrl.config(), "controller")
    print(f"{run}: main search pick = finalist #{i} ({m['real']['rescored'][i]:.1f} on 8 games), "
          f"{m['real']['history'][-1]['env_frames']:,} frames at its last generation; the refinement kept "
          f"{m['real']['refine']['kept']} ({max(m['real']['refine']['rescored']):.1f} on 8 games)")

"""train_controller.py on a copied world model with another controller seed: the data, latents and h's principal
directions are checked and drawn with the world model's seed (--seed, as the data on disk was collected with it), then
CMA-ES's draws, the dream starts and the real games of every generation and of the finalists' re-scoring use
CSEED, as a run with that seed would. An experiment harness for how much one real-phase run varies by itself
(rerun.sh), not a project option.

    python docs/issue11/session39/rerun_controller.py CSEED [train_controller.py flags, --seed the world model's]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np  # noqa: E402

import train_controller  # noqa: E402
from utils.cli import parse  # noqa: E402
from utils.common import seed_everything  # noqa: E402

cseed = int(sys.argv[1])
cfg = parse(sys.argv[2:], "rerun_controller")[0]
init = train_controller.ControllerTraining.__init__


def reseeded(self, cfg, paths, device):
    init(self, cfg, paths, device)  # data and latents checked, P drawn: the world model's seed
    assert self.state is None, "a rerun starts fresh"
    cfg.seed = cseed  # generation_seeds / selection_seeds read it
    self.rng = np.random.default_rng(cseed)
    self.gen_torch.manual_seed(cseed)
    seed_everything(cseed)


train_controller.ControllerTraining.__init__ = reseeded
print(f"[rerun] world model seed {cfg.seed}, controller seed {cseed}")
train_controller.main(cfg)

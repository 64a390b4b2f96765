"""Start a refinement arm from a finished --controller.real-refine run's main search, without playing it again.

A refinement run's main search does not depend on the refinement's flags (its share of the budget aside), so two
arms with the same share, world model and controller seed play the same main search (session 40 checked this against
the default runs). This copies SRC's world model, dream controller and main-search elites into DST, writes the resume
state a run of DST's flags holds between its main search and its refinement (the dream's result, the main search's
pick and metrics, the agent steps played), then runs train_controller.py, which resumes there and plays only the
refinement. The check: splicing SRC with its own flags must end with SRC's controller, bit for bit
(``--check``). An experiment harness, not a project option.

    python docs/issue11/session41/splice.py SRC DST CSEED [--check] -- [train_controller.py flags, --seed the world model's]

CSEED: the controller seed of session 39's reruns (rerun_controller.py), or - for the world model's own.
"""
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np  # noqa: E402
import torch  # noqa: E402

import train_controller  # noqa: E402
from utils.cli import parse  # noqa: E402
from utils.common import seed_everything  # noqa: E402
from utils.es import finalists  # noqa: E402
from utils.resume import file_digest  # noqa: E402

src, dst, cseed = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
check = "--check" in sys.argv[4:sys.argv.index("--")]
flags = sys.argv[sys.argv.index("--") + 1:]
if dst.exists():
    sys.exit(f"error: {dst} exists; remove it first")
dst.mkdir(parents=True)
for rel in ("config.json", "data", "vae", "mdn_rnn", "latents.json", "latents.npz", "controller/dream",
            "controller/real_elites.npz"):
    (shutil.copytree if (src / rel).is_dir() else shutil.copy)(src / rel, dst / rel)
cfg = parse([*flags, "--run-dir", str(dst)], "splice")[0]
init = train_controller.ControllerTraining.__init__


wm_seed = cfg.seed


def reseeded(self, cfg, paths, device):  # as session39/rerun_controller.py, for a resumed run too
    cfg.seed = wm_seed  # the data and latents are checked, and h's directions drawn, with the world model's seed
    init(self, cfg, paths, device)
    if cseed != "-":
        cfg.seed = int(cseed)
        self.rng = np.random.default_rng(int(cseed))
        self.gen_torch.manual_seed(int(cseed))
        seed_everything(int(cseed))


train_controller.ControllerTraining.__init__ = reseeded
m = json.loads((src / "controller/metrics.json").read_text())
real = {k: v for k, v in m["real"].items() if k != "refine"}
t = train_controller.ControllerTraining(cfg, train_controller.RunPaths.of(cfg), torch.device("cpu"))
el = np.load(src / "controller/real_elites.npz")
cands = finalists(list(zip(el["scores"].tolist(), el["params"], strict=True)), el["mean"], cfg.controller.real_finalists)
pick = cands[int(np.argmax(real["rescored"]))]
dream = train_controller.load_controller(src / "controller/dream", torch.device("cpu"), t.wm.vae.latent_dim,
                                         t.wm.mdn.hidden_size, t.wm.mdn.action_dim).get_flat().astype(np.float64)
t.saved = {"dream_x": torch.from_numpy(dream), "dream_metrics": json.dumps(m["dream"]),
           "real_x": torch.from_numpy(pick.copy()), "real_metrics": json.dumps(real)}
t.env_steps = int(real["env_steps"])
t.save("real", None, None, None)
print(f"[splice] {src} -> {dst}: main search of {len(real['history'])} generations, pick {max(real['rescored']):.1f} "
      f"on 8 games, {t.env_steps:,} agent steps")
got = train_controller.main(cfg)
if check:
    a, b = file_digest(src / "controller/model.safetensors"), file_digest(dst / "controller/model.safetensors")
    same = a == b and got["env_frames"] == m["env_frames"] and \
        [h["best"] for h in got["real"]["refine"]["history"]] == [h["best"] for h in m["real"]["refine"]["history"]]
    print(f"[splice] check: {'IDENTICAL' if same else 'DIFFERENT'} to {src} (controller {b} vs {a}; frames "
          f"{got['env_frames']['total']:,} vs {m['env_frames']['total']:,})")
    sys.exit(0 if same else 1)

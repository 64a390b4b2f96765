"""The figures behind README "Scaling out"'s projection: a seeded against an unseeded ALE reset, one game alone
on a worker's loop (one emulator, one torch thread: how fast a generation's last game runs), and the ray
backend's per-call overhead (a call of 2 one-step games on 2 local workers, resets excluded).

    python docs/rollout_costs.py
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import utils.omp  # noqa: E402, F401
from config import make_config  # noqa: E402
from models.mdn_rnn import MDNRNN  # noqa: E402
from models.vae import ConvVAE  # noqa: E402
from utils.rollout import Candidates, LocalEngine, Models, make_engine  # noqa: E402
from utils.wrappers import register_ale  # noqa: E402

out = {}
register_ale()
env = gym.make("ALE/SpaceInvaders-v5")
env.reset(seed=0)
for name, kw in (("seeded_reset_s", lambda i: {"seed": i}), ("unseeded_reset_s", lambda i: {})):
    t = time.perf_counter()
    for i in range(20):
        env.reset(**kw(i))
    out[name] = (time.perf_counter() - t) / 20
torch.manual_seed(0)
models = Models(ConvVAE(32, 64).eval().to(memory_format=torch.channels_last), MDNRNN(32, 6, 256, 5).eval())
X = np.random.default_rng(0).normal(0, 0.1, (1, (32 + 256 + 1) * 6)).astype(np.float32)
torch.set_num_threads(1)
cfg = make_config("default")
with LocalEngine(cfg.env, 1, models, 2) as engine:
    st = engine.play(Candidates(X), [6], max_steps=1500)
out["single_game_steps_per_s"] = float(st.lengths.sum()) / (st.seconds - st.reset_seconds)
cfg = make_config("default", **{"rollout.backend": "ray", "rollout.workers": 2, "rollout.envs_per_worker": 32})
with make_engine(cfg, None, models) as engine:
    engine.play(Candidates(X), [1, 2], max_steps=1)
    calls = [engine.play(Candidates(X), [1, 2], max_steps=1) for _ in range(5)]
out["ray_overhead_per_call_s"] = float(np.median([c.seconds - c.reset_seconds for c in calls]))
print(json.dumps(out, indent=1))

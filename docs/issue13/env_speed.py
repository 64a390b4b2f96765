"""CarRacing-v3 env throughput on this machine: one env in process, and the project's vector env
(gymnasium AsyncVectorEnv, one worker process per env) at 2, 4 and 8 envs, 64x64 frames, random box actions.

    python docs/issue13/env_speed.py [STEPS]     # default 600 steps per env after each seeded reset
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import numpy as np  # noqa: E402

from config import make_config  # noqa: E402
from utils.wrappers import make_single_env, make_vector_env  # noqa: E402

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 600
cfg = make_config("default", **{"env.env_id": "CarRacing-v3"})
rng = np.random.default_rng(0)
out = {"cpus": os.cpu_count(), "steps_per_env": steps}
env = make_single_env(cfg.env)
t = time.perf_counter()
env.reset(seed=1)
out["reset_seconds"] = time.perf_counter() - t
t = time.perf_counter()
for _ in range(steps):
    env.step(rng.uniform([-1, 0, 0], [1, 1, 1]).astype(np.float32))
out["single_steps_per_s"] = steps / (time.perf_counter() - t)
env.close()
for n in (2, 4, 8):
    venv = make_vector_env(cfg.env, n)
    venv.reset(seed=np.arange(n))
    t = time.perf_counter()
    for _ in range(steps):
        venv.step(rng.uniform([-1, 0, 0], [1, 1, 1], size=(n, 3)).astype(np.float32))
    out[f"vector_{n}_steps_per_s"] = n * steps / (time.perf_counter() - t)
    venv.close()
print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}, indent=1))

# A/B of readied resets (VectorGroups.prepare), which exists only at commit 7e2853e (reverted after this measurement):
#   git worktree add /tmp/readied 7e2853e && cd /tmp/readied && python docs/issue12/readied_ab.py
# 2-core AMD EPYC, 2026-12-02: {False: [1902, 1958, 1990], True: [1862, 1721, 1837]} agent steps/s, median ratio 0.94
"""Readied resets A/B: 3 blocks of 3 real generations each way, alternating, in one process (see the header)."""

import sys
import time

sys.path.insert(0, ".")
import utils.omp  # noqa: F401, E402, I001  (before torch)
import numpy as np  # noqa: E402
import torch  # noqa: E402

from config import make_config  # noqa: E402
from models.mdn_rnn import MDNRNN  # noqa: E402
from models.vae import ConvVAE  # noqa: E402
from utils.es import generation_seeds  # noqa: E402
from utils.rollout import Candidates, LocalEngine, Models  # noqa: E402
cfg = make_config("default")
torch.manual_seed(0)
vae = ConvVAE(32, 64).eval().to(memory_format=torch.channels_last)
mdn = MDNRNN(32, 6, 256, 5).eval()
cc = cfg.controller
P = cc.population_size
X = np.random.default_rng(0).normal(0, 0.1, (P, (32 + 256 + 1) * 6)).astype(np.float32)
spec = Candidates(X, np.repeat(np.arange(P), cc.real_rollouts))
res = {False: [], True: []}
with LocalEngine(cfg.env, 64, Models(vae, mdn), cfg.rollout.group_size) as engine:
    engine.emulators(64)
    g0 = 0
    for rep in range(3):
        for readied in ((False, True) if rep % 2 == 0 else (True, False)):
            steps, t0 = 0, time.perf_counter()
            for g in range(g0, g0 + 3):
                nxt = np.tile(generation_seeds(cfg, g + 1), P) if readied and g + 1 < g0 + 3 else None
                st = engine.play(spec, np.tile(generation_seeds(cfg, g), P), max_steps=cc.real_max_steps, prepare=nxt)
                steps += int(st.lengths.sum())
            res[readied].append(steps / (time.perf_counter() - t0))
            print(rep, readied, round(res[readied][-1]), flush=True)
            g0 += 3
print({k: [round(v) for v in vs] for k, vs in res.items()}, "median ratio", np.median(res[True]) / np.median(res[False]))

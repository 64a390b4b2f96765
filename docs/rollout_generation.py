"""One real CMA-ES generation (default preset: 32 random controllers x the 2 seeds, 64 games, capped at 3,000
steps) played by the run_episodes of any checkout: the before/after of issue 12's rollout engine.

    python docs/rollout_generation.py /path/to/checkout [NUM_ENVS] [GROUP]

NUM_ENVS defaults to the checkout's controller.real_num_envs; GROUP (emulators per vector env) is passed
only to checkouts whose run_episodes has it. Prints agent steps/s of the whole call, emulator utilization
and the returns' sum (the same games in every checkout give the same sum).
"""

import inspect
import sys
import time

sys.path.insert(0, sys.argv[1])
import numpy as np  # noqa: E402
import torch  # noqa: E402

import utils.omp  # noqa: E402, F401
from config import Config  # noqa: E402
from models.mdn_rnn import MDNRNN  # noqa: E402
from models.vae import ConvVAE  # noqa: E402
from utils.runner import run_episodes  # noqa: E402
from utils.world_model import WorldModelPolicy  # noqa: E402

cfg = Config()
cc = cfg.controller
torch.manual_seed(cfg.seed)
Z, A, H = cfg.vae.latent_dim, 6, cfg.mdn_rnn.hidden_size
vae = ConvVAE(Z, 64).eval().to(memory_format=torch.channels_last)
mdn = MDNRNN(Z, A, H, cfg.mdn_rnn.num_mixtures).eval()
X = np.random.default_rng(cfg.seed).normal(0, 0.1, (cc.population_size, (Z + H + 1) * A)).astype(np.float32)
seeds = [1_000_000 + g for g in range(cc.real_rollouts)]
policy = WorldModelPolicy(vae, mdn, torch.as_tensor(X), job_candidates=np.repeat(np.arange(len(X)), len(seeds)))
n = int(sys.argv[2]) if len(sys.argv) > 2 else cc.real_num_envs
extra = {"group": int(sys.argv[3])} if len(sys.argv) > 3 and "group" in inspect.signature(run_episodes).parameters else {}
t = time.perf_counter()
st = run_episodes(cfg.env, policy, np.tile(seeds, len(X)), num_envs=n, max_steps=cc.real_max_steps, **extra)
s = time.perf_counter() - t
print(f"{sys.argv[1]} emulators {n} {extra}: {st.lengths.sum()} steps in {s:.1f} s = {st.lengths.sum() / s:.0f} agent steps/s; "
      f"emulators busy {st.lengths.sum() / st.env_steps:.2f}; returns sum {st.returns.sum():.0f}")

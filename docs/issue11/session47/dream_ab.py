"""Session 47: Dream.rollout with per-candidate action counts against the code before it (c8f874e), in one process,
alternating 3 times: the same fitness and action counts, and the time ratio (population 32 x 16 starts x 300 steps, a
default run's dream generation, on runs/xeon_s0_default).

    git show c8f874e:utils/dream.py > /tmp/dream_old.py && python docs/issue11/session47/dream_ab.py
"""
import dataclasses
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from utils import dream as new  # noqa: E402
from utils.data import LatentData  # noqa: E402
from utils.world_model import WorldModel  # noqa: E402


def main() -> None:
    torch.set_num_threads(2)
    spec = importlib.util.spec_from_file_location("dream_old", "/tmp/dream_old.py")
    old = importlib.util.module_from_spec(spec)
    sys.modules["dream_old"] = old
    spec.loader.exec_module(old)
    run = Path("runs/xeon_s0_default")
    wm = WorldModel.load(run, torch.device("cpu"), with_controller=True)
    with np.load(run / "latents.npz") as d:
        lat = LatentData(**{f.name: d[f.name] for f in dataclasses.fields(LatentData)})
    P, R, H = 32, 16, 300
    x = wm.controller.get_flat()
    X = torch.as_tensor(x[None] + 0.3 * np.random.default_rng(0).standard_normal((P, x.size)), dtype=torch.float32)
    times: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(3):
        for name, mod in (("old", old), ("new", new)):
            dream = mod.Dream(wm.mdn, lat, 16, torch.device("cpu"))
            starts = dream.sample_starts(R, np.random.default_rng(1), torch.Generator().manual_seed(1))
            t0 = time.perf_counter()
            r = dream.rollout(X, starts, H, 1.15, torch.Generator().manual_seed(2))
            times[name].append(time.perf_counter() - t0)
            if name == "old":
                ref = r
            else:
                assert torch.equal(r.fitness, ref.fitness) and np.array_equal(r.action_counts, ref.action_counts)
    print(json.dumps({k: [round(v, 3) for v in vs] for k, vs in times.items()}),
          "same fitness and action counts; new/old median time", round(float(np.median(times["new"]) / np.median(times["old"])), 3))


if __name__ == "__main__":
    main()

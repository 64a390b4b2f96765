"""Issue 11: how many agent steps after the cannon is hit does Space Invaders' lives counter drop?

    python docs/issue11/hit_offset.py runs/ablation/dirichlet_fg10_s0/data

For every drop of the counter at step t of a stored episode, walk back from frame t-1 while consecutive frames
barely differ (mean absolute pixel change < 0.2 of 255, i.e. the game frozen while the explosion plays) and report
t minus the first frozen frame, as a histogram; then the mean frame-to-frame change of the cannon's rows (50-59 of
the 64x64 frame) from 40 steps before each drop to 2 after, which shows the freeze and the new cannon appearing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def main(data_dir: str) -> None:
    offsets, bands = [], []
    for shard in sorted(Path(data_dir).glob("shard_*.npz")):
        d = np.load(shard)
        obs, lives, lengths = d["obs"], d["lives"], d["lengths"]
        f0 = 0
        for n in lengths:
            frames = obs[f0:f0 + n + 1].astype(np.int16)
            drops = np.flatnonzero(lives[f0 + 1:f0 + n + 1] < lives[f0:f0 + n]) + 1
            for t in drops:
                k = t - 1
                while k > 0 and np.abs(frames[k] - frames[k - 1]).mean() < 0.2:
                    k -= 1
                offsets.append(t - k)
                if t >= 41 and t + 2 <= n:
                    band = frames[t - 41:t + 3, 50:60]
                    bands.append(np.abs(band[1:] - band[:-1]).mean(axis=(1, 2, 3)))
            f0 += n + 1
    o = np.array(offsets)
    values, counts = np.unique(o, return_counts=True)
    print(f"{len(o)} drops of the lives counter; steps from the first frozen frame to the drop:")
    print("  " + ", ".join(f"{v}: {c}" for v, c in zip(values, counts)))
    print(f"  median {np.median(o):.0f}, share within 30-34: {np.mean((o >= 30) & (o <= 34)):.0%}")
    m = np.mean(bands, axis=0)
    print("cannon rows, mean frame-to-frame change by step relative to the drop:")
    print("  " + ", ".join(f"{i - 40}: {v:.2f}" for i, v in enumerate(m)))


if __name__ == "__main__":
    main(sys.argv[1])

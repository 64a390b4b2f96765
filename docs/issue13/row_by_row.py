"""Issue 13: the World Models agent's CarRacing actions row by row on one thread (``WorldModelPolicy.act``, now)
against one batch for all envs (``_act``, before), in one process. Plays tracks 10,000-10,003 with a run's controller,
4 at a time (the preset's ``eval.num_envs``), alternating the two ways twice, and prints each block's agent steps/s and
scores; then plays tracks 10,000-10,001 both ways with 1 and with 2 envs at a time: row by row must give the same
scores for both engine shapes, the batch did not (README, CarRacing).

    python docs/issue13/row_by_row.py runs/car/real_only_e10_s0
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import utils.omp  # noqa: F401, E402, I001  (before torch)
import torch  # noqa: E402

from config import make_config  # noqa: E402
from utils.runner import run_episodes  # noqa: E402
from utils.world_model import WorldModel, WorldModelPolicy  # noqa: E402

cfg = make_config("carracing")
wm = WorldModel.load(Path(sys.argv[1]), torch.device("cpu"))


def play(seeds: list[int], num_envs: int, batched: bool):
    policy = WorldModelPolicy.from_world_model(wm)
    if batched:
        policy.act = policy._act  # the whole batch at once, on torch's threads
    return run_episodes(cfg.env, policy, seeds, num_envs=num_envs)


rates: dict[bool, list[float]] = {False: [], True: []}
for block in range(4):
    batched = block in (1, 2)  # row, batch, batch, row
    st = play(list(range(10_000, 10_004)), 4, batched)
    rates[batched].append(st.steps_per_second)
    print(f"{'batch' if batched else 'rows '} 4 tracks x 4 envs: {st.steps_per_second:6.1f} agent steps/s  "
          f"scores {[round(float(r), 1) for r in st.returns]}", flush=True)
ratio = sum(rates[False]) / sum(rates[True])
print(f"row by row / batch, agent steps/s: {ratio:.3f}")
for batched in (False, True):
    shapes = {n: play([10_000, 10_001], n, batched).returns.round(1).tolist() for n in (1, 2)}
    print(f"{'batch' if batched else 'rows '} tracks 10,000-10,001: 1 env at a time {shapes[1]}, 2 at a time {shapes[2]}"
          f" -> {'same' if shapes[1] == shapes[2] else 'DIFFERENT'}")

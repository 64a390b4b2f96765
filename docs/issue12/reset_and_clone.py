"""Why the seeded resets stay (issue 12): ale_py's vector env reloads the ROM on a seeded reset and offers no saved
state to restore; the single-emulator ALEInterface can restore one (cloneState with its RNG), but its act() holds the
GIL, so it cannot step emulators on threads as the C++ vector env does.

    python docs/issue12/reset_and_clone.py
"""
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import numpy as np  # noqa: E402
from ale_py import ALEInterface, LoggerMode, roms  # noqa: E402

from config import make_config  # noqa: E402
from utils.wrappers import make_vector_env  # noqa: E402

out = {}
v = make_vector_env(make_config("default").env, 2)
v.reset(seed=np.array([0, 1]))
for name, fn in (("vector_seeded_reset_s", lambda i: v.reset(seed=np.array([i, i + 100]))),
                 ("vector_unseeded_reset_s", lambda i: v.reset())):
    t = time.perf_counter()
    for i in range(20):
        fn(i)
    out[name] = (time.perf_counter() - t) / 20  # one call resets both emulators, side by side
ALEInterface.setLoggerMode(LoggerMode.Error)


def make(seed: int) -> ALEInterface:
    a = ALEInterface()
    a.setInt("random_seed", seed)
    a.setFloat("repeat_action_probability", 0.25)
    a.loadROM(roms.get_rom_path("space_invaders"))
    a.reset_game()
    return a


envs = [make(i) for i in range(8)]
acts = envs[0].getMinimalActionSet()


def play(a: ALEInterface, n: int = 300) -> None:
    for i in range(n):
        for _ in range(4):  # frameskip 4
            a.act(acts[i % len(acts)])
        if a.game_over():
            a.reset_game()
        a.getScreenRGB()


t = time.perf_counter()
for a in envs:
    play(a)
out["ale_1_thread_steps_per_s"] = 8 * 300 / (time.perf_counter() - t)
with ThreadPoolExecutor(2) as ex:
    t = time.perf_counter()
    list(ex.map(play, envs))
    out["ale_2_threads_steps_per_s"] = 8 * 300 / (time.perf_counter() - t)
a = make(5)
state = a.cloneState(include_rng=True)
t = time.perf_counter()
for _ in range(200):
    a.restoreState(state)
out["ale_restore_state_s"] = (time.perf_counter() - t) / 200
print(json.dumps(out, indent=1))

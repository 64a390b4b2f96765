"""Issue 12: where a seeded reset's time goes (session 43).

A seeded reset reloads the ROM (ale_py's vector env calls ``loadROM`` to apply a new seed). This times that reload
against an unseeded reset on ``ale_py.ALEInterface`` (CPU seconds, one thread), then, where ``perf`` is installed,
samples the reloads and prints the symbols they spend their time in.

    python docs/issue12/reset_profile.py [--reloads 30] [--bench docs/issue12/bench_gen8_xeon.json]

With ``--bench`` (a ``bench.py --output`` file with whole generations), it also projects that run's phase-to-loop ratio
if the tables' share of every seeded reset were gone (the rest of the run unchanged).

Measured here (2-core AMD EPYC, 2026-12-07; reset_profile.log): 83-89 ms of CPU a reload against 3.8-3.9 ms a reset,
and 82-83% of a reload in ``ale::PhosphorBlend::makeAveragePalette`` and the ``ColourPalette::getRGB`` calls it makes:
every ROM load builds the colour-averaging tables again (a 64 x 64 x 64 nearest-colour search over the 256 NTSC
colours), although ``color_averaging`` is off (v5, and this project's max-pool in the vector env).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RELOADS = """
import ale_py
from ale_py import roms
ale = ale_py.ALEInterface()
ale.setLoggerMode(ale_py.LoggerMode.Error)
path = roms.get_rom_path("space_invaders")
for seed in range({n}):
    ale.setInt("random_seed", seed)
    ale.loadROM(path)
"""


def timings(n: int) -> tuple[float, float]:
    import ale_py
    from ale_py import roms

    ale = ale_py.ALEInterface()
    ale.setLoggerMode(ale_py.LoggerMode.Error)
    ale.setFloat("repeat_action_probability", 0.25)
    path = roms.get_rom_path("space_invaders")
    ale.loadROM(path)
    t = time.process_time()
    for seed in range(n):
        ale.setInt("random_seed", seed)
        ale.loadROM(path)
    reload = (time.process_time() - t) / n
    t = time.process_time()
    for _ in range(n):
        ale.reset_game()
    return reload, (time.process_time() - t) / n


def profile(n: int, top: int = 8) -> list[tuple[float, str]]:
    with tempfile.TemporaryDirectory() as d:
        data = Path(d) / "perf.data"
        rec = subprocess.run(["perf", "record", "-o", str(data), sys.executable, "-c", RELOADS.format(n=n)],
                             capture_output=True, text=True)
        if rec.returncode != 0:
            raise RuntimeError(rec.stderr.strip().splitlines()[-1] if rec.stderr.strip() else "perf record failed")
        rep = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", "symbol", "--stdio"],
                             capture_output=True, text=True, check=True).stdout
    rows = []
    for line in rep.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].endswith("%") and not line.lstrip().startswith("#"):
            rows.append((float(parts[0].rstrip("%")), " ".join(parts[2:]).removesuffix(" - -").strip()))
    return rows[:top]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reloads", type=int, default=30)
    ap.add_argument("--bench", type=Path, help="a bench.py JSON with generation_* figures: project its ratio")
    args = ap.parse_args()
    n = args.reloads
    reload, reset = timings(n)
    print(f"seeded reset (setInt random_seed + loadROM): {reload * 1e3:.1f} ms of CPU; unseeded reset_game: "
          f"{reset * 1e3:.1f} ms ({reload / reset:.0f}x), {n} each")
    if shutil.which("perf") is None:
        print("perf is not installed: no profile")
        return
    try:
        rows = profile(n)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"perf could not sample here ({e}): no profile")
        return
    print(f"perf, {n} reloads in one process (self time, top symbols):")
    for share, sym in rows:
        print(f"  {share:5.1f}%  {sym}")
    palette = sum(s for s, sym in rows if "PhosphorBlend" in sym or "ColourPalette::getRGB" in sym)
    print(f"colour-averaging tables (PhosphorBlend::makeAveragePalette and its getRGB calls): {palette:.1f}% of the samples")
    if args.bench is not None:
        project(json.loads(args.bench.read_text()), palette / 100)


def project(b: dict, share: float) -> None:
    """A bench run's generations with ``share`` of their seeded-reset time gone."""
    secs, resets, ratio = b["generation_seconds"], b["generation_reset_seconds"], b["ratio_generation_to_agent_loop"]
    cut = secs - share * resets
    print(f"bench ({b['generations']} generations of {b['generation_games']} games): {secs:.1f} s, seeded resets "
          f"{resets:.1f} s, ratio to the agent loop {ratio:.2f}; without {share:.0%} of the resets' time: {cut:.1f} s, "
          f"ratio {ratio * secs / cut:.2f}; without any reset time: {ratio * secs / (secs - resets):.2f}")


if __name__ == "__main__":
    main()

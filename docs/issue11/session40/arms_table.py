"""Session 40's table: the refinement arm (session40/arm.sh refine25: --controller.real-refine 0.25, capped at 5M real
frames) against the default preset's runs on the same world models (session 38's hpc16 and session 39's reruns with
another controller seed), and against its own main search's pick (session40/main_pick.py, before the refinement).

    python docs/issue11/session40/arms_table.py [ARM]
    python docs/issue11/session40/arms_table.py "refine25_c10{seed}"     # the reruns (rerun.sh, controller seeds 100-102)

Every score: 100 games on seeds 10,000-10,099; per-game differences are paired on those seeds.
"""
import json
import sys
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parents[1]
ARM = sys.argv[1] if len(sys.argv) > 1 else "refine25"


def agent(ev: Path) -> dict:
    a = json.loads(ev.read_text())["agent"]
    assert a["num_episodes"] == 100, ev
    return a


def diff(a: Path, b: Path) -> str:
    sa = {e["seed"]: e["score"] for e in agent(a)["episodes"]}
    sb = {e["seed"]: e["score"] for e in agent(b)["episodes"]}
    assert sa.keys() == sb.keys()
    d = np.array([sa[k] - sb[k] for k in sorted(sa)])
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    return f"{d.mean():+.1f} [{d.mean() - half:+.1f}, {d.mean() + half:+.1f}]"


cols: dict[str, list] = {"hpc16": [], "rerun": [], "main": [], ARM: []}
print(f"| world model | default (s38) | default rerun (s39) | {ARM}: main search's pick, frames after its re-scoring "
      f"| {ARM}: after the refinement, frames | kept | refinement minus its main pick | minus the default | minus the rerun |")
print("|---|---|---|---|---|---|---|---|---|")
for seed in (0, 1, 2):
    arm = ARM.format(seed=seed)
    ev = {"hpc16": D / f"session38/s{seed}_hpc16_eval100.json", "rerun": D / f"session39/s{seed}_hpc16_c10{seed}_eval100.json",
          "main": D / f"session40/s{seed}_{arm}_main_pick_eval100.json", ARM: D / f"session40/s{seed}_{arm}_eval100.json"}
    if not ev[ARM].is_file() or not ev["main"].is_file():
        continue
    m = json.loads((D / f"session40/s{seed}_{arm}_controller_metrics.json").read_text())
    main_frames = m["env_frames"]["collection"] + m["real"]["env_steps"] * 4
    for k in cols:
        cols[k].append(agent(ev[k])["mean"])
    print(f"| {seed} | {agent(ev['hpc16'])['mean']:.1f} | {agent(ev['rerun'])['mean']:.1f} | {agent(ev['main'])['mean']:.1f} "
          f"({len(m['real']['history'])} generations, {main_frames:,}) | {agent(ev[ARM])['mean']:.1f} "
          f"({len(m['real']['refine']['history'])} more, {m['env_frames']['total']:,}) | {m['real']['refine']['kept']} "
          f"| {diff(ev[ARM], ev['main'])} | {diff(ev[ARM], ev['hpc16'])} | {diff(ev[ARM], ev['rerun'])} |")
if cols[ARM]:
    print("| across | " + " | ".join(f"{np.mean(v):.1f}" + (f" +/- {np.std(v, ddof=1):.1f}" if len(v) > 1 else "")
                                     for v in cols.values()) + " | | | | |")
    six = cols["hpc16"] + cols["rerun"]
    print(f"seeds {len(cols[ARM])}; the default's {len(six)} runs on these world models average {np.mean(six):.1f}; "
          f"{ARM} minus its main pick, per seed: {np.round(np.subtract(cols[ARM], cols['main']), 1).tolist()}")

# Every paired run of the arm and its reruns: the refinement minus its own main pick, and the arm against the default
# run whose first generations its main search replays (session 38's for the arm, session 39's rerun for a rerun).
gains, arm_scores, base_scores = [], [], []
name = ARM.split("_c")[0]
for seed in (0, 1, 2):
    for arm, base in ((name, f"session38/s{seed}_hpc16_eval100.json"),
                      (f"{name}_c10{seed}", f"session39/s{seed}_hpc16_c10{seed}_eval100.json")):
        ev, main = D / f"session40/s{seed}_{arm}_eval100.json", D / f"session40/s{seed}_{arm}_main_pick_eval100.json"
        if ev.is_file() and main.is_file():
            gains.append(agent(ev)["mean"] - agent(main)["mean"])
            arm_scores.append(agent(ev)["mean"])
            base_scores.append(agent(D / base)["mean"])
if len(gains) > 1:
    g = np.array(gains)
    print(f"all {len(g)} paired runs: refinement minus its main pick {np.round(g, 1).tolist()}, mean {g.mean():+.1f}, "
          f"std {g.std(ddof=1):.1f}, t {g.mean() / (g.std(ddof=1) / np.sqrt(len(g))):.2f}; the arm "
          f"{np.mean(arm_scores):.1f} +/- {np.std(arm_scores, ddof=1):.1f} against the paired default runs "
          f"{np.mean(base_scores):.1f} +/- {np.std(base_scores, ddof=1):.1f}")

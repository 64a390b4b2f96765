"""How much of a 5M-frame run's score is its world model's? And does the real phase's start tell a good world
model early? (issue 11, session 47)

    python docs/issue11/session47/wm_share.py

Every real-phase run kept in docs/issue11 (controller metrics beside a 100-game evaluation) whose world model is
named in its file name: the AVX2 world models s0-s2 (sessions 38+, the ones sessions 38-43 searched on), `make
train`'s EPYC world models make_train_epyc_s0-s3 and the Xeon world models xeon_s0-s2. Runs of different arms
(search settings) on one world model are pooled: the spread within a world model is the search's (arm and seed), the
spread of the world models' means is theirs. Then, across runs, the Spearman of the population's mean fitness at
generation g with the run's own score and with its world model's mean score: if early generations told a good world
model, several world models could be built and the real frames spent on the best.
"""
import json
import re
import sys
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(D.parent))
sys.path.insert(0, str(D / "issue11/session41"))
from arms_table import scores  # noqa: E402

from utils.dream_quality import spearman  # noqa: E402

WORLD_MODEL_LOGS = {"s0": "session38/s0_world_model_avx2.log", "s1": "session36/s1_world_model_avx2.log",
                    "s2": "session36/s2_world_model_avx2.log",
                    **{f"xeon_s{i}": f"session44/xeon_s{i}_world_model.log" for i in range(3)},
                    **{f"make_train_epyc_s{i}": f"session45/make_train_epyc_s{i}_world_model.log" for i in range(4)}}


def build_log(wm: str) -> str:
    """The world model's random data (steps) and its VAE's final reconstruction error, from its build log."""
    text = (D / "issue11" / WORLD_MODEL_LOGS[wm]).read_text(errors="replace")
    steps = re.search(r"\[data\] \d+ episodes, (\d+) steps", text)
    recon = re.search(r"\[vae\] done: recon ([\d.]+)", text)
    return f"data {steps[1] if steps else '?'} steps, VAE recon {recon[1] if recon else '?'} a frame"


def main() -> None:
    rows, seen = [], set()
    for met in sorted(D.glob("issue11/session*/*_controller_metrics.json")):
        ev = met.with_name(met.name.replace("_controller_metrics.json", "_eval100.json"))
        m = re.match(r"(xeon_s\d|make_train_epyc_s\d|s\d)_(.*)", met.name.removesuffix("_controller_metrics.json"))
        if not ev.is_file() or not m or (m[1].startswith("s") and int(met.parent.name.removeprefix("session")) < 38):
            continue
        h = json.loads(met.read_text()).get("real", {}).get("history")
        key = (m[1], tuple(round(g["mean"], 6) for g in h or []))
        if h and key not in seen:  # a rebuilt run that repeats a search on record counts once
            seen.add(key)
            rows.append((m[1], scores(ev).mean(), [g["mean"] for g in h]))
    groups: dict[str, list[float]] = {}
    for wm, score, _ in rows:
        groups.setdefault(wm, []).append(score)
    print(f"{len(rows)} runs on {len(groups)} world models; 100-game score {np.mean([r[1] for r in rows]):.1f} "
          f"± {np.std([r[1] for r in rows], ddof=1):.1f}")
    for wm, s in sorted(groups.items()):
        print(f"  {wm:22s} {len(s):2d} runs: mean {np.mean(s):6.1f}, sd {np.std(s, ddof=1):6.1f}; {build_log(wm)}")
    within = sum(((np.array(s) - np.mean(s)) ** 2).sum() for s in groups.values()) / (len(rows) - len(groups))
    means = np.array([np.mean(s) for s in groups.values()])
    n = np.mean([len(s) for s in groups.values()])
    between = max(0.0, means.var(ddof=1) - within / n)
    print(f"sd within a world model {np.sqrt(within):.1f}; sd of the world models' means {means.std(ddof=1):.1f} "
          f"(their true spread, less the search's noise in a mean of {n:.1f} runs: {np.sqrt(between):.1f}); "
          f"the world model's share of a run's variance {between / (between + within):.2f}")
    for g in (0, 1, 2, 4, 7):
        keep = [r for r in rows if len(r[2]) > g]
        pop = np.array([r[2][g] for r in keep])
        print(f"generation {g}: population mean vs the run's score {spearman(pop, np.array([r[1] for r in keep])):+.2f}, "
              f"vs its world model's mean score {spearman(pop, np.array([np.mean(groups[r[0]]) for r in keep])):+.2f} "
              f"({len(keep)} runs)")


if __name__ == "__main__":
    main()

"""Session 35's table: the real phase's step size (controller.real_sigma0) against the default 2.0, per training seed.

    python docs/issue11/session35/sigma_table.py
Reads the committed 100-game evaluations and controller metrics of session35/ (runs of real_sigma.sh) and, for
sigma 2.0, the default preset's runs of sessions 33-34 (top 10 of 25 generations; seed 1 computed from its first 25
elites, so its frames and population means are those of its first 25 generations in the 30-generation run).
"""
import json
import re
from pathlib import Path

import numpy as np

D = Path(__file__).resolve().parents[1]
BASE = {0: ("session33/s0_finalists10_epochs25_eval100.json", "session33/s0_finalists10_epochs25.log"),
        1: ("session33/s1_eval100_pick_G30_top10.json", "session33/make_train_s1.log"),
        2: ("session34/s2_finalists10_epochs25_eval100.json", "session34/s2_finalists10_epochs25.log")}


def last_pop_mean(log: Path, last: int = 25) -> tuple[int, float]:
    """The last population mean the log printed at or before generation ``last`` (logs print some generations)."""
    gens = [(int(g), float(m)) for g, m in re.findall(r"real gen (\d+)/\d+ .*?mean ([\d.]+)", log.read_text())]
    return [gm for gm in gens if gm[0] <= last][-1]


def row(sigma: str, seed: int, ev: Path, log: Path, metrics: Path | None = None) -> dict:
    """One run: its 100 games, its population mean, and (session 35's runs) its generations and real frames."""
    a = json.loads(ev.read_text())["agent"]
    assert a["num_episodes"] == 100
    gen, pm = last_pop_mean(log)
    r = {"sigma": sigma, "seed": seed, "mean": a["mean"], "std": a["std"], "top_action": a["top_action_share"],
         "gen": gen, "pop_mean": pm, "gens": "25", "frames": "4.80-4.95M (sessions 33-34)"}
    if metrics is not None:
        m = json.loads(metrics.read_text())
        last = m["real"]["history"][-1]
        r.update(gens=str(len(m["real"]["history"])), frames=f"{m['env_frames']['total']:,}", gen=last["generation"],
                 pop_mean=last["mean"])
    return r


rows = [row("2.0", s, D / e, D / lg) for s, (e, lg) in BASE.items()]
for ev in sorted((D / "session35").glob("s*_sig*_eval100.json")):
    seed, sigma, cap = re.match(r"s(\d+)_sig([\d.]+)(_f\d+)?_eval100", ev.stem).groups()
    name = f"s{seed}_sig{sigma}{cap or ''}"
    rows.append(row(sigma + (f" cap {int(cap[2:]) / 1e6:g}M" if cap else ""), int(seed), ev, ev.with_name(f"{name}.log"),
                    ev.with_name(f"{name}_controller_metrics.json")))
print(f"{'sigma':>12} {'seed':>4} {'100 games':>16} {'top action':>10} {'generations':>11}  {'real frames':>26}  "
      "population mean (generation)")
for r in rows:
    print(f"{r['sigma']:>12} {r['seed']:>4} {r['mean']:8.1f} +/- {r['std']:5.1f} {r['top_action']:10.2f} {r['gens']:>11}  "
          f"{r['frames']:>26}  {r['pop_mean']:.1f} ({r['gen']})")
for sigma in sorted({r["sigma"] for r in rows}):
    m = np.array([r["mean"] for r in rows if r["sigma"] == sigma])
    seeds = [r["seed"] for r in rows if r["sigma"] == sigma]
    print(f"sigma {sigma:>10}: seeds {seeds}  across seeds {m.mean():.1f}" + (f" +/- {m.std(ddof=1):.1f}" if len(m) > 1 else ""))

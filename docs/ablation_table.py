"""The ablation table of issue 11 from the arms' run folders (docs/ablation_dream.sh writes them).

    python docs/ablation_table.py runs/ablation [--json out.json]

One row per run folder (``<arm>_s<seed>``): the dream controller's score on the evaluation games (it
is the final controller: the arms train no real-game phase), its top action, the dream report's rank
agreement (over all 24 candidates, and among the 12 around the trained controller), dreamed and real game length, reward/life/game-over numbers, real frames used, training wall
time (collection + VAE + MDN-RNN + controller, from each phase's metrics; arms that share the "all" arm's
data and VAE carry its collection and VAE time); noop_ratio = always-NOOP's dream fitness over the trained
controller's (docs/dream_vs_real.py; the real game pays NOOP nothing, so 0 would be right).
Arms with several seeds get a mean +/- std row across seeds.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from utils.dream_quality import spearman  # noqa: E402  (numpy only)


def fmt(v, nd=2):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def row_of(run: Path) -> dict | None:
    ev, vis = run / "eval" / "results.json", run / "visuals" / "summary.json"
    if not ev.exists():
        return None
    r = json.loads(ev.read_text())
    agent = r["agent"]
    top = max(agent["action_share"].items(), key=lambda kv: kv[1])
    d = json.loads(vis.read_text()).get("dream", {}) if vis.exists() else {}
    q = run / "visuals" / "mdn_quality.json"
    rank = json.loads(q.read_text()).get("dream", {}).get("rank") if q.exists() else None
    # Rank agreement among the candidates around the trained controller alone (the first half, see
    # utils.dream_quality.candidates): can the dream tell good from slightly worse, not only from random?
    near = spearman(rank["dream_fitness"][:rank["candidates"] // 2], rank["real_score"][:rank["candidates"] // 2]) if rank else None
    def seconds(path: Path, key: str = "train_seconds") -> float:
        return float(json.loads(path.read_text()).get(key, 0.0)) if path.exists() else 0.0

    # Training wall time from each phase's own record (summary.json is rewritten when a rerun reuses the phases).
    wall = seconds(run / "data" / "manifest.json", "collect_seconds") + sum(
        seconds(run / p / "metrics.json") for p in ("vae", "mdn_rnn", "controller"))
    # docs/dream_vs_real.py RUN CTRL --constants --json RUN/visuals/dream_vs_real.json: always-NOOP's dream
    # fitness over the trained controller's on the same 256 dream starts (in the real game NOOP scores 0).
    dvr = run / "visuals" / "dream_vs_real.json"
    noop = None
    if dvr.exists():
        fit = {r["controller"]: r["dream_fitness"] for r in json.loads(dvr.read_text())}
        trained = next(iter(fit.values()))
        noop = fit.get("always NOOP", 0.0) / trained if trained else None
    manifest = json.loads((run / "data" / "manifest.json").read_text())
    frames = sum(sh["steps"] for sh in manifest["shards"]) * 4
    return {"run": run.name, "score": agent["mean"], "std": agent["std"], "games": agent["num_episodes"],
            "top_action": f"{top[0]} {top[1]:.0%}", "rank": d.get("rank_spearman"), "rank_near": near, "dream_len": d.get("dream_length"),
            "real_len": d.get("real_length"), "reward_precision": d.get("reward_precision"), "reward_recall": d.get("reward_recall"),
            "reward_corr16": d.get("reward_window_corr"),
            "life_recall": d.get("life_recall"), "life_calibration": d.get("life_calibration"),
            "done_calibration": d.get("done_calibration"), "vae_moving_se": d.get("vae_moving_pixel_se"),
            "noop_ratio": noop, "real_frames": frames, "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = [r for run in sorted(p for p in args.root.iterdir() if p.is_dir()) if (r := row_of(run))]
    cols = ["run", "score", "std", "games", "top_action", "rank", "rank_near", "dream_len", "real_len", "reward_precision", "reward_recall",
            "reward_corr16", "life_recall", "life_calibration", "done_calibration", "vae_moving_se", "noop_ratio", "real_frames", "wall_s"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(fmt(r[c], 1 if c in ("score", "std", "dream_len", "real_len", "wall_s") else 2) for c in cols) + " |")
    by_arm = defaultdict(list)
    for r in rows:
        by_arm[re.sub(r"_s\d+$", "", r["run"])].append(r["score"])
    multi = {a: v for a, v in by_arm.items() if len(v) > 1}
    for arm, scores in multi.items():
        m = sum(scores) / len(scores)
        sd = (sum((x - m) ** 2 for x in scores) / (len(scores) - 1)) ** 0.5
        print(f"\n{arm}: {m:.1f} +/- {sd:.1f} across {len(scores)} training seeds ({', '.join(f'{x:.1f}' for x in scores)})")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()

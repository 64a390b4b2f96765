"""Issue 11: the dream reports (`evaluate.py --visualize` -> visuals/mdn_quality.json) of several arms, side by side.

    python docs/issue11/dream_report_table.py runs/ablation dirichlet_fg10_select dirichlet_fg10_select_hz

Per arm and training seed 0-2: the life head's mean probability on the real life-loss steps of the held-out games
(teacher forced; 1.0 would be a head that sees every loss coming), its expected against the real number of life
losses, the reward predicted against the real total, the 16-step window correlation of predicted and real reward,
the dream's mean game length against the real one, and the Spearman rank agreement of dream fitness and real score
(24 candidates around the dream controller; the 6 constant actions). The held-out games are 8 games of the data
collection's policy on collection seed 777,777 (utils/dream_quality.py), the same games for arms with the same
collection settings; the real game length is the dream controller's own games.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(root: str, arms: list[str]) -> None:
    print("| arm | seed | life prob on real life-loss steps | life expected/real | reward predicted/real | "
          "reward window corr | dream length / real | rank (24 candidates) | rank (constants) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for arm in arms:
        for s in range(3):
            path = Path(root) / f"{arm}_s{s}" / "visuals" / "mdn_quality.json"
            if not path.exists():
                print(f"| {arm} | {s} | (no report) | | | | | | |")
                continue
            q = json.loads(path.read_text())["dream"]
            h, length, r = q["heldout"], q["length"], q["rank"]
            print(f"| {arm} | {s} | {h['life']['mean_prob_on_events']:.3f} | {h['life']['expected_events']:.1f}/"
                  f"{h['life']['events']} | {h['reward']['predicted_total']:.0f}/{h['reward']['real_total']:.0f} | "
                  f"{h['reward']['window_corr']:.2f} | {length['dream_mean']:.0f}/{length['real_mean']:.0f} | "
                  f"{r['spearman']:.2f} | {r['constant_spearman']:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])

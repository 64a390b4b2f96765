"""utils/hub.py:model_card renders utils/model_card_template.md with the values a reader of the card looks
for. No games: the results are made by hand. (When the template replaced publish_model's 81-line f-string,
it rendered byte-identical cards for every case below.)"""

from __future__ import annotations

from typing import Any

import pytest

from config import make_config
from utils import hub

REPO_ID = "someone/agent-SpaceInvaders-v5"
WM_WEIGHTS = {"vae": {"latent_dim": 8, "frame_size": 64},
              "mdn_rnn": {"latent_dim": 8, "action_dim": 6, "hidden_size": 16, "num_mixtures": 2},
              "controller": {"latent_dim": 8, "hidden_size": 16, "action_dim": 6}}
CAPTIONS = {"training_curves.png": "Training", "comparison.png": "Comparison with the baselines (same seeded games)",
            "visuals/recon_grid.png": "VAE: real frames over reconstructions",
            "visuals/mdn_horizon.png": "MDN-RNN prediction against the horizon",
            "visuals/latent_pca.png": "Latent space", "visuals/training_curves.png": "Every phase's training curves"}
ALL_FILES = ["results.json", "config.json", "replay.mp4", "training_curves.png", "visuals/dream_vs_reality.mp4",
             "visuals/latent_pca.png", "visuals/mdn_horizon.png", "visuals/recon_grid.png", "visuals/summary.json",
             "visuals/training_curves.png", "comparison.png"]


def summary(seeds: list[int], scores: list[float], action_share: Any) -> dict[str, Any]:
    """Shaped like evaluate.summarize + action_share (a dict by action name for World Models, a list for SB3)."""
    import numpy as np

    s = np.asarray(scores, dtype=float)
    return {"mean": float(s.mean()), "std": float(s.std()), "median": float(np.median(s)), "min": float(s.min()),
            "max": float(s.max()), "num_episodes": len(s), "mean_length": 1234.5,
            "episodes": [{"seed": seed, "score": float(x), "length": 1000 + i} for i, (seed, x) in enumerate(zip(seeds, s))],
            "action_share": action_share}


def make_case(agent: str, fire: bool, frames: int | None, files: list[str]):
    """(cfg, results, weights, files) as publish_model.build_folder hands them to model_card."""
    cfg = make_config("dry-run")
    seeds = [cfg.eval.seed + i for i in range(3)]
    names = ["NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]
    share = ({n: round(p, 4) for n, p in zip(names, [0.1, 0.25, 0.2, 0.2, 0.125, 0.125])} if agent == "world-models"
             else [0.1, 0.25, 0.2, 0.2, 0.125, 0.125])
    results = {
        "env_id": cfg.env.env_id, "agent": agent, "eval_seeds": seeds, "train_seed": cfg.seed,
        "protocol": "full games, sticky actions 0.25, frameskip 4, raw score, no life-loss resets",
        "results": summary(seeds, [210.0, 395.0, 655.0], share),
        "reference": {"random": summary(seeds, [105.0, 140.0, 95.0], dict.fromkeys(names, 1 / 6)),
                      "always_fire": summary(seeds, [180.0, 180.0, 185.0], {"FIRE": 1.0}) if fire else None},
        "replay": {"seed": seeds[0], "score": 210.0, "length": 1000},
        "training": {"env_frames": frames, "train_seconds": 3725.6 if frames else None},
    }
    weights = WM_WEIGHTS if agent == "world-models" else {"checkpoint": f"{agent}-SpaceInvaders-v5.zip"}
    return cfg, results, weights, files


CASES = {
    "wm-all-files": ("world-models", True, 1_234_567, ALL_FILES),
    "wm-no-fire-no-frames-no-figures": ("world-models", False, None, ["results.json", "config.json", "replay.mp4"]),
    "ppo-curves": ("ppo", True, 40_000, ["results.json", "config.json", "replay.mp4", "training_curves.png"]),
    "ppo-no-fire-no-frames-comparison": ("ppo", False, None, ["results.json", "config.json", "replay.mp4", "comparison.png"]),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_card_shows_the_results(case):
    from huggingface_hub import ModelCard

    cfg, results, weights, files = make_case(*case)
    agent, fire, frames, _ = case
    text = str(hub.model_card(cfg, agent, REPO_ID, results, weights, files))
    card = ModelCard(text)  # the YAML header reads back
    name = {"world-models": "World Models", "ppo": "PPO"}[agent]
    assert text.startswith("---\n") and card.data.model_name == f"{name} on {cfg.env.env_id}"
    (ev,) = card.data.eval_results
    assert ev.metric_value == "420.00 +/- 182.53"  # scores 210, 395, 655
    assert f"| **{name}** | **420.0** | 182.5 | 395.0 | 210 | 655 |\n" in text
    assert "| uniform random | 113.3 | 19.3 | 105.0 | 95 | 140 |\n" in text
    assert ("| always FIRE | 181.7 | 2.4 | 180.0 | 180 | 185 |\n" in text) == fire
    assert "always FIRE" not in text or fire
    assert f"3 full games of `{cfg.env.env_id}` (sticky actions {cfg.env.repeat_action_probability}, " \
           f"frameskip {cfg.env.frameskip}, raw score" in text
    assert f"seeds {cfg.eval.seed}-{cfg.eval.seed + 2}," in text
    assert f"`replay.mp4` is one game (seed {cfg.eval.seed}, score 210)." in text
    if frames:
        assert f"budget: {frames:,} emulator frames; wall time: 3726 s." in text
    else:
        assert "budget: not recorded; wall time: 0 s." in text
    assert f"python evaluate.py --from-hub {REPO_ID}\n" in text
    if agent == "world-models":
        assert f'folder = snapshot_download("{REPO_ID}")' in text and '"latent_dim"' in text
        assert 'Action shares: {"NOOP": 0.1, "FIRE": 0.25,' in text
    else:
        assert f'path = hf_hub_download("{REPO_ID}", "ppo-SpaceInvaders-v5.zip")' in text
        assert 'model = load_model("ppo", Path(path))' in text and '"baselines": {' in text
    for path, caption in CAPTIONS.items():
        assert (f"### {caption}\n\n![{caption}]({path})\n" in text) == (path in files), path
    assert ("## Figures" in text) == any(f in CAPTIONS for f in files)
    listed = ", ".join(f"`{f}`" for f in sorted([*files, "README.md"]))
    assert text.endswith(f"\nFiles: {listed}.\n") and listed.startswith("`README.md`")


@pytest.mark.parametrize("agent", ["world-models", "ppo"])
def test_the_cards_usage_imports_exist(agent):
    """Every project import in the card's usage snippet works in a clone (a renamed module breaks the card)."""
    import importlib

    cfg, results, weights, files = make_case(agent, True, 1_000, ["results.json"])
    text = str(hub.model_card(cfg, agent, REPO_ID, results, weights, files))
    imports = [line.split() for line in text.splitlines() if line.startswith(("from models", "from baselines"))]
    assert len(imports) == (3 if agent == "world-models" else 1)
    for _, module, _, name in imports:
        assert hasattr(importlib.import_module(module), name), f"from {module} import {name}"

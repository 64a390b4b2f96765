"""Did the real phase find better controllers than it kept? Every generation's elite, re-scored.

    python docs/issue11/rescore_elites.py RUN... [--truth-games 30] [--generations G...] [--json OUT] [--save RULE...]

The real phase keeps each generation's best candidate (by its 2 games) in ``controller/real_elites.npz``
and ends by re-scoring its ``controller.real_finalists`` best of them and the CMA-ES mean on 8 selection games (training seeds), keeping
the best. Here every elite and the mean play those 8 selection games (capped at ``controller.real_max_steps``,
as in training: what a selection rule may look at; the run's own finalists and the mean must reproduce the run's own
``rescored`` figures, checked) and N full validation games (seeds ``baselines.validation_seed`` + i,
20,000+, used by no training and no evaluation: the truth that compares the rules). Each rule picks from the
selection games only; the table gives its pick's validation score and the real frames its re-scoring costs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from config import config_from_dict  # noqa: E402
from models.controller import Controller  # noqa: E402
from utils.dream_quality import spearman  # noqa: E402
from utils.es import best_elites, selection_seeds  # noqa: E402
from utils.io import save_model  # noqa: E402
from utils.rollout import Candidates, Models, make_engine  # noqa: E402
from utils.world_model import WorldModel  # noqa: E402


def play(engine, X: np.ndarray, seeds: list[int], max_steps: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Every row of X on every seed: (scores (P, S), agent steps (P, S))."""
    spec = Candidates(X.astype(np.float32), np.repeat(np.arange(len(X)), len(seeds)))
    st = engine.play(spec, np.tile(seeds, len(X)), max_steps=max_steps)
    return st.returns.reshape(len(X), len(seeds)), st.lengths.reshape(len(X), len(seeds))


def rules(e2: np.ndarray, n_elites: int, with_mean: bool) -> dict[str, list[int]]:
    """Candidate sets (indices into [elites..., mean]) of each rule over the first ``n_elites`` generations: the
    K best by their generation's 2-game score (as the real phase picks its finalists), plus the mean."""
    out = {}
    for k in (3, 5, 10, n_elites):
        if k <= n_elites and f"top{k}" not in out:
            out[f"top{k}"] = best_elites(e2[:n_elites], k) + ([len(e2)] if with_mean else [])
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+")
    p.add_argument("--truth-games", type=int, default=30)
    p.add_argument("--generations", type=int, nargs="*", default=[], help="also the rules over the first G generations")
    p.add_argument("--json")
    p.add_argument("--save", nargs="*", default=[], help="rules (e.g. G30_top10) whose pick is written to "
                   "RUN/controller/pick_<rule>/ for evaluate.py --controller")
    args = p.parse_args()
    torch.set_num_threads(2)
    report = {}
    for run in map(Path, args.runs):
        cfg = config_from_dict(json.loads((run / "config.json").read_text()))
        cfg.run_dir = str(run)
        el = np.load(run / "controller/real_elites.npz")
        X = np.concatenate([el["params"], el["mean"][None]])
        e2 = el["scores"]
        wm = WorldModel.load(run, torch.device("cpu"), with_controller=False, env=cfg.env)
        cached = json.loads(Path(args.json).read_text()).get(str(run)) if args.json and Path(args.json).is_file() else None
        if cached is not None and len(cached["validation_mean"]) == len(X):  # the games are deterministic: reuse them
            s8, l8, sv = np.array(cached["selection"]), np.array(cached["selection_steps"]), np.array(cached["validation_mean"])
            sv_std, lv = np.array(cached["validation_std"]), np.array(cached["validation_steps"])
        else:
            sel = selection_seeds(cfg)
            val = [cfg.baselines.validation_seed + i for i in range(args.truth_games)]
            with make_engine(cfg, cfg.controller.real_num_envs, Models(wm.vae, wm.mdn)) as engine:
                s8, l8 = play(engine, X, sel, cfg.controller.real_max_steps)
                v, lv = play(engine, X, val, None)
            sv, sv_std, lv = v.mean(1), v.std(1), lv.sum(1)
        ctrl = json.loads((run / "controller/metrics.json").read_text())
        first = best_elites(e2, cfg.controller.real_finalists) + [len(e2)]  # the run's own finalists and its mean
        assert np.allclose(s8[first].mean(1), ctrl["real"]["rescored"]), (s8[first].mean(1), ctrl["real"]["rescored"])
        res = {"elite_2game": e2.tolist(), "selection": s8.tolist(), "selection_steps": l8.tolist(),
               "validation_mean": sv.tolist(), "validation_std": sv_std.tolist(),
               "validation_steps": lv.tolist(), "real_frames": ctrl["env_frames"]["total"], "rules": {}}
        fs = cfg.env.frameskip
        for g in [len(e2), *args.generations]:
            for name, idx in rules(e2, g, g == len(e2)).items():
                pick = idx[int(np.argmax(s8[idx].mean(1)))]
                res["rules"][f"G{g}_{name}"] = {"candidates": idx, "pick": pick, "pick_selection": float(s8[pick].mean()),
                                                 "pick_validation": float(sv[pick]),
                                                 "frames": int(l8[idx].sum() * fs)}
        for name in args.save:
            ctrl_model = Controller(wm.vae.latent_dim, wm.mdn.hidden_size, wm.mdn.action_dim)
            ctrl_model.set_flat(X[res["rules"][name]["pick"]])
            save_model(ctrl_model, run / "controller" / f"pick_{name}", ctrl_model.config(), "controller")
        best = int(np.argmax(sv))
        res["oracle"] = {"pick": best, "validation": float(sv[best])}
        thirds = np.array_split(sv[: len(e2)], 3)
        res["validation_by_thirds"] = [float(t.mean()) for t in thirds]
        res["spearman_selection_validation"] = spearman(s8.mean(1), sv)
        res["spearman_2game_validation"] = spearman(e2, sv[: len(e2)])
        report[str(run)] = res
        print(f"\n{run}: {len(e2)} elites + mean; real frames of the run {res['real_frames']:,}")
        print(f"  validation per elite: {np.round(sv, 1).tolist()}")
        print(f"  oracle: #{best} {sv[best]:.1f}; elites' mean validation by thirds of the run "
              f"{np.round(res['validation_by_thirds'], 1).tolist()}; rank correlation with validation: 8 selection games "
              f"{res['spearman_selection_validation']:.2f}, the generation's 2 games {res['spearman_2game_validation']:.2f}")
        for name, r in res["rules"].items():
            print(f"  {name:10s} pick #{r['pick']:2d}  selection {r['pick_selection']:6.1f}  validation "
                  f"{r['pick_validation']:6.1f}  re-scoring frames {r['frames']:,}")
        if args.json:  # after each run, so that a later call reuses what is done
            old = json.loads(Path(args.json).read_text()) if Path(args.json).is_file() else {}
            Path(args.json).write_text(json.dumps({**old, **report}, indent=1))


if __name__ == "__main__":
    main()

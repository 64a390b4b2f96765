"""Phase 3: train the linear controller with CMA-ES, first in the dream, then in the real game.

    python train_controller.py --dream-epochs 40 --real-epochs 30

Dream phase: each generation scores the whole population on the same R dream rollouts, started
from encoded real frames, as one batched tensor program. Real phase: CMA-ES restarts from the
dream's best and scores the population on the vector env, all candidates' episodes in parallel.
At the end of each phase the top candidates are re-scored on fresh starts/episodes and the best is
kept. Writes ``<run_dir>/controller/`` (weights + config + metrics.json) and ``logs/controller.jsonl``.
"""

from __future__ import annotations

import os

# Before torch loads OpenMP: idle OpenMP threads spin only briefly, so they do not steal the cores
# the emulator threads need (compare `GOMP_SPINCOUNT=300000 python bench.py`, libgomp's default).
os.environ.setdefault("GOMP_SPINCOUNT", "10000")

import sys
import time
from collections.abc import Callable

import cma
import numpy as np
import torch

from config import Config
from models.controller import Controller
from utils.agent import CONTROLLER_DIR, MDN_DIR, VAE_DIR, WorldModel, WorldModelPolicy
from utils.common import Timer, cli_main, finished_phase, prepare_run_dir, resolve_device, seed_everything
from utils.data import LatentData
from utils.dream import Dream
from utils.io import UserError, atomic_write_json, save_model
from utils.logger import RunLogger
from utils.runner import run_episodes

# Seeds of real training episodes live far from evaluation seeds (EvalConfig.seed, default 10,000).
TRAIN_SEED_BASE = 1_000_000


def run_cma(name: str, x0: np.ndarray, sigma0: float, cfg: Config, generations: int, fitness: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]],
            logger: RunLogger, progress: bool, env_frames: Callable[[], int] | None = None, step_offset: int = 0
            ) -> tuple[list[dict], list[tuple[float, np.ndarray]], np.ndarray]:
    """Ask/tell loop. ``fitness(X (P, n), generation) -> (scores (P,), action histogram)``; higher is better.
    ``env_frames()`` (real phase) gives the emulator frames played so far, logged per generation.
    Log steps continue from ``step_offset`` (the dream's generations), as wandb drops decreasing steps.

    Returns the per-generation history, the best (score, params) of each generation, and the final mean.
    """
    from tqdm import tqdm

    cc = cfg.controller
    es = cma.CMAEvolutionStrategy(x0, sigma0, {"popsize": cc.population_size, "seed": cfg.seed + 1 + (name == "real"),
                                                  "verbose": -9, "tolx": 0, "tolfun": 0, "tolflatfitness": 10**9})
    history, elites = [], []
    bar = tqdm(range(generations), desc=f"cma-es {name}", disable=not progress, leave=False)
    for gen in bar:
        t0 = time.perf_counter()
        X = np.asarray(es.ask())
        scores, counts = fitness(X, gen)
        es.tell(list(X), (-scores).tolist())
        i = int(np.argmax(scores))
        elites.append((float(scores[i]), X[i].copy()))
        share = counts / max(1, counts.sum())
        rec = {"generation": gen + 1, "best": float(scores.max()), "mean": float(scores.mean()), "std": float(scores.std()),
               "worst": float(scores.min()), "sigma": float(es.sigma), "top_action_share": float(share.max()),
               "seconds": time.perf_counter() - t0}
        if env_frames is not None:
            rec["env_frames"] = env_frames()
        history.append(rec)
        logger.log({f"controller/{name}_{k}": v for k, v in rec.items()}, step=step_offset + gen + 1)
        bar.set_postfix(best=f"{rec['best']:.1f}", mean=f"{rec['mean']:.1f}")
        if gen == 0 or (gen + 1) % max(1, generations // 10) == 0 or gen + 1 == generations:
            print(f"[controller] {name} gen {gen + 1}/{generations}  best {rec['best']:.2f}  mean {rec['mean']:.2f}  "
                  f"std {rec['std']:.2f}  top-action share {rec['top_action_share']:.2f}  ({rec['seconds']:.2f}s)")
    return history, elites, np.asarray(es.result.xfavorite)


def pick_best(elites: list[tuple[float, np.ndarray]], mean: np.ndarray, score: Callable[[np.ndarray], np.ndarray],
              k: int = 3) -> tuple[np.ndarray, list[float]]:
    """Re-score the k best elites and the CMA-ES mean on fresh rollouts; return the winner."""
    top = sorted(elites, key=lambda e: -e[0])[:k]
    cands = np.stack([p for _, p in top] + [mean])
    scores = score(cands)
    return cands[int(np.argmax(scores))], scores.tolist()


def calibrate(x: np.ndarray, feats: np.ndarray, logit_sigma: float) -> tuple[np.ndarray, float]:
    """Scale the start point and step size of the real phase in logit units.

    ``argmax(W f + b)`` does not change when (W, b) is scaled, but CMA-ES's step size does, and a
    dream-trained controller can have any scale. Rescale x so that its logits on real features
    ``feats`` (N, F) have unit std, and pick sigma so that a step moves every logit by about
    ``logit_sigma`` (a perturbation of std sigma per weight moves a logit by sigma * ||[f, 1]||).
    """
    A = len(x) // (feats.shape[1] + 1)
    W, b = x[: A * feats.shape[1]].reshape(A, -1), x[A * feats.shape[1]:]
    scale = float((feats @ W.T + b).std())
    if scale > 0:
        x = x / scale
    f_norm = float(np.sqrt((feats**2).sum(1).mean() + 1.0))
    return x, logit_sigma / f_norm


def collection_frames(cfg: Config) -> int:
    """Emulator frames played to collect the VAE/MDN-RNN data (agent steps x frameskip)."""
    from utils.io import read_json

    manifest = read_json(cfg.data_path / "manifest.json", "data manifest")
    return int(sum(s["steps"] for s in manifest["shards"])) * cfg.env.frameskip


def main(cfg: Config) -> dict:
    run = prepare_run_dir(cfg)
    out = run / CONTROLLER_DIR
    if (done := finished_phase(out, "controller", cfg.restart)) is not None:
        return done
    for d in (VAE_DIR, MDN_DIR):
        if not (run / d / "config.json").exists():
            raise UserError(f"no trained {d} in {run}: run train_vae.py and train_mdn_rnn.py first")
    seed_everything(cfg.seed)
    device = resolve_device(cfg.device)
    cc = cfg.controller
    wm = WorldModel.load(run, device, with_controller=False)
    ctrl = Controller(wm.vae.latent_dim, wm.mdn.hidden_size, wm.mdn.action_dim)
    x = np.zeros(ctrl.num_params)
    rng = np.random.default_rng(cfg.seed)
    gen_torch = torch.Generator(device=device).manual_seed(cfg.seed)
    latents_path = run / "latents.npz"
    if not latents_path.exists():
        raise UserError(f"no encoded latents at {latents_path}: run train_mdn_rnn.py first")
    dream = Dream(wm.mdn, LatentData.load(latents_path), cc.warmup_steps, device)
    logger = RunLogger(cfg, "controller", run)
    metrics: dict = {"num_params": ctrl.num_params}
    timer = Timer()
    try:
        if cc.dream_epochs > 0:

            def dream_score(X: np.ndarray, rollouts: int) -> tuple[np.ndarray, np.ndarray]:
                starts = dream.sample_starts(rollouts, rng, gen_torch)
                f, counts = dream.rollout(torch.as_tensor(X, dtype=torch.float32, device=device), starts, cc.dream_horizon,
                                          cc.temperature, gen_torch, cc.alive_bonus)
                return f.cpu().numpy().astype(np.float64), counts

            t = Timer()
            hist, elites, mean = run_cma("dream", x, cc.sigma0, cfg, cc.dream_epochs, lambda X, g: dream_score(X, cc.dream_rollouts),
                                         logger, cfg.logging.progress)
            x, rescored = pick_best(elites, mean, lambda X: dream_score(X, 4 * cc.dream_rollouts)[0])
            metrics["dream"] = {"history": hist, "rescored": rescored, "seconds": t.seconds}
            save_model(ctrl.set_flat(x), out / "dream", ctrl.config(), "controller")
            print(f"[controller] dream phase done in {t.seconds:.1f}s; re-scored finalists {np.round(rescored, 2).tolist()}")

        if cc.real_epochs > 0:
            starts = dream.sample_starts(512, np.random.default_rng(cfg.seed + 7))
            feats = torch.cat([starts.z, starts.state[0]], dim=1).cpu().numpy().astype(np.float64)

            def real_score(X: np.ndarray, seeds: list[int]) -> tuple[np.ndarray, np.ndarray]:
                # Job k = candidate k // R playing seed k % R; cc.real_num_envs emulators work through the jobs.
                policy = WorldModelPolicy(wm.vae, wm.mdn, torch.as_tensor(X, dtype=torch.float32),
                                          job_candidates=np.repeat(np.arange(len(X)), len(seeds)))
                stats = run_episodes(cfg.env, policy, np.tile(seeds, len(X)), num_envs=cc.real_num_envs,
                                     max_steps=cc.real_max_steps)
                real_score.env_steps += int(stats.lengths.sum())  # type: ignore[attr-defined]  # agent steps played
                return stats.returns.reshape(len(X), len(seeds)).mean(1), stats.action_counts
            real_score.env_steps = 0  # type: ignore[attr-defined]

            def gen_seeds(gen: int) -> list[int]:
                # The same seeds for every candidate of a generation (common random numbers).
                return [TRAIN_SEED_BASE + cfg.seed * 100_000 + gen * cc.real_rollouts + r for r in range(cc.real_rollouts)]

            x, sigma = calibrate(x, feats, cc.real_sigma0)
            print(f"[controller] real phase starts from the dream's best, rescaled; step size {sigma:.4f} "
                  f"(= {cc.real_sigma0} logit units)")
            t = Timer()
            collected = collection_frames(cfg)
            hist, elites, mean = run_cma("real", x, sigma, cfg, cc.real_epochs, lambda X, g: real_score(X, gen_seeds(g)), logger,
                                         cfg.logging.progress,
                                         env_frames=lambda: collected + real_score.env_steps * cfg.env.frameskip,  # type: ignore[attr-defined]
                                         step_offset=cc.dream_epochs)
            select_seeds = [TRAIN_SEED_BASE // 2 + cfg.seed * 100 + i for i in range(8)]
            x, rescored = pick_best(elites, mean, lambda X: real_score(X, select_seeds)[0])
            metrics["real"] = {"history": hist, "rescored": rescored, "seconds": t.seconds,
                               "env_steps": int(real_score.env_steps)}  # type: ignore[attr-defined]
            metrics["env_frames"] = {"collection": collected, "real": int(real_score.env_steps) * cfg.env.frameskip,  # type: ignore[attr-defined]
                                     "total": collected + int(real_score.env_steps) * cfg.env.frameskip}  # type: ignore[attr-defined]
            print(f"[controller] real phase done in {t.seconds:.1f}s; finalists' mean score on 8 games "
                  f"{np.round(rescored, 1).tolist()}")
        save_model(ctrl.set_flat(x), out, ctrl.config(), "controller")
        logger.log_artifact(out, "controller")
    finally:
        logger.close()
    metrics["train_seconds"] = timer.seconds
    atomic_write_json(out / "metrics.json", metrics)
    return metrics


if __name__ == "__main__":
    sys.exit(cli_main(__doc__.splitlines()[0], main))

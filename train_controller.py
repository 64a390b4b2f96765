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

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import cma
import numpy as np
import torch

from config import Config
from models.controller import Controller
from train_mdn_rnn import encode_dataset
from utils.agent import CONTROLLER_DIR, MDN_DIR, VAE_DIR, WorldModel, WorldModelPolicy
from utils.common import (
    Timer,
    cli_main,
    finished_phase,
    prepare_run_dir,
    record_config,
    resolve_device,
    seed_everything,
)
from utils.dream import Dream
from utils.io import WEIGHTS_NAME, UserError, atomic_write_json, save_model
from utils.logger import RunLogger
from utils.resume import (
    RESUME_NAME,
    clear_state,
    file_digest,
    load_state,
    phase_lock,
    rng_state,
    save_state,
    set_rng_state,
    signature_of,
    trim_log,
)
from utils.runner import run_episodes

# Seeds of real training episodes live far from evaluation seeds (EvalConfig.seed, default 10,000).
TRAIN_SEED_BASE = 1_000_000


def x_digest(X: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(X, dtype=np.float64).tobytes()).hexdigest()[:16]


def run_cma(name: str, x0: np.ndarray, sigma0: float, cfg: Config, generations: int, fitness: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]],
            logger: RunLogger, progress: bool, env_frames: Callable[[], int] | None = None, step_offset: int = 0,
            resume: dict | None = None, checkpoint: Callable[[dict], None] | None = None,
            ) -> tuple[list[dict], list[tuple[float, np.ndarray]], np.ndarray]:
    """Ask/tell loop. ``fitness(X (P, n), generation) -> (scores (P,), action histogram)``; higher is better.
    ``env_frames()`` (real phase) gives the emulator frames played so far, logged per generation.
    Log steps continue from ``step_offset`` (the dream's generations), as wandb drops decreasing steps.

    After every generation ``checkpoint(progress)`` receives what a resumed run needs: every
    generation's fitness values (CMA-ES is deterministic given its seed and them, so ``resume=progress``
    rebuilds the optimizer's exact state by replaying ask/tell, checked against each generation's
    candidates' digest), the elites and the history. No optimizer object is pickled.

    Returns the per-generation history, the best (score, params) of each generation, and the final mean.
    """
    from tqdm import tqdm

    cc = cfg.controller
    es = cma.CMAEvolutionStrategy(x0, sigma0, {"popsize": cc.population_size, "seed": cfg.seed + 1 + (name == "real"),
                                                  "verbose": -9, "tolx": 0, "tolfun": 0, "tolflatfitness": 10**9})
    history, elites, fits, digests = [], [], [], []
    if resume is not None:
        for g, f in enumerate(resume["fitness"]):
            X = np.asarray(es.ask())
            if x_digest(X) != resume["digests"][g]:
                raise UserError(f"cannot rebuild the CMA-ES state of the {name} phase at generation {g + 1} (the saved "
                                "candidates differ: another cma version?); pass --restart to start the controller over")
            es.tell(list(X), (-f).tolist())
            fits.append(f)
            digests.append(resume["digests"][g])
        history = resume["history"]
        elites = [(float(s), p) for s, p in zip(resume["elite_scores"], resume["elite_params"], strict=True)]
    bar = tqdm(range(len(fits), generations), desc=f"cma-es {name}", disable=not progress, leave=False)
    for gen in bar:
        t0 = time.perf_counter()
        X = np.asarray(es.ask())
        scores, counts = fitness(X, gen)
        es.tell(list(X), (-scores).tolist())
        fits.append(np.asarray(scores, dtype=np.float64))
        digests.append(x_digest(X))
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
        if checkpoint is not None:
            checkpoint({"fitness": np.stack(fits), "digests": digests, "history": history,
                        "elite_scores": np.array([e[0] for e in elites]), "elite_params": np.stack([e[1] for e in elites])})
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
    run = cfg.run_path
    out = run / CONTROLLER_DIR
    if (done := finished_phase(out, "controller", cfg.restart)) is not None:
        return done
    for d in (VAE_DIR, MDN_DIR):
        if not (run / d / "config.json").exists():
            raise UserError(f"no trained {d} in {run}: run train_vae.py and train_mdn_rnn.py first")
    prepare_run_dir(cfg)
    with phase_lock(out, "controller"):
        return _train(cfg, run, out)


def _train(cfg: Config, run: Path, out: Path) -> dict:
    seed_everything(cfg.seed)
    device = resolve_device(cfg.device)
    cc = cfg.controller
    wm = WorldModel.load(run, device, with_controller=False, env=cfg.env)  # another game's model stops here
    ctrl = Controller(wm.vae.latent_dim, wm.mdn.hidden_size, wm.mdn.action_dim)
    x = np.zeros(ctrl.num_params)
    rng = np.random.default_rng(cfg.seed)
    gen_torch = torch.Generator(device=device).manual_seed(cfg.seed)
    # The cached latents (re-encoded if missing or made by another VAE or data).
    dream = Dream(wm.mdn, encode_dataset(cfg, run, device, cfg.logging.progress), cc.warmup_steps, device)
    metrics: dict = {"num_params": ctrl.num_params}
    env_steps = [0]  # agent steps played in the real phase

    # Resume: the state after the last finished generation (or after the dream phase).
    env_sig = {k: v for k, v in asdict(cfg.env).items() if k != "num_threads"}
    signature = {"seed": cfg.seed, "controller": signature_of(cc), "env": env_sig,
                 "vae": file_digest(run / VAE_DIR / WEIGHTS_NAME), "mdn_rnn": file_digest(run / MDN_DIR / WEIGHTS_NAME)}
    state = load_state(out, "controller", signature, cfg.restart)
    saved: dict = {}  # what the next checkpoint keeps besides the running phase's progress
    running = None  # the phase whose generations the state holds (None: the dream is done, the real phase not begun)
    if state is not None:
        set_rng_state(rng, state["np_rng"])
        gen_torch.set_state(state["torch_gen"])
        torch.set_rng_state(state["torch_rng"])
        env_steps[0] = int(state["env_steps"])
        if "dream_x" in state:
            saved = {"dream_x": state["dream_x"], "dream_metrics": state["dream_metrics"]}
        running = json.loads(state["running"])
        where = (f"{running['name']} generation {len(running['digests'])}" if running else "the end of the dream phase")
        print(f"[controller] resuming from {out / RESUME_NAME} after {where} (pass --restart to start over)")

    def progress_of(name: str) -> dict | None:
        if running is None or running["name"] != name:
            return None
        return {**running, "fitness": state["fitness"].numpy(), "elite_scores": state["elite_scores"].numpy(),
                "elite_params": state["elite_params"].numpy()}

    def checkpoint(name: str, x0: np.ndarray | None = None, sigma0: float | None = None):
        def save(progress: dict | None) -> None:
            st = {"signature": json.dumps(signature), "np_rng": rng_state(rng), "torch_gen": gen_torch.get_state(),
                  "torch_rng": torch.get_rng_state(), "env_steps": env_steps[0], **saved, "running": "null"}
            if progress is not None:
                st["running"] = json.dumps({"name": name, "digests": progress["digests"], "history": progress["history"],
                                            "x0": x0.tolist(), "sigma0": sigma0})
                st.update(fitness=torch.from_numpy(progress["fitness"]), elite_scores=torch.from_numpy(progress["elite_scores"]),
                          elite_params=torch.from_numpy(progress["elite_params"]))
            save_state(out, st)
        return save

    if state is None:
        last_step = 0
    elif running is None:
        last_step = cc.dream_epochs
    else:
        last_step = len(running["digests"]) + (cc.dream_epochs if running["name"] == "real" else 0)
    trim_log(run / "logs" / "controller.jsonl", last_step)  # drop what the lost part of a killed run logged
    logger = RunLogger(cfg, "controller", run)
    record_config(cfg, run)
    timer = Timer()
    try:
        if cc.dream_epochs > 0 and "dream_x" in saved:
            x = saved["dream_x"].numpy().astype(np.float64)
            metrics["dream"] = json.loads(saved["dream_metrics"])
        elif cc.dream_epochs > 0:

            def dream_score(X: np.ndarray, rollouts: int) -> tuple[np.ndarray, np.ndarray]:
                starts = dream.sample_starts(rollouts, rng, gen_torch)
                f, counts = dream.rollout(torch.as_tensor(X, dtype=torch.float32, device=device), starts, cc.dream_horizon,
                                          cc.temperature, gen_torch, cc.alive_bonus)
                return f.cpu().numpy().astype(np.float64), counts

            t = Timer()
            hist, elites, mean = run_cma("dream", x, cc.sigma0, cfg, cc.dream_epochs, lambda X, g: dream_score(X, cc.dream_rollouts),
                                         logger, cfg.logging.progress, resume=progress_of("dream"),
                                         checkpoint=checkpoint("dream", x, cc.sigma0))
            x, rescored = pick_best(elites, mean, lambda X: dream_score(X, 4 * cc.dream_rollouts)[0])
            metrics["dream"] = {"history": hist, "rescored": rescored, "seconds": t.seconds}
            save_model(ctrl.set_flat(x), out / "dream", ctrl.config(), "controller")
            saved = {"dream_x": torch.from_numpy(x), "dream_metrics": json.dumps(metrics["dream"])}
            checkpoint("dream")(None)
            print(f"[controller] dream phase done in {t.seconds:.1f}s; re-scored finalists {np.round(rescored, 2).tolist()}")

        if cc.real_epochs > 0:

            def real_score(X: np.ndarray, seeds: list[int]) -> tuple[np.ndarray, np.ndarray]:
                # Job k = candidate k // R playing seed k % R; cc.real_num_envs emulators work through the jobs.
                policy = WorldModelPolicy(wm.vae, wm.mdn, torch.as_tensor(X, dtype=torch.float32),
                                          job_candidates=np.repeat(np.arange(len(X)), len(seeds)))
                stats = run_episodes(cfg.env, policy, np.tile(seeds, len(X)), num_envs=cc.real_num_envs,
                                     max_steps=cc.real_max_steps)
                env_steps[0] += int(stats.lengths.sum())
                return stats.returns.reshape(len(X), len(seeds)).mean(1), stats.action_counts

            def gen_seeds(gen: int) -> list[int]:
                # The same seeds for every candidate of a generation (common random numbers).
                return [TRAIN_SEED_BASE + cfg.seed * 100_000 + gen * cc.real_rollouts + r for r in range(cc.real_rollouts)]

            if (progress := progress_of("real")) is not None:
                x, sigma = np.asarray(progress["x0"]), float(progress["sigma0"])
            else:
                starts = dream.sample_starts(512, np.random.default_rng(cfg.seed + 7))
                feats = torch.cat([starts.z, starts.state[0]], dim=1).cpu().numpy().astype(np.float64)
                x, sigma = calibrate(x, feats, cc.real_sigma0)
            print(f"[controller] real phase starts from the dream's best, rescaled; step size {sigma:.4f} "
                  f"(= {cc.real_sigma0} logit units)")
            t = Timer()
            collected = collection_frames(cfg)
            hist, elites, mean = run_cma("real", x, sigma, cfg, cc.real_epochs, lambda X, g: real_score(X, gen_seeds(g)), logger,
                                         cfg.logging.progress, env_frames=lambda: collected + env_steps[0] * cfg.env.frameskip,
                                         step_offset=cc.dream_epochs, resume=progress, checkpoint=checkpoint("real", x, sigma))
            select_seeds = [TRAIN_SEED_BASE // 2 + cfg.seed * 100 + i for i in range(8)]
            x, rescored = pick_best(elites, mean, lambda X: real_score(X, select_seeds)[0])
            metrics["real"] = {"history": hist, "rescored": rescored, "seconds": t.seconds, "env_steps": env_steps[0]}
            metrics["env_frames"] = {"collection": collected, "real": env_steps[0] * cfg.env.frameskip,
                                     "total": collected + env_steps[0] * cfg.env.frameskip}
            print(f"[controller] real phase done in {t.seconds:.1f}s; finalists' mean score on 8 games "
                  f"{np.round(rescored, 1).tolist()}")
        save_model(ctrl.set_flat(x), out, ctrl.config(), "controller")
        logger.log_artifact(out, "controller")
    finally:
        logger.close()
    metrics["train_seconds"] = timer.seconds
    metrics["resumed"] = state is not None
    atomic_write_json(out / "metrics.json", metrics)
    clear_state(out)
    return metrics


if __name__ == "__main__":
    sys.exit(cli_main(__doc__.splitlines()[0], main))

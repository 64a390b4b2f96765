"""CMA-ES (``cma``) for the controller: the resumable ask/tell loop, picking the winner, and the step-size
calibration between the dream and the real game."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import cma
import numpy as np

from config import Config
from utils.common import top_action_share
from utils.io import UserError

# Seeds of real training episodes live far from evaluation seeds (EvalConfig.seed, default 10,000).
TRAIN_SEED_BASE = 1_000_000


def generation_seeds(cfg: Config, gen: int) -> list[int]:
    """The real games of generation ``gen``, the same for every candidate (common random numbers)."""
    r = cfg.controller.real_rollouts
    return [TRAIN_SEED_BASE + cfg.seed * 100_000 + gen * r + i for i in range(r)]


def selection_seeds(cfg: Config) -> list[int]:
    """The 8 real games on which the real phase's finalists are re-scored."""
    return [TRAIN_SEED_BASE // 2 + cfg.seed * 100 + i for i in range(8)]


def dream_selection_seeds(cfg: Config) -> list[int]:
    """The real games on which the dream's candidates are compared (``controller.select_candidates``)."""
    return [TRAIN_SEED_BASE // 2 + cfg.seed * 100 + 50 + i for i in range(cfg.controller.select_games)]


def x_digest(X: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(X, dtype=np.float64).tobytes()).hexdigest()[:16]


def run_cma(name: str, x0: np.ndarray, sigma0: float, cfg: Config, generations: int, fitness: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]],
            logger: Any, progress: bool, env_frames: Callable[[], int] | None = None, step_offset: int = 0,
            resume: dict | None = None, checkpoint: Callable[[dict], None] | None = None,
            stop: Callable[[list[dict]], bool] | None = None, popsize: int = 0, dampfac: float = 1.0,
            mirrored: bool = False) -> tuple[list[dict], list[tuple[float, np.ndarray]], np.ndarray]:
    """Ask/tell loop. ``fitness(X (P, n), generation) -> (scores (P,), action histogram[, extra metrics to log])``;
    higher is better.
    ``env_frames()`` (real phase) gives the emulator frames played so far, logged per generation.
    Log steps continue from ``step_offset`` (the dream's generations), as wandb drops decreasing steps.

    After every generation ``checkpoint(progress)`` receives what a resumed run needs: every
    generation's fitness values (CMA-ES is deterministic given its seed and them, so ``resume=progress``
    rebuilds the optimizer's exact state by replaying ask/tell, checked against each generation's
    candidates' digest), the elites and the history. No optimizer object is pickled.

    ``stop(history)``, asked before each generation after the first, ends the loop early (a frame budget).
    ``popsize`` (0: ``controller.population_size``) is the number of candidates per generation.
    ``dampfac`` multiplies the step size's damping (pycma's ``CSA_dampfac``; 1: pycma's default). Below 1 the step
    adapts faster: in the real phase's ~16 generations in ~300 dimensions the default step barely moves (0.8x). pycma
    uses CSA only below 300 dimensions (TPA from there, where the option does nothing): anything but 1 then stops here.
    ``mirrored``: mirrored sampling with pairwise selection (Brockhoff et al., PPSN 2010): pycma asks ``popsize / 2``
    candidates, each is played with its mirror through the mean (``2 m - x``, so candidates k and k+1 are a pair), and
    pycma is told the better of each pair: a pair's difference cancels the curvature that makes both worse than the
    mean, so the winner points along the gradient. ``popsize`` must be even.

    Returns the per-generation history, the best (score, params) of each generation, and the final mean.
    """
    from tqdm import tqdm

    cc = cfg.controller
    P = popsize or cc.population_size
    if mirrored and P % 2:
        raise UserError(f"mirrored sampling plays candidates in pairs: the {name} phase's population {P} must be even")
    opts = {"popsize": P // 2 if mirrored else P, "seed": cfg.seed + 1 + (name == "real"),
            "verbose": -9, "tolx": 0, "tolfun": 0, "tolflatfitness": 10**9}
    if dampfac != 1.0:
        opts["CSA_dampfac"] = dampfac
    es = cma.CMAEvolutionStrategy(x0, sigma0, opts)
    if dampfac != 1.0 and not isinstance(es.adapt_sigma, cma.sigma_adaptation.CMAAdaptSigmaCSA):
        raise UserError(f"controller.real_csa_dampfac {dampfac} changes pycma's CSA step rule, but pycma adapts the step of "
                        f"these {len(x0)} searched weights by {type(es.adapt_sigma).__name__} (CSA below 300); leave it at 1.0 "
                        "or search fewer weights (--controller.h-components)")

    def ask() -> np.ndarray:
        A = np.asarray(es.ask())
        if not mirrored:
            return A
        X = np.empty((2 * len(A), A.shape[1]))
        X[0::2], X[1::2] = A, 2 * np.asarray(es.mean) - A
        return X

    def tell(X: np.ndarray, f: np.ndarray) -> None:
        if mirrored:  # pairwise selection: only the better of each pair reaches pycma
            win = f[0::2] >= f[1::2]
            X, f = np.where(win[:, None], X[0::2], X[1::2]), np.where(win, f[0::2], f[1::2])
        es.tell(list(X), (-np.asarray(f)).tolist())

    history, elites, fits, digests = [], [], [], []
    if resume is not None:
        for g, f in enumerate(resume["fitness"]):
            X = ask()
            if x_digest(X) != resume["digests"][g]:
                raise UserError(f"cannot rebuild the CMA-ES state of the {name} phase at generation {g + 1} (the saved "
                                "candidates differ: another cma version?); pass --restart to start the controller over")
            tell(X, f)
            fits.append(f)
            digests.append(resume["digests"][g])
        history = resume["history"]
        elites = [(float(s), p) for s, p in zip(resume["elite_scores"], resume["elite_params"], strict=True)]
    bar = tqdm(range(len(fits), generations), desc=f"cma-es {name}", disable=not progress, leave=False)
    for gen in bar:
        if history and stop is not None and stop(history):
            last = history[-1]
            print(f"[controller] {name} phase stops after generation {gen} (best {last['best']:.2f}, mean {last['mean']:.2f}): "
                  "the next would pass its budget")
            break
        t0 = time.perf_counter()
        X = ask()
        scores, counts, *more = fitness(X, gen)
        extra = more[0] if more else {}
        tell(X, np.asarray(scores, dtype=np.float64))
        fits.append(np.asarray(scores, dtype=np.float64))
        digests.append(x_digest(X))
        i = int(np.argmax(scores))
        elites.append((float(scores[i]), X[i].copy()))
        rec = _generation_done(name, gen, scores, counts, es.sigma, extra, t0, history, logger, step_offset, env_frames,
                               checkpoint, lambda: {"fitness": np.stack(fits), "digests": digests, "history": history,
                                                    "elite_scores": np.array([e[0] for e in elites]),
                                                    "elite_params": np.stack([e[1] for e in elites])})
        bar.set_postfix(best=f"{rec['best']:.1f}", mean=f"{rec['mean']:.1f}")
        if gen == 0 or (gen + 1) % max(1, generations // 10) == 0 or gen + 1 == generations:
            share = f"  top-action share {rec['top_action_share']:.2f}" if "top_action_share" in rec else ""
            print(f"[controller] {name} gen {gen + 1}/{generations}  best {rec['best']:.2f}  mean {rec['mean']:.2f}  "
                  f"std {rec['std']:.2f}{share}  ({rec['seconds']:.2f}s)")
    return history, elites, np.asarray(es.result.xfavorite)


def _generation_done(name: str, gen: int, scores, counts, sigma: float, extra: dict, t0: float, history: list[dict],
                     logger: Any, step_offset: int, env_frames: Callable[[], int] | None,
                     checkpoint: Callable[[dict], None] | None, progress: Callable[[], dict]) -> dict:
    """A generation's record: appended to ``history`` and logged; then ``checkpoint(progress())``."""
    scores = np.asarray(scores, dtype=np.float64)
    rec = {"generation": gen + 1, "best": float(scores.max()), "mean": float(scores.mean()), "std": float(scores.std()),
           "worst": float(scores.min()), "sigma": float(sigma), **top_action_share(counts), **extra,
           "seconds": time.perf_counter() - t0}
    if env_frames is not None:
        rec["env_frames"] = env_frames()
    history.append(rec)
    logger.log({f"controller/{name}_{k}": v for k, v in rec.items()}, step=step_offset + gen + 1)
    if checkpoint is not None:
        checkpoint(progress())
    return rec


def challenge_seeds(cfg: Config, gen: int, n: int = 8) -> list[int]:
    """The fresh real games on which an elitist refinement's generation ``gen`` compares its challengers and incumbent."""
    return [TRAIN_SEED_BASE + cfg.seed * 100_000 + 50_000 + gen * n + i for i in range(n)]


def run_elite(name: str, x0: np.ndarray, sigma: float, cfg: Config, generations: int,
              fitness: Callable[[np.ndarray, int], tuple], challenge: Callable[[np.ndarray, int], np.ndarray],
              logger: Any, env_frames: Callable[[], int] | None = None, step_offset: int = 0, resume: dict | None = None,
              checkpoint: Callable[[dict], None] | None = None, stop: Callable[[list[dict]], bool] | None = None,
              popsize: int = 0, challengers: int = 3) -> tuple[list[dict], np.ndarray]:
    """Elitist local search around an incumbent (the real phase's ``controller.real_refine_search elite``).

    Each generation draws ``popsize`` candidates ``x + sigma * N(0, I)`` around the incumbent x (from a generator
    seeded by the run's seed and the generation: a resumed run draws the same), scores them with ``fitness`` (as a
    CMA-ES generation), then its ``challengers`` best and the incumbent play the same fresh games (``challenge(X, gen)
    -> scores``, the incumbent first). The incumbent moves to the best challenger only when that one beats it there, so
    the search never walks away from its best to a mean, and a lucky 2-game score alone cannot move it.

    Resumable as :func:`run_cma`: ``checkpoint(progress)`` gets every generation's fitness, digests and history, and
    the incumbents (``elite_params``, last = current; ``elite_scores``: their challenge scores).
    Returns the history and the last incumbent."""
    P = popsize or cfg.controller.population_size
    x, history, fits, digests, kept, kept_scores = np.asarray(x0, dtype=np.float64), [], [], [], [], []
    if resume is not None:
        history, fits, digests = resume["history"], list(resume["fitness"]), list(resume["digests"])
        kept, kept_scores = list(resume["elite_params"]), list(resume["elite_scores"])
        x = np.asarray(kept[-1], dtype=np.float64)
    for gen in range(len(fits), generations):
        if history and stop is not None and stop(history):
            print(f"[controller] {name} stops after generation {gen} (incumbent {history[-1]['incumbent']:.1f} on its last "
                  "challenge games): the next would pass its budget")
            break
        t0 = time.perf_counter()
        X = x + sigma * np.random.default_rng([cfg.seed, 104_729, gen]).standard_normal((P, x.size))
        scores, counts, *more = fitness(X, gen)
        top = np.argsort(-np.asarray(scores), kind="stable")[:challengers]
        c = np.asarray(challenge(np.vstack([x[None], X[top]]), gen), dtype=np.float64)
        j = int(np.argmax(c[1:]))
        moved = bool(c[1 + j] > c[0])
        if moved:
            x = X[top[j]].copy()
        fits.append(np.asarray(scores, dtype=np.float64))
        digests.append(x_digest(X))
        kept.append(x.copy())
        kept_scores.append(float(c[1 + j] if moved else c[0]))
        extra = {"incumbent": float(c[0]), "challenger": float(c[1 + j]), "moved": int(moved), **(more[0] if more else {})}
        rec = _generation_done(name, gen, scores, counts, sigma, extra, t0, history, logger, step_offset, env_frames,
                               checkpoint, lambda: {"fitness": np.stack(fits), "digests": digests, "history": history,
                                                    "elite_scores": np.array(kept_scores), "elite_params": np.stack(kept)})
        print(f"[controller] {name} gen {gen + 1}: best {rec['best']:.1f}, mean {rec['mean']:.1f} on 2 games; incumbent "
              f"{c[0]:.1f} against {np.round(c[1:], 1).tolist()} on the challenge games: {'moves' if moved else 'stays'} "
              f"({rec['seconds']:.1f}s)")
    return history, x


def best_elites(scores: list[float] | np.ndarray, k: int) -> list[int]:
    """Indices of the k highest scores, highest first; ties keep generation order."""
    return sorted(range(len(scores)), key=lambda i: -scores[i])[:k]


def finalists(elites: list[tuple[float, np.ndarray]], mean: np.ndarray, k: int) -> np.ndarray:
    """The k best elites (:func:`best_elites`) and the CMA-ES mean, stacked (k + 1, n)."""
    return np.stack([elites[i][1] for i in best_elites([s for s, _ in elites], k)] + [mean])


def pick_best(elites: list[tuple[float, np.ndarray]], mean: np.ndarray, score: Callable[[np.ndarray], np.ndarray],
              k: int = 3) -> tuple[np.ndarray, list[float]]:
    """Re-score the k best elites and the CMA-ES mean on fresh rollouts; return the winner."""
    cands = finalists(elites, mean, k)
    scores = score(cands)
    return cands[int(np.argmax(scores))], scores.tolist()


def calibrate(x: np.ndarray, feats: np.ndarray, logit_sigma: float, rescale: bool = True) -> tuple[np.ndarray, float]:
    """Scale the start point and step size of the real phase in logit units.

    ``argmax(W f + b)`` does not change when (W, b) is scaled, but CMA-ES's step size does, and a
    dream-trained controller can have any scale. Rescale x so that its logits on real features
    ``feats`` (N, F) have unit std, and pick sigma so that a step moves every logit by about
    ``logit_sigma`` (a perturbation of std sigma per weight moves a logit by sigma * ||[f, 1]||).
    ``rescale=False`` (a continuous game: ``tanh(W f + b)`` changes with the scale) keeps x as it is and
    only picks sigma, in units of the pre-tanh outputs.
    """
    A = len(x) // (feats.shape[1] + 1)
    W, b = x[: A * feats.shape[1]].reshape(A, -1), x[A * feats.shape[1]:]
    scale = float((feats @ W.T + b).std())
    if scale > 0 and rescale:
        x = x / scale
    f_norm = float(np.sqrt((feats**2).sum(1).mean() + 1.0))
    return x, logit_sigma / f_norm

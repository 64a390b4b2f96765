"""Phase 3: train the linear controller with CMA-ES, first in the dream, then in the real game.

    python train_controller.py --dream-epochs 40 --real-epochs 25

Dream phase: each generation scores the whole population on the same R dream rollouts, started
from encoded real frames, as one batched tensor program. Real phase: CMA-ES restarts from the
dream's best and scores the population on the vector env, all candidates' episodes in parallel.
At the end of each phase the top candidates are re-scored on fresh starts/episodes and the best is
kept. Writes ``<run_dir>/controller/`` (weights + config + metrics.json) and ``logs/controller.jsonl``.
"""

from __future__ import annotations

import utils.omp  # noqa: F401  (first: sets GOMP_SPINCOUNT before torch loads OpenMP)

# isort: split

import functools
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from config import Config
from models.controller import Controller
from utils.cli import run_cli
from utils.common import (
    Timer,
    finished_phase,
    prepare_run_dir,
    record_config,
    resolve_device,
    seed_everything,
    top_action_share,
)
from utils.data import collection_frames
from utils.dream import Dream
from utils.es import (
    best_elites,
    calibrate,
    challenge_seeds,
    dream_selection_seeds,
    finalists,
    generation_seeds,
    pick_best,
    run_cma,
    run_elite,
    selection_seeds,
)
from utils.io import WEIGHTS_NAME, UserError, atomic_path, atomic_write_json, save_model
from utils.latents import encode_dataset
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
from utils.rollout import Candidates, Models, make_engine
from utils.run_paths import RunPaths
from utils.world_model import WorldModel, load_controller

ELITES_NAME = "real_elites.npz"  # every real generation's best candidate (its 2-game score) and the final CMA-ES mean

# The config sections this script reads (its --help shows them, with env, logging and the run's fields).
SECTIONS = ("data", "controller", "rollout")


def main(cfg: Config) -> dict:
    paths = RunPaths.of(cfg)
    if (done := finished_phase(paths.controller, "controller", cfg.restart)) is not None:
        return done
    for d in (paths.vae, paths.mdn_rnn):
        if not (d / "config.json").exists():
            raise UserError(f"no trained {d.name} in {paths.root}: run train_vae.py and train_mdn_rnn.py first")
    prepare_run_dir(cfg)
    with phase_lock(paths.controller, "controller"):
        seed_everything(cfg.seed)
        return ControllerTraining(cfg, paths, resolve_device(cfg.device)).run()


class ControllerTraining:
    """CMA-ES on the controller's flat weights, in the dream and then in the real game, resumable after
    every generation: ``<run>/controller/resume.pt`` holds the RNG states, the finished dream's result
    and the running phase's progress (see :func:`utils.es.run_cma`)."""

    def __init__(self, cfg: Config, paths: RunPaths, device: torch.device):
        self.cfg, self.paths, self.device, self.cc = cfg, paths, device, cfg.controller
        self.wm = WorldModel.load(paths.root, device, with_controller=False, env=cfg.env)  # another game's model stops here
        self.ctrl = Controller(self.wm.vae.latent_dim, self.wm.mdn.hidden_size, self.wm.mdn.action_dim)
        self.rng = np.random.default_rng(cfg.seed)
        self.gen_torch = torch.Generator(device=device).manual_seed(cfg.seed)
        # The cached latents (re-encoded if missing or made by another VAE or data).
        self.dream = Dream(self.wm.mdn, encode_dataset(cfg, paths, device, cfg.logging.progress), self.cc.warmup_steps, device)
        # The weights CMA-ES searches: the biases free, z's as W_z B_z^T and h's as W_h B_h^T, with B_z (Z, K_z) and B_h (H, K_h)
        # the directions it reads: all of z (I) or the first K_z principal directions of the VAE's means
        # (controller.z_components); all of h (I), its first K_h principal directions (controller.h_components), or none
        # (controller.inputs z).
        Z, H = self.wm.vae.latent_dim, self.wm.mdn.hidden_size
        self.z_basis = np.eye(Z) if not self.cc.z_components else mean_directions(self.dream, self.cc.z_components)
        self.h_basis = (np.zeros((H, 0)) if self.cc.inputs == "z" else np.eye(H) if not self.cc.h_components
                        else principal_directions(self.dream, cfg.seed, self.cc.h_components))
        self.offset = 0.0  # the part of the start controller outside the searched span (run() sets it)
        # controller.real_standardize: the real phases search weights on the read features centred and scaled to unit std
        # by (shift, scale), each of shape (K_z + K_h,); None: on the raw features (the dream phase, always)
        self.norm: tuple[np.ndarray, np.ndarray] | None = None
        self.real_stats = self.real_norm() if self.cc.real_standardize else None  # drawn with the bases
        self.env_steps = 0  # agent steps played in the real phase
        self.engine = None  # the rollout engine of the real phase, started at its first generation
        env_sig = {k: v for k, v in asdict(cfg.env).items() if k != "num_threads"}
        self.signature = {"seed": cfg.seed, "controller": signature_of(self.cc), "env": env_sig,
                          "vae": file_digest(paths.vae / WEIGHTS_NAME), "mdn_rnn": file_digest(paths.mdn_rnn / WEIGHTS_NAME)}
        self.state = load_state(paths.controller, "controller", self.signature, cfg.restart)
        self.saved: dict = {}  # what every checkpoint keeps besides the running phase's progress (the dream's result)
        self.running = None  # the phase whose generations the state holds (None: the dream is done, the real phase not begun)
        if self.state is not None:
            self._restore(self.state)

    def _restore(self, state: dict) -> None:
        set_rng_state(self.rng, state["np_rng"])
        self.gen_torch.set_state(state["torch_gen"])
        torch.set_rng_state(state["torch_rng"])
        self.env_steps = int(state["env_steps"])
        self.saved = {k: state[k] for k in ("dream_x", "dream_metrics", "dream_pool", "select_x", "select_metrics",
                                            "real_x", "real_metrics") if k in state}
        self.running = json.loads(state["running"])
        where = (f"{self.running['name']} generation {len(self.running['digests'])}" if self.running
                 else "the end of the dream phase")
        print(f"[controller] resuming from {self.paths.controller / RESUME_NAME} after {where} (pass --restart to start over)")

    def progress_of(self, name: str) -> dict | None:
        """The saved progress of phase ``name`` to resume from, if the state holds it."""
        if self.running is None or self.running["name"] != name:
            return None
        return {**self.running, "fitness": self.state["fitness"].numpy(), "elite_scores": self.state["elite_scores"].numpy(),
                "elite_params": self.state["elite_params"].numpy()}

    def save(self, name: str, x0: np.ndarray | None, sigma0: float | None, progress: dict | None, start_frames: int = 0) -> None:
        """Write the resume state: RNGs, the dream's result, and phase ``name``'s progress (None: between phases)."""
        st = {"signature": json.dumps(self.signature), "np_rng": rng_state(self.rng), "torch_gen": self.gen_torch.get_state(),
              "torch_rng": torch.get_rng_state(), "env_steps": self.env_steps, **self.saved, "running": "null"}
        if progress is not None:
            st["running"] = json.dumps({"name": name, "digests": progress["digests"], "history": progress["history"],
                                        "x0": x0.tolist(), "sigma0": sigma0, "start_frames": start_frames})
            st.update(fitness=torch.from_numpy(progress["fitness"]), elite_scores=torch.from_numpy(progress["elite_scores"]),
                      elite_params=torch.from_numpy(progress["elite_params"]))
        save_state(self.paths.controller, st)

    def full(self, X: np.ndarray) -> np.ndarray:
        """Searched weights (..., n_free) -> the controller's flat weights (..., n): [W_z B_z^T, W_h B_h^T], b, plus the
        offset. With ``self.norm`` (m, s) the searched (W', b') read (f - m) / s: W = W' / s, b = b' - W' (m / s)."""
        A, Bz, Bh = self.ctrl.action_dim, self.z_basis, self.h_basis
        W, b = X[..., : -A].reshape(*X.shape[:-1], A, Bz.shape[1] + Bh.shape[1]), X[..., -A:]
        if self.norm is not None:
            m, s = self.norm
            W, b = W / s, b - W @ (m / s)
        W = np.concatenate([W[..., : Bz.shape[1]] @ Bz.T, W[..., Bz.shape[1]:] @ Bh.T], axis=-1)
        return np.concatenate([W.reshape(*X.shape[:-1], -1), b], axis=-1) + self.offset

    def searched(self, x: np.ndarray) -> np.ndarray:
        """Flat weights (n,) -> the searched ones (n_free,): z's and h's weights projected on B_z and B_h (with
        ``self.norm``: W' = W s, b' = b + W m)."""
        A, Z = self.ctrl.action_dim, self.ctrl.latent_dim
        W = x[: -A].reshape(A, -1)
        W, b = np.concatenate([W[:, :Z] @ self.z_basis, W[:, Z:] @ self.h_basis], axis=1), x[-A:]
        if self.norm is not None:
            m, s = self.norm
            W, b = W * s, b + W @ m
        return np.concatenate([W.ravel(), b])

    def real_norm(self, n: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        """(m, s) of the features real play reads: z's part from the VAE's means over every frame of the data (real play
        feeds the mean, the dream a sample), h's from n dream starts (warmed up on the means) with their own seeded
        generators, as :func:`principal_directions`."""
        cfg = self.cfg
        fz = self.dream.mu.cpu().numpy().astype(np.float64) @ self.z_basis
        starts = self.dream.sample_starts(n, np.random.default_rng(cfg.seed + 13), torch.Generator(device=self.device).manual_seed(cfg.seed + 13))
        fh = starts.state[0].cpu().numpy().astype(np.float64) @ self.h_basis
        m, s = np.concatenate([fz.mean(0), fh.mean(0)]), np.concatenate([fz.std(0), fh.std(0)])
        return m, np.maximum(s, 1e-6)

    def features(self, starts) -> torch.Tensor:
        """What the searched weights read at dream starts: [z B_z, h B_h]."""
        z, h = starts.z, starts.state[0]
        return torch.cat([z @ torch.as_tensor(self.z_basis, dtype=z.dtype, device=z.device),
                          h @ torch.as_tensor(self.h_basis, dtype=h.dtype, device=h.device)], dim=1)

    def cma(self, name: str, x: np.ndarray, sigma: float, generations: int, score, **kw):
        """:func:`run_cma` over the searched weights of ``x``; the elites and mean come back as full weights."""
        real = name != "dream"
        popsize, dampfac = (self.cc.real_population, self.cc.real_csa_dampfac) if real else (0, 1.0)
        hist, elites, mean = run_cma(name, self.searched(x), sigma, self.cfg, generations,
                                     lambda X, g: score(self.full(X), g), popsize=popsize, dampfac=dampfac,
                                     mirrored=real and self.cc.real_mirrored, **kw)
        return hist, [(s, self.full(p)) for s, p in elites], self.full(mean)

    def dream_score(self, X: np.ndarray, rollouts: int) -> tuple[np.ndarray, np.ndarray, dict]:
        """Every candidate on the same ``rollouts`` fresh dream starts: (fitness (P,), action histogram,
        {mean dreamed game length})."""
        starts = self.dream.sample_starts(rollouts, self.rng, self.gen_torch)
        res = self.dream.rollout(torch.as_tensor(X, dtype=torch.float32, device=self.device), starts,
                                 self.cc.dream_horizon, self.cc.temperature, self.gen_torch, self.cc.alive_bonus)
        return res.fitness.cpu().numpy().astype(np.float64), res.action_counts, {"dream_length": float(res.lengths.mean())}

    def real_score(self, X: np.ndarray, seeds: list[int]) -> tuple[np.ndarray, np.ndarray, dict]:
        """Every candidate on the same seeded real games: (mean score (P,), action histogram, {emulator
        utilization, agent steps/s})."""
        # Job k = candidate k // R playing seed k % R, queued on the rollout engine's emulators.
        if self.engine is None:
            self.engine = make_engine(self.cfg, self.cc.real_num_envs, Models(self.wm.vae, self.wm.mdn))
        spec = Candidates(np.asarray(X, dtype=np.float32), np.repeat(np.arange(len(X)), len(seeds)))
        stats = self.engine.play(spec, np.tile(seeds, len(X)), max_steps=self.cc.real_max_steps,
                                 patience=self.cc.real_patience or None)
        self.env_steps += int(stats.lengths.sum())
        scores, lengths = stats.returns.reshape(len(X), len(seeds)).mean(1), stats.lengths.reshape(len(X), len(seeds))
        # The frames a game of this generation's elite takes: what re-scoring it as a finalist will cost.
        elite_frames = float(lengths[int(np.argmax(scores))].mean() * self.cfg.env.frameskip)
        return scores, stats.action_counts, {**stats.log_fields(), "elite_game_frames": elite_frames}

    def over_budget(self, hist: list[dict], start_frames: int, budget: int | None = None, rescore: bool = True) -> bool:
        """``controller.real_frames`` (or ``budget``): would one more generation and the final re-scoring pass the
        run's budget of real frames? Estimated from the last generation's frames and the finalists' own games (so the
        budget can be passed when the next generation's games run longer); 0 never stops."""
        cc = self.cc
        budget = cc.real_frames if budget is None else budget
        if not budget:
            return False
        used = hist[-1]["env_frames"]
        per_gen = used - (hist[-2]["env_frames"] if len(hist) > 1 else start_frames)
        if not rescore:  # no finalists to re-score at the end (the elitist refinement)
            return used + per_gen > budget
        best = best_elites([h["best"] for h in hist], cc.real_finalists)
        n_final = min(cc.real_finalists, len(hist) + 1) + 1  # after one more generation, and the mean
        final = len(selection_seeds(self.cfg)) * n_final * max((hist[i]["elite_game_frames"] for i in best), default=0.0)
        return used + per_gen + final > budget

    def dream_phase(self, x: np.ndarray, logger: RunLogger) -> tuple[np.ndarray, dict]:
        cc = self.cc
        if "dream_x" in self.saved:  # finished before a kill
            return self.saved["dream_x"].numpy().astype(np.float64), json.loads(self.saved["dream_metrics"])
        t = Timer()
        hist, elites, mean = self.cma("dream", x, cc.sigma0, cc.dream_epochs,
                                      lambda X, g: self.dream_score(X, cc.dream_rollouts), logger=logger,
                                      progress=self.cfg.logging.progress, resume=self.progress_of("dream"),
                                      checkpoint=functools.partial(self.save, "dream", x, cc.sigma0))
        x, rescored = pick_best(elites, mean, lambda X: self.dream_score(X, 4 * cc.dream_rollouts)[0])
        metrics = {"history": hist, "rescored": rescored, "seconds": t.seconds}
        save_model(self.ctrl.set_flat(x), self.paths.dream_controller, self.ctrl.config(), "controller")
        self.saved = {"dream_x": torch.from_numpy(x), "dream_metrics": json.dumps(metrics)}
        if cc.select_candidates > 0:  # what the real-game selection chooses from
            self.saved["dream_pool"] = torch.from_numpy(finalists(elites, mean, cc.select_candidates))
        self.save("dream", None, None, None)
        print(f"[controller] dream phase done in {t.seconds:.1f}s; re-scored finalists {np.round(rescored, 2).tolist()}")
        return x, metrics

    def select_phase(self, x: np.ndarray) -> tuple[np.ndarray, dict]:
        """Play the dream's best candidates on a few seeded real games and keep the best real mean: the dream
        ranks controllers badly among its best (issue 11's rank agreement), while a few real games tell a
        collapsed controller from one that plays."""
        cfg, cc = self.cfg, self.cc
        if "select_x" in self.saved:  # finished before a kill
            return self.saved["select_x"].numpy().astype(np.float64), json.loads(self.saved["select_metrics"])
        pool = self.saved["dream_pool"].numpy().astype(np.float64) if "dream_pool" in self.saved else x[None]
        t, before = Timer(), self.env_steps
        scores, counts, stats = self.real_score(pool, dream_selection_seeds(cfg))
        i = int(np.argmax(scores))
        metrics = {"scores": scores.tolist(), "chosen": i, "games": cc.select_games, "candidates": len(pool),
                   "env_steps": self.env_steps - before, **top_action_share(counts),
                   "seconds": t.seconds, **stats}
        self.saved.update(select_x=torch.from_numpy(pool[i].copy()), select_metrics=json.dumps(metrics))
        self.save("select", None, None, None)
        print(f"[controller] real-game selection of {len(pool)} dream candidates on {cc.select_games} games each: "
              f"{np.round(scores, 1).tolist()}; chose #{i} ({scores[i]:.1f}) in {t.seconds:.1f}s, "
              f"{metrics['env_steps'] * cfg.env.frameskip:,} frames")
        return pool[i].copy(), metrics

    def real_phase(self, x: np.ndarray, logger: RunLogger) -> tuple[np.ndarray, dict]:
        cfg, cc = self.cfg, self.cc
        if "real_x" in self.saved:  # the main search finished before a kill, its refinement had begun
            x, real = self.saved["real_x"].numpy().astype(np.float64), json.loads(self.saved["real_metrics"])
            self.norm = self.real_stats
        else:
            x, real = self.main_search(x, logger)
        if cc.real_refine > 0:
            x, real["refine"] = self.refine(x, real, logger)
        collected = collection_frames(cfg)
        frames = {"collection": collected, "real": self.env_steps * cfg.env.frameskip,
                  "total": collected + self.env_steps * cfg.env.frameskip}
        return x, {"real": real, "env_frames": frames}

    def frames(self) -> int:
        """Real frames so far: the data's and the controller's games."""
        return collection_frames(self.cfg) + self.env_steps * self.cfg.env.frameskip

    def main_search(self, x: np.ndarray, logger: RunLogger) -> tuple[np.ndarray, dict]:
        """The real phase's CMA-ES from the dream's best (rescaled), then its finalists re-scored on 8 games. With
        ``controller.real_refine`` it stops within its share of ``controller.real_frames``."""
        cfg, cc = self.cfg, self.cc
        budget = int(cc.real_frames * (1 - cc.real_refine))
        if (progress := self.progress_of("real")) is not None:
            x, sigma = np.asarray(progress["x0"]), float(progress["sigma0"])
        else:
            starts = self.dream.sample_starts(512, np.random.default_rng(cfg.seed + 7))
            feats = self.features(starts)  # what the searched weights read
            xs, sigma = calibrate(self.searched(x), feats.cpu().numpy().astype(np.float64), cc.real_sigma0,
                                  rescale=cfg.env.atari)  # tanh outputs are not scale-free
            x = self.full(xs)
            if cc.real_standardize:  # unit-std features: a step of sigma per weight moves a logit by sigma * sqrt(K + 1)
                sigma = cc.real_sigma0 / np.sqrt(feats.shape[1] + 1)
        self.norm = self.real_stats
        origin = ("the real-game selection's choice" if cc.select_candidates > 0 else "the dream's best" if cc.dream_epochs > 0
                  else "controller.init_from" if cc.init_from else "the zero controller")
        print(f"[controller] real phase starts from {origin}{', rescaled' if cfg.env.atari else ''}; step size "
              f"{sigma:.4f} (= {cc.real_sigma0} {'logit' if cfg.env.atari else 'pre-tanh'} units)")
        t = Timer()
        start = self.frames() if progress is None else progress["start_frames"]
        hist, elites, mean = self.cma("real", x, sigma, cc.real_epochs, lambda X, g: self.real_score(X, generation_seeds(cfg, g)),
                                      logger=logger, progress=cfg.logging.progress, env_frames=self.frames,
                                      step_offset=cc.dream_epochs, resume=progress,
                                      checkpoint=functools.partial(self.save, "real", x, sigma, start_frames=start),
                                      stop=lambda h: self.over_budget(h, start, budget))
        x, rescored = pick_best(elites, mean, lambda X: self.real_score(X, selection_seeds(cfg))[0], cc.real_finalists)
        with atomic_path(self.paths.controller / ELITES_NAME) as tmp, open(tmp, "wb") as f:  # for re-scoring them later
            np.savez(f, scores=np.array([s for s, _ in elites]), params=np.stack([p for _, p in elites]), mean=mean)
        played = [h for h in hist if "emulator_utilization" in h]
        util = {"emulator_utilization": float(np.mean([h["emulator_utilization"] for h in played])),
                "agent_steps_per_s": float(np.mean([h["agent_steps_per_s"] for h in played]))} if played else {}
        print(f"[controller] real phase done in {t.seconds:.1f}s; finalists' mean score on 8 games "
              f"{np.round(rescored, 1).tolist()}" + (f"; emulators busy {util['emulator_utilization']:.0%} of their steps, "
                                                     f"{util['agent_steps_per_s']:.0f} agent steps/s" if util else ""))
        real = {"history": hist, "rescored": rescored, "seconds": t.seconds, "env_steps": self.env_steps, **util}
        if cc.real_refine > 0:  # a kill during the refinement resumes after this
            self.saved.update(real_x=torch.from_numpy(x.copy()), real_metrics=json.dumps(real))
            self.save("real", None, None, None)
        return x, real

    def refine(self, x: np.ndarray, real: dict, logger: RunLogger) -> tuple[np.ndarray, dict]:
        """``controller.real_refine``: CMA-ES again, from the main search's pick with its last step size times
        ``controller.real_refine_sigma``, on the generations' next seeds until ``controller.real_frames``; its
        finalists play the same 8 selection games, and the kept controller is the best of them and that pick.

        Why: near a trained controller the main search's step is too large (issue 11, session 40's local_rank.py:
        1 of 64 candidates drawn at its last step beat the pick on 16 games, 8 of 64 at half of it)."""
        cfg, cc = self.cfg, self.cc
        main = real["history"]
        if (progress := self.progress_of("refine")) is not None:
            x0, sigma, start = np.asarray(progress["x0"]), float(progress["sigma0"]), progress["start_frames"]
        else:
            x0, sigma, start = x, main[-1]["sigma"] * cc.real_refine_sigma, self.frames()
        print(f"[controller] refinement starts from the real phase's pick ({max(real['rescored']):.1f} on 8 games); "
              f"step size {sigma:.4f}")
        t, n = Timer(), len(main)
        if cc.real_refine_search == "elite":
            return self.elite(x0, sigma, start, n, progress, real, logger)
        hist, elites, mean = self.cma("refine", x0, sigma, cc.real_epochs, lambda X, g: self.real_score(X, generation_seeds(cfg, n + g)),
                                      logger=logger, progress=cfg.logging.progress, env_frames=self.frames,
                                      step_offset=cc.dream_epochs + n, resume=progress,
                                      checkpoint=functools.partial(self.save, "refine", x0, sigma, start_frames=start),
                                      stop=lambda h: self.over_budget(h, start))
        cands = finalists(elites, mean, cc.real_finalists)
        scores = self.real_score(cands, selection_seeds(cfg))[0]
        i = int(np.argmax(scores))
        better = bool(scores[i] > max(real["rescored"]))
        print(f"[controller] refinement done in {t.seconds:.1f}s; finalists' mean score on 8 games "
              f"{np.round(scores, 1).tolist()}; keeps {'its best' if better else 'the real phase pick'}")
        return (cands[i] if better else x0), {"history": hist, "rescored": scores.tolist(), "start_sigma": sigma,
                                               "kept": "refinement" if better else "main", "seconds": t.seconds}

    def elite(self, x0: np.ndarray, sigma: float, start: int, n: int, progress: dict | None, real: dict,
              logger: RunLogger) -> tuple[np.ndarray, dict]:
        """``controller.real_refine_search elite``: :func:`run_elite` from the main search's pick; a generation's 3 best
        and the incumbent play 8 fresh games (:func:`challenge_seeds`), the incumbent moves only on a win there, and the
        last incumbent is kept. Why: the CMA-ES mean was never the best finalist (session 40), while 8-12 of 64
        candidates drawn near a trained controller beat it."""
        cfg, cc, t = self.cfg, self.cc, Timer()
        hist, x = run_elite("refine", self.searched(x0), sigma, cfg, cc.real_epochs,
                            lambda X, g: self.real_score(self.full(X), generation_seeds(cfg, n + g)),
                            lambda X, g: self.real_score(self.full(X), challenge_seeds(cfg, g))[0],
                            logger=logger, env_frames=self.frames, step_offset=cc.dream_epochs + n, resume=progress,
                            checkpoint=functools.partial(self.save, "refine", x0, sigma, start_frames=start),
                            stop=lambda h: self.over_budget(h, start, rescore=False), popsize=cc.real_population)
        moves = sum(h["moved"] for h in hist)
        print(f"[controller] elitist refinement done in {t.seconds:.1f}s: the incumbent moved {moves} times in "
              f"{len(hist)} generations")
        return self.full(x), {"history": hist, "search": "elite", "start_sigma": sigma, "moves": moves,
                              "kept": "refinement" if moves else "main", "seconds": t.seconds}

    def run(self) -> dict:
        cfg, cc, out = self.cfg, self.cc, self.paths.controller
        main = len(json.loads(self.saved["real_metrics"])["history"]) if "real_metrics" in self.saved else 0
        if self.state is None:
            last_step = 0
        elif self.running is None:
            last_step = cc.dream_epochs + main
        else:
            last_step = len(self.running["digests"]) + (cc.dream_epochs + main if self.running["name"] != "dream" else 0)
        trim_log(self.paths.log("controller"), last_step)  # drop what the lost part of a killed run logged
        logger = RunLogger(cfg, "controller", self.paths.root)
        record_config(cfg, self.paths.root)
        timer = Timer()
        x = np.zeros(self.ctrl.num_params)
        if cc.init_from:  # iterative training: CMA-ES starts from the previous round's controller
            x = load_controller(Path(cc.init_from), self.device, self.wm.vae.latent_dim, self.wm.mdn.hidden_size,
                                self.wm.mdn.action_dim).get_flat().astype(np.float64)
        if self.cc.inputs == "zh":  # the search moves in B's span around the start: an init_from controller stays whole
            self.offset = x - self.full(self.searched(x))
        else:
            x = self.full(self.searched(x))  # with controller.inputs z, an init_from controller's h weights are dropped
        metrics: dict = {"num_params": self.ctrl.num_params, "searched_params": int(self.searched(x).size)}
        try:
            if cc.dream_epochs > 0:
                x, metrics["dream"] = self.dream_phase(x, logger)
            if cc.select_candidates > 0:
                x, metrics["select"] = self.select_phase(x)
                logger.log({f"controller/select_{k}": v for k, v in metrics["select"].items()
                            if isinstance(v, (int, float))}, step=cc.dream_epochs)
            if cc.real_epochs > 0:
                x, real = self.real_phase(x, logger)
                metrics.update(real)
            elif self.env_steps:
                collected = collection_frames(cfg)
                metrics["env_frames"] = {"collection": collected, "real": self.env_steps * cfg.env.frameskip,
                                         "total": collected + self.env_steps * cfg.env.frameskip}
            save_model(self.ctrl.set_flat(x), out, self.ctrl.config(), "controller")
            logger.log_artifact(out, "controller")
        finally:
            logger.close()
            if self.engine is not None:
                self.engine.close()
        metrics["train_seconds"] = timer.seconds
        metrics["resumed"] = self.state is not None
        atomic_write_json(out / "metrics.json", metrics)
        clear_state(out)
        return metrics


def top_directions(x: torch.Tensor, k: int, what: str) -> np.ndarray:
    """(D, k): the first k principal directions of the rows of x (N, D); k must be in (0, D) (``what`` names the flag
    and the size in the error)."""
    x = x.cpu().numpy().astype(np.float64)
    if not 0 < k < x.shape[1]:
        raise UserError(f"--controller.{what} {x.shape[1]} (got {k})")
    _, _, vt = np.linalg.svd(x - x.mean(0), full_matrices=False)
    return np.ascontiguousarray(vt[:k].T)


def principal_directions(dream: Dream, seed: int, k: int, n: int = 2048) -> np.ndarray:
    """(H, k): the first k principal directions of h over n dream starts drawn with their own seeded generators (so
    neither the run's RNGs nor a resume changes them)."""
    starts = dream.sample_starts(n, np.random.default_rng(seed + 11), torch.Generator(device=dream.device).manual_seed(seed + 11))
    return top_directions(starts.state[0], k, "h_components must be below the MDN-RNN's hidden size")


def mean_directions(dream: Dream, k: int) -> np.ndarray:
    """(Z, k): the first k principal directions of the VAE's means over every frame of the data (the z that real play
    reads; the collapsed dimensions, whose means barely move, fall outside them)."""
    return top_directions(dream.mu, k, "z_components must be below the VAE's latent size")


def cli(argv: list[str] | None = None) -> int:
    return run_cli(main, argv, __doc__.splitlines()[0], sections=SECTIONS)


if __name__ == "__main__":
    sys.exit(cli())

"""Iterative training (World Models section 5): rounds of real play -> more data -> fine-tuned world model
-> controller trained again, so the dream learns the states the controller itself reaches.

The run folder of round k >= 1 is a complete run folder of its own (every script reads it)::

    <run>/rounds/round_01/
        collected/      this round's real games (shards + manifest.json), played by round 0's controller
        data/           every round's shards so far (hard links, a copy where links fail): r00_shard_*, r01_shard_*
        vae/ mdn_rnn/ controller/   fine-tuned from the previous round's (vae.init_from, ...)
        round.json      written last: the round is done (real frames, validation score)
    <run>/rounds/curve.json    validation score against real frames, round 0 (the first pass) included

Round 0 is the ordinary pipeline in ``<run>``. A killed run resumes at the round (and inside the round at
the phase, shard, epoch or generation) where it stopped. The orchestration lives in train_world_model.py
(which may call the phases' ``main``); this module holds the pieces.
"""

from __future__ import annotations

import copy
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from config import Config
from utils.data import MANIFEST, HeldRandomPolicy, collect_with_policy, complete_manifest, data_signature
from utils.evaluation import describe_actions, evaluate_on
from utils.io import atomic_path, atomic_write_json, read_json
from utils.resume import file_digest
from utils.rollout import Models, controller_spec, make_engine
from utils.run_paths import RunPaths
from utils.world_model import WorldModel, WorldModelPolicy
from utils.wrappers import num_actions

ROUND_FILE = "round.json"
CURVE_FILE = "curve.json"


def round_dir(root: Path, k: int) -> Path:
    """Round k's run folder (round 0 is the run folder itself)."""
    return root if k == 0 else root / "rounds" / f"round_{k:02d}"


def round_seed(seed: int, k: int) -> int:
    """The seed of round k's real games and exploration (apart from collection's and evaluation's)."""
    return int(np.random.SeedSequence([seed, 7_000 + k]).generate_state(1)[0] % (2**31 - 1))


def round_config(cfg: Config, k: int) -> Config:
    """The config of round k >= 1: its own run folder, everything fine-tuned from round k - 1."""
    prev = RunPaths(round_dir(cfg.run_path, k - 1))
    it = cfg.iterate
    r = copy.deepcopy(cfg)
    r.run_dir, r.data.dir, r.restart = str(round_dir(cfg.run_path, k)), "", False
    r.vae.num_epochs, r.vae.init_from = it.vae_epochs, str(prev.vae)
    r.mdn_rnn.num_epochs, r.mdn_rnn.init_from = it.mdn_rnn_epochs, str(prev.mdn_rnn)
    r.controller.dream_epochs, r.controller.real_epochs = it.dream_epochs, it.real_epochs
    r.controller.real_frames = 0  # a budget of the first pass, not of each round's own folder
    r.controller.init_from = str(prev.controller)
    return r


class EpsilonHeld:
    """Exploration on top of a controller: per step, unless a random action is being held, switch with
    probability ``epsilon`` to the collection's random policy (:class:`utils.data.HeldRandomPolicy`: a
    uniform action held ``hold_min..hold_max`` steps). Each job (episode) draws from its own RNG, so the
    games do not depend on the emulator count."""

    def __init__(self, n_actions: int, epsilon: float, hold_min: int, hold_max: int, seed: int, episode_ids: np.ndarray,
                 alpha: float = 0.0):
        self.args, self.eps, self.seed, self.ids, self.alpha = (n_actions, hold_min, hold_max), epsilon, seed, episode_ids, alpha
        self.held: dict[int, HeldRandomPolicy] = {}  # per emulator, for the job it plays
        self.random_steps = 0

    def start(self, envs: np.ndarray, jobs: np.ndarray) -> None:
        for e, j in zip(envs, jobs):
            self.held[int(e)] = HeldRandomPolicy(*self.args, np.random.default_rng([self.seed, int(self.ids[int(j)]), 2]),
                                                 self.alpha)

    def __call__(self, actions: np.ndarray, envs: np.ndarray) -> np.ndarray:
        out = np.asarray(actions, dtype=np.int64).copy()
        for i, e in enumerate(envs):
            p = self.held[int(e)]
            if p.left > 0 or p.rng.random() < self.eps:  # holding, or a new random hold starts now
                out[i] = p()
                self.random_steps += 1
        return out


@dataclass
class Exploring:
    """The rollout engine's spec of a controller (``params`` (1, n)) played with :class:`EpsilonHeld`
    exploration; job k plays episode ``episode_ids[k]``."""

    params: np.ndarray
    n_actions: int
    epsilon: float
    hold_min: int
    hold_max: int
    seed: int
    episode_ids: np.ndarray
    alpha: float = 0.0

    def build(self, models: Models | None, jobs: np.ndarray) -> WorldModelPolicy:
        assert models is not None
        explore = EpsilonHeld(self.n_actions, self.epsilon, self.hold_min, self.hold_max, self.seed, self.episode_ids[jobs],
                              self.alpha)
        return WorldModelPolicy(models.vae, models.mdn, torch.as_tensor(self.params), explore=explore)


def collect_round(cfg: Config, k: int, wm: WorldModel, progress: bool) -> dict[str, Any]:
    """Round k's real games, played by round k - 1's controller (``wm``) with exploration, into
    ``round_k/collected/`` (at least ``iterate.frames_per_round`` frames)."""
    it, dc = cfg.iterate, cfg.data
    assert wm.controller is not None
    x = np.asarray(wm.controller.get_flat(), dtype=np.float32)[None]
    seed = round_seed(cfg.seed, k)
    prev = RunPaths(round_dir(cfg.run_path, k - 1))
    signature = {**data_signature(cfg), "round": k, "epsilon": it.epsilon, "frames_per_round": it.frames_per_round,
                 "controller": file_digest(prev.controller / "model.safetensors")}
    if it.action_alpha:  # off: the signature of rounds collected before the setting existed
        signature["action_alpha"] = it.action_alpha

    def spec(episode_ids: np.ndarray) -> Exploring:
        return Exploring(x, num_actions(cfg.env), it.epsilon, dc.action_hold_min, dc.action_hold_max, seed, episode_ids,
                         it.action_alpha)

    return collect_with_policy(cfg, round_dir(cfg.run_path, k) / "collected", spec, seed, signature, it.frames_per_round,
                               progress, models=Models(wm.vae, wm.mdn))


def _link(src: Path, dst: Path) -> None:
    """dst becomes src's content: a hard link (no space), or a copy across file systems; atomic either way."""
    if dst.exists() and dst.stat().st_size == src.stat().st_size:
        return
    with atomic_path(dst) as tmp:
        tmp.unlink(missing_ok=True)
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)


def assemble_round_data(cfg: Config, k: int) -> dict[str, Any]:
    """``round_k/data/``: round k - 1's data plus round k's collected games, each shard tagged with its round."""
    prev_paths = RunPaths.of(cfg) if k == 1 else RunPaths(round_dir(cfg.run_path, k - 1))
    prev = complete_manifest(prev_paths.data)
    here = round_dir(cfg.run_path, k)
    collected = complete_manifest(here / "collected")
    out = here / "data"
    out.mkdir(parents=True, exist_ok=True)
    shards = []
    for s in prev["shards"]:
        name = s["file"] if "round" in s else f"r00_{s['file']}"
        _link(prev_paths.data / s["file"], out / name)
        shards.append({**s, "file": name, "round": s.get("round", 0)})
    for s in collected["shards"]:
        name = f"r{k:02d}_{s['file']}"
        _link(here / "collected" / s["file"], out / name)
        shards.append({**s, "file": name, "round": k})
    frames = {}
    for s in shards:
        frames[str(s["round"])] = frames.get(str(s["round"]), 0) + s["steps"] * cfg.env.frameskip
    manifest = {"signature": data_signature(cfg), "shards": shards, "complete": True, "rounds": frames}
    atomic_write_json(out / MANIFEST, manifest)
    return manifest


def keep_vae(cfg: Config, k: int) -> None:
    """``iterate.vae_epochs 0``: round k's VAE is round k - 1's, copied file by file (z does not move)."""
    src, out = RunPaths(round_dir(cfg.run_path, k - 1)).vae, RunPaths(round_dir(cfg.run_path, k)).vae
    shutil.copytree(src, out, dirs_exist_ok=True)


def real_frames_of(cfg: Config, k: int) -> int:
    """Emulator frames of real play that round k used for training: its collection (round 0: the random
    data) and its controller's real-game CMA-ES, if any."""
    paths = RunPaths(round_dir(cfg.run_path, k))
    data = paths.root / "collected" if k else RunPaths.of(cfg).data
    frames = sum(s["steps"] for s in read_json(data / MANIFEST, "data manifest")["shards"]) * cfg.env.frameskip
    metrics = read_json(paths.controller / "metrics.json", "controller metrics")
    return int(frames + metrics.get("env_frames", {}).get("real", 0))


def validate_round(cfg: Config, k: int, device: torch.device) -> dict[str, Any]:
    """Round k's controller on the validation games (not the evaluation games), on the rollout engine."""
    wm = WorldModel.load(round_dir(cfg.run_path, k), device, env=cfg.env)
    seeds = [cfg.baselines.validation_seed + i for i in range(cfg.iterate.eval_episodes)]
    with make_engine(cfg, cfg.eval.num_envs or None, Models(wm.vae, wm.mdn)) as engine:
        return evaluate_on(engine, controller_spec(wm), cfg.env, seeds)


def finish_round(cfg: Config, k: int, device: torch.device, seconds: float) -> dict[str, Any]:
    """Score round k, write its ``round.json`` (last: the round is done) and the curve so far."""
    frames = real_frames_of(cfg, k)
    curve = [c for c in read_curve(cfg.run_path) if c["round"] < k]
    total = frames + (curve[-1]["real_frames_total"] if k else 0)  # curve[-1] is round k - 1
    val = validate_round(cfg, k, device)
    top = max(val["action_share"], key=val["action_share"].get) if "action_share" in val else describe_actions(val)
    rec = {"round": k, "real_frames": frames, "real_frames_total": total, "validation_mean": val["mean"],
           "validation_std": val["std"], "validation_games": val["num_episodes"], "top_action": top,
           "top_action_share": val["action_share"][top] if "action_share" in val else None, "seconds": round(seconds, 1)}
    atomic_write_json(cfg.run_path / "rounds" / CURVE_FILE, [*curve, rec])
    atomic_write_json(round_record(cfg.run_path, k), rec)
    return rec


def read_curve(root: Path) -> list[dict[str, Any]]:
    path = root / "rounds" / CURVE_FILE
    return read_json(path, "iterative-training curve") if path.exists() else []


def round_record(root: Path, k: int) -> Path:
    """Where round k's record lives (round 0's beside the curve: its folder is the run folder)."""
    return round_dir(root, k) / ROUND_FILE if k else root / "rounds" / "round_00.json"


def finished_round(root: Path, k: int) -> dict[str, Any] | None:
    path = round_record(root, k)
    return read_json(path, f"round {k} record") if path.exists() else None


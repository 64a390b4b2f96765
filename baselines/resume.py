"""Resuming a baseline's training after a kill: a checkpoint after every periodic evaluation in
``<algo dir>/resume/`` (the SB3 zip read back as tensors only, the replay buffer as plain arrays, counters,
monitor and RNG states as JSON), written so that a kill at any moment leaves one complete checkpoint."""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm

from baselines.buffer import FrameStackReplayBuffer
from baselines.checkpoints import save_checkpoint
from config import Config
from utils.io import UserError, atomic_path, atomic_write_json
from utils.run_paths import RunPaths

RESUME_DIR = "resume"
# Settings a resumed run may change; every other env, baselines and algorithm field must match.
_RESUME_FREE = {"env.num_threads", "env.frame_size", "baselines.eval_envs"}
# Plain counters of SB3's algorithms that schedules, target updates and warm-up depend on.
_COUNTERS = ("num_timesteps", "_n_updates", "_episode_num", "_n_calls", "exploration_rate",
             "_current_progress_remaining")


def resume_settings(cfg: Config, algo: str) -> dict[str, Any]:
    """The settings a resume checkpoint must share with the command that continues it (dotted name -> value)."""
    out: dict[str, Any] = {"seed": cfg.seed}
    for name, section in (("env", cfg.env), ("baselines", cfg.baselines), (algo, getattr(cfg, algo))):
        out |= {f"{name}.{k}": v for k, v in asdict(section).items() if f"{name}.{k}" not in _RESUME_FREE}
    return out


def rng_state(model: BaseAlgorithm) -> dict[str, Any]:
    """Python, NumPy, torch (and CUDA) generators and the action space's (random warm-up actions), as JSON."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()  # type: ignore[misc]
    version, internal, gauss_next = random.getstate()
    return {"python": [version, list(internal), gauss_next], "numpy": [name, keys.tolist(), pos, has_gauss, gauss],
            "torch": th.get_rng_state().tolist(),
            "cuda": [s.tolist() for s in th.cuda.get_rng_state_all()] if th.cuda.is_available() else [],
            "action_space": model.action_space.np_random.bit_generator.state}


def set_rng_state(model: BaseAlgorithm, state: dict[str, Any]) -> None:
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    name, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
    th.set_rng_state(th.tensor(state["torch"], dtype=th.uint8))
    if state["cuda"] and th.cuda.is_available() and len(state["cuda"]) == th.cuda.device_count():
        th.cuda.set_rng_state_all([th.tensor(s, dtype=th.uint8) for s in state["cuda"]])
    model.action_space.np_random.bit_generator.state = state["action_space"]


def save_resume(monitor: Any) -> Path:
    """Write ``<algo dir>/resume/``: the model zip and (DDQN, SAC) the replay buffer under names carrying
    the step count, then ``state.json`` (counters, monitor, RNG, settings) last, then remove the previous
    checkpoint's files. Each file is written atomically and state.json names the files it goes with, so a
    kill at any moment leaves one complete checkpoint, the old or the new."""
    model, folder = monitor.model, monitor.out / RESUME_DIR
    steps = int(model.num_timesteps)
    files = {"model": f"model_{steps}.zip"}
    save_checkpoint(model, folder / files["model"])
    buffer = getattr(model, "replay_buffer", None)
    if isinstance(buffer, FrameStackReplayBuffer):
        files["buffer"] = f"buffer_{steps}.npz"
        with atomic_path(folder / files["buffer"]) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, **buffer.state_arrays())  # Atari frames shrink ~40x: 100k in ~20 MB
    state = {"algo": monitor.algo, "settings": resume_settings(monitor.cfg, monitor.algo), "files": files,
             "model": {k: getattr(model, k) for k in _COUNTERS if hasattr(model, k)},
             "monitor": monitor.state(), "rng": rng_state(model)}
    atomic_write_json(folder / "state.json", state)
    for path in folder.iterdir():  # the previous checkpoint and temporary files of a killed save
        if path.name not in {"state.json", *files.values()}:
            path.unlink(missing_ok=True)
    return folder


def read_resume(cfg: Config, algo: str) -> dict[str, Any] | None:
    """The state of the resume checkpoint to continue from, or None to start fresh (none there, or
    ``--restart``); a checkpoint made with other settings is an error that names them."""
    from utils.resume import diff

    path = RunPaths.of(cfg).baseline(algo) / RESUME_DIR / "state.json"
    if cfg.restart or not path.is_file():
        return None
    try:
        state = json.loads(path.read_text())
        saved = state["settings"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as e:
        raise UserError(f"resume checkpoint {path} is corrupt ({type(e).__name__}); pass --restart to start over") from None
    if diffs := diff(saved, resume_settings(cfg, algo)):
        raise UserError(f"{path} was saved by a {algo} run with a different config ({'; '.join(diffs[:3])}); "
                        "rerun with the original settings to resume, or pass --restart to start over")
    return state


def restore_resume(model: BaseAlgorithm, folder: Path, state: dict[str, Any], seed: int) -> None:
    """Load a resume checkpoint into ``model``, freshly built from the same config.

    Only the zip's tensors are read (torch ``weights_only``: weights and optimizer states); its pickled
    fields never are, so nothing is unpickled and the schedules are the config's, driven by the restored
    ``num_timesteps`` against the same total. The replay buffer comes from plain ``.npz`` arrays. The
    emulators' states cannot be saved: games in progress at the checkpoint are lost (their last stored
    transition becomes terminal) and new games start, seeded with ``seed`` + steps done so they differ
    from the first run's.
    """
    import zipfile

    from stable_baselines3.common.save_util import load_from_zip_file, recursive_setattr

    try:
        files = state["files"]
        _, params, variables = load_from_zip_file(folder / files["model"], load_data=False, device=model.device)
        model.set_parameters(params, exact_match=True)
        for name, value in (variables or {}).items():
            recursive_setattr(model, f"{name}.data", value.data)
        if "buffer" in files:
            with np.load(folder / files["buffer"], allow_pickle=False) as arrays:
                model.replay_buffer.load_arrays(arrays)  # type: ignore[union-attr]
            model.replay_buffer.end_episodes()  # type: ignore[union-attr]
        for k, v in state["model"].items():
            setattr(model, k, v)
        set_rng_state(model, state["rng"])
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, zipfile.BadZipFile) as e:  # zip, torch, numpy
        raise UserError(f"resume checkpoint in {folder} cannot be loaded ({type(e).__name__}: {str(e)[:120]}); "
                        "pass --restart to start over") from None
    model.env.seed(seed + model.num_timesteps)  # type: ignore[union-attr]

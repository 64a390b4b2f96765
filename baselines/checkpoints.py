"""Baseline checkpoints: the algorithms by name, saving, and loading SB3 zips without unpickling anything."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm

from baselines.buffer import FrameStackReplayBuffer
from utils.io import UserError, atomic_path

ALGORITHMS = ("ddqn", "ppo", "sac")


def algo_module(algo: str):
    if algo not in ALGORITHMS:
        raise UserError(f"unknown algorithm {algo!r}; choose from {', '.join(ALGORITHMS)}")
    return importlib.import_module(f"baselines.{algo}")


# Fields SB3 stores cloudpickled inside a checkpoint's JSON, and what replaces them when a checkpoint is
# loaded for playing: nothing from the file is unpickled.
_PLAY_ONLY = {"_last_obs": None, "_last_episode_starts": None, "_last_original_obs": None, "ep_info_buffer": None,
              "ep_success_buffer": None, "learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": 0.1,
              "exploration_schedule": lambda _: 0.0}


def model_class(algo: str, action_space: spaces.Space) -> type[BaseAlgorithm]:
    """The SB3 class that plays ``algo`` on this action space (a continuous one: the module's CONTINUOUS_MODEL_CLASS)."""
    module = algo_module(algo)
    if isinstance(action_space, spaces.Box):
        if not hasattr(module, "CONTINUOUS_MODEL_CLASS"):
            raise UserError(f"{algo.upper()} needs discrete actions; this game's are continuous")
        return module.CONTINUOUS_MODEL_CLASS
    return module.MODEL_CLASS


def _action_space(value: dict[str, Any], algo: str, path: Path) -> spaces.Space:
    """The action space from the readable part of a checkpoint's JSON: ``n`` (Discrete) or ``low``/``high`` (Box)."""
    if "n" in value:
        return spaces.Discrete(int(value["n"]))
    low, high = str(value.get("low", "")), str(value.get("high", ""))
    if "_shape" not in value or not low or "..." in low + high:
        raise UserError(f"{algo} checkpoint {path} has no readable action space; it is corrupt")
    shape = tuple(value["_shape"])
    return spaces.Box(np.fromstring(low.strip("[]"), sep=" ").reshape(shape).astype(np.float32),
                      np.broadcast_to(np.fromstring(high.strip("[]"), sep=" "), shape).astype(np.float32))


def safe_custom_objects(algo: str, path: Path) -> dict[str, Any]:
    """Replacements for every pickled field of an SB3 zip, built from its readable JSON (spaces) and our
    own classes; an unexpected pickled field is refused."""
    import json
    import zipfile

    from stable_baselines3.common.buffers import RolloutBuffer
    from stable_baselines3.common.type_aliases import TrainFreq, TrainFrequencyUnit

    try:
        with zipfile.ZipFile(path) as z:
            data = json.loads(z.read("data"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{algo} checkpoint {path} cannot be read ({type(e).__name__}); it is corrupt") from None
    action_space = _action_space(data.get("action_space", {}), algo, path)
    cls = model_class(algo, action_space)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if not (isinstance(value, dict) and ":serialized:" in value):
            continue
        if key == "policy_class":
            out[key] = cls.policy_aliases["CnnPolicy"]
        elif key == "policy_kwargs" and isinstance(action_space, spaces.Box):
            out[key] = dict(algo_module(algo).CONTINUOUS_POLICY_KWARGS)
        elif key == "observation_space":
            out[key] = spaces.Box(0, 255, tuple(value["_shape"]), np.uint8)
        elif key == "action_space":
            out[key] = action_space
        elif key == "replay_buffer_class":
            out[key] = FrameStackReplayBuffer
        elif key == "rollout_buffer_class":
            out[key] = RolloutBuffer
        elif key == "train_freq":
            out[key] = TrainFreq(4, TrainFrequencyUnit.STEP)
        elif key in _PLAY_ONLY:
            out[key] = _PLAY_ONLY[key]
        else:
            raise UserError(f"{path} holds an unexpected pickled field {key!r}; refusing to load it")
    return out


def load_model(algo: str, path: Path, device: str = "cpu") -> BaseAlgorithm:
    """Load a checkpoint of ``algo`` to play, with a clear error if it is missing, corrupt or of another
    algorithm.

    No pickled field of the file is unpickled (see :func:`safe_custom_objects`) and tensors load with
    ``weights_only``, whether the file was trained here or downloaded; training the loaded model
    further would use placeholder schedules (resuming training reads its own checkpoint instead).
    """
    algo_module(algo)  # a clear error for an unknown algorithm
    if not path.is_file():
        raise UserError(f"{algo} checkpoint not found: {path}; train it first (python -m baselines.{algo} --mode train)")
    custom = safe_custom_objects(algo, path)
    cls = model_class(algo, custom.get("action_space", spaces.Discrete(1)))
    try:
        model = cls.load(path, device=device, custom_objects=custom)
    except Exception as e:  # zipfile/pickle/torch errors all mean the same to the user
        raise UserError(f"{algo} checkpoint {path} cannot be loaded ({type(e).__name__}: {str(e)[:120]}); "
                        "it is corrupt or from another algorithm") from None
    if type(model) is not cls:
        raise UserError(f"{path} holds a {type(model).__name__}, not a {cls.__name__} ({algo})")
    return model


def save_checkpoint(model: BaseAlgorithm, path: Path) -> None:
    with atomic_path(path) as tmp:
        model.save(tmp)

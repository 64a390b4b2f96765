"""What the model-free baselines (DDQN, PPO, SAC) share: Atari preprocessing, a compact uint8 replay
buffer, seeded full-game evaluation, the training loop with its log and checkpoints, and the CLI.

Preprocessing is SB3's standard Atari stack (no-op starts, frame skip 4 with max-pool, 84x84 grey,
4 stacked frames; reward clipping and life-loss terminals for training only) over the same game
settings as the World Models agent: ``ALE/<Game>-v5`` with sticky actions 0.25. v5 skips 4 frames
itself, so the env is made with ``frameskip=1`` and SB3's AtariWrapper does the skipping (otherwise
frames would be skipped twice).

A run of algorithm ``algo`` lives in ``<run_dir>/baselines/<algo>/``::

    config.json        resolved config
    final_model.zip    SB3 checkpoint at the end of training
    best_model.zip     the checkpoint that scored best on the validation games
    logs/train.jsonl   one line per finished training game: raw score vs env frames
    logs/eval.jsonl    one line per periodic evaluation: validation mean/std vs env frames
    metrics.json       budget used, wall time, best/final validation scores
    eval/results.json  written by ``--mode eval``: seeded full games, raw score
    resume/            while training: the latest resume checkpoint (removed once metrics.json is written)

Training is resumable: after every periodic evaluation a resume checkpoint is written (see
:func:`save_resume`), and rerunning the same command continues from it; ``--restart`` starts over.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import random
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.atari_wrappers import AtariWrapper
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecEnv, VecFrameStack, VecNormalize

from config import AlgoConfig, Config, EnvConfig
from utils.io import UserError, atomic_path, atomic_write_json
from utils.runner import EpisodeStats
from utils.wrappers import register_ale, rom_name

ALGORITHMS = ("ddqn", "ppo", "sac")
N_STACK = 4


# --------------------------------------------------------------------------- environments


def make_baseline_env(env_cfg: EnvConfig, n_envs: int, seed: int, training: bool) -> VecEnv:
    """``n_envs`` preprocessed copies of the game; ``training=False`` gives raw-score full games."""
    rom_name(env_cfg.env_id)  # clear error for a bad id
    register_ale()
    env = make_atari_env(
        env_cfg.env_id,
        n_envs=n_envs,
        seed=seed,
        env_kwargs={"frameskip": 1, "repeat_action_probability": env_cfg.repeat_action_probability,
                    "max_num_frames_per_episode": env_cfg.max_episode_frames},
        wrapper_kwargs={"frame_skip": env_cfg.frameskip, "terminal_on_life_loss": training, "clip_reward": training},
    )
    return VecFrameStack(env, n_stack=N_STACK)


def make_eval_game(env_cfg: EnvConfig, render_mode: str | None = None) -> gym.Env:
    """One evaluation game: the wrappers of :func:`make_baseline_env` with ``training=False``
    (full game, raw score), without the vectorisation, so each game can be reset with its own seed."""
    rom_name(env_cfg.env_id)
    register_ale()
    env = gym.make(env_cfg.env_id, frameskip=1, repeat_action_probability=env_cfg.repeat_action_probability,
                   max_num_frames_per_episode=env_cfg.max_episode_frames, render_mode=render_mode)
    return AtariWrapper(env, frame_skip=env_cfg.frameskip, terminal_on_life_loss=False, clip_reward=False)


class SB3Policy:
    """Adapts an SB3 model to the episode runners' Policy protocol, stacking frames as VecFrameStack
    does (zeros at the start of a game, newest frame last)."""

    def __init__(self, model: BaseAlgorithm, deterministic: bool):
        self.model, self.deterministic = model, deterministic

    def reset(self, num_envs: int) -> None:
        self.stacks: np.ndarray | None = None
        self.fresh = np.ones(num_envs, dtype=bool)

    def start(self, envs: np.ndarray, jobs: np.ndarray) -> None:
        self.fresh[envs] = True

    def act(self, frames: np.ndarray) -> np.ndarray:
        """(N, 84, 84, 1) frames -> (N,) actions."""
        if self.stacks is None:
            self.stacks = np.zeros((*frames.shape[:-1], N_STACK * frames.shape[-1]), dtype=np.uint8)
        self.stacks[self.fresh] = 0
        self.fresh[:] = False
        self.stacks = np.roll(self.stacks, -frames.shape[-1], axis=-1)
        self.stacks[..., -frames.shape[-1]:] = frames
        actions, _ = self.model.predict(self.stacks, deterministic=self.deterministic)
        return actions


def play_games(make_env: Callable[[], gym.Env], policy: Any, seeds: list[int] | np.ndarray,
               num_envs: int = 8) -> EpisodeStats:
    """Play one full game per seed (game k reset with ``seeds[k]``), ``num_envs`` at a time, with one
    batched ``policy.act`` per step: :func:`utils.runner.run_episodes` for single gymnasium envs
    (any wrappers), used for the SB3 agents' own preprocessing."""
    seeds = [int(s) for s in seeds]
    K, n = len(seeds), min(num_envs, len(seeds))
    returns, lengths = np.zeros(K), np.zeros(K, dtype=np.int64)
    terminated = np.zeros(K, dtype=bool)
    envs = [make_env() for _ in range(n)]
    counts = np.zeros(int(envs[0].action_space.n), dtype=np.int64)  # type: ignore[attr-defined]
    job = np.full(n, -1)
    next_job, steps = 0, 0
    obs: list[np.ndarray] = [np.empty(0)] * n
    policy.reset(n)

    def begin(e: int) -> None:
        nonlocal next_job
        if next_job >= K:
            job[e] = -1  # idle: keeps acting on its last frame, nothing is counted
            return
        obs[e], _ = envs[e].reset(seed=seeds[next_job])
        job[e] = next_job
        policy.start(np.array([e]), np.array([next_job]))
        next_job += 1

    try:
        for e in range(n):
            begin(e)
        while (job >= 0).any():
            active = np.flatnonzero(job >= 0)
            actions = np.asarray(policy.act(np.stack(obs)))
            counts += np.bincount(actions[active], minlength=len(counts))
            steps += 1
            for e in active:
                obs[e], r, term, trunc, _ = envs[e].step(int(actions[e]))
                returns[job[e]] += float(r)
                lengths[job[e]] += 1
                if term or trunc:
                    terminated[job[e]] = term
                    begin(e)
    finally:
        for env in envs:
            env.close()
    return EpisodeStats(returns, lengths, terminated, steps * n, counts)


def evaluate_model(model: BaseAlgorithm, env_cfg: EnvConfig, seeds: list[int], deterministic: bool,
                   num_envs: int = 8) -> dict[str, Any]:
    """Seeded full games (raw score, no life-loss resets) with the preprocessing the model trained on."""
    from evaluate import summarize

    stats = play_games(lambda: make_eval_game(env_cfg), SB3Policy(model, deterministic), seeds, num_envs)
    out = summarize(stats.returns, stats.lengths, seeds)
    share = stats.action_counts / max(1, stats.action_counts.sum())
    out["action_share"] = [round(float(s), 4) for s in share]
    return out


# --------------------------------------------------------------------------- replay buffer


class FrameStackReplayBuffer(ReplayBuffer):
    """A uint8 replay buffer that stores each observation's newest frame once (84x84 bytes) and
    rebuilds the 4-frame stacks when sampling, zero-filled at episode starts exactly as VecFrameStack
    fills them. 100k transitions take 0.7 GB (SB3's ReplayBuffer keeps whole stacks: 2.8 GB with
    ``optimize_memory_usage``, 5.6 GB without). A test checks the rebuilt stacks against the env's.
    """

    def __init__(self, buffer_size: int, observation_space: spaces.Space, action_space: spaces.Space,
                 device: th.device | str = "auto", n_envs: int = 1, optimize_memory_usage: bool = False,
                 handle_timeout_termination: bool = False):
        # BaseBuffer's init only; ReplayBuffer's would allocate full stacks.
        super(ReplayBuffer, self).__init__(buffer_size, observation_space, action_space, device, n_envs=n_envs)
        assert isinstance(observation_space, spaces.Box) and len(self.obs_shape) == 3, "expects (stack, H, W) images"
        self.stack = self.obs_shape[0]
        if buffer_size <= self.stack + 1:
            raise UserError(f"replay buffer of {buffer_size} transitions is too small (needs > {self.stack + 1})")
        self.optimize_memory_usage = True  # next observations are the following slot, as SB3's option
        self.handle_timeout_termination = False
        self.frames = np.zeros((buffer_size, n_envs, *self.obs_shape[1:]), dtype=observation_space.dtype)
        self.depth = np.zeros((buffer_size, n_envs), dtype=np.int8)  # frames of the stack from this episode
        self.actions = np.zeros((buffer_size, n_envs, self.action_dim), dtype=self._maybe_cast_dtype(action_space.dtype))
        self.rewards = np.zeros((buffer_size, n_envs), dtype=np.float32)
        self.dones = np.zeros((buffer_size, n_envs), dtype=np.float32)
        self.timeouts = np.zeros((buffer_size, n_envs), dtype=np.float32)
        self._depth_now = np.ones(n_envs, dtype=np.int8)  # depth of the next observation added

    @property
    def nbytes(self) -> int:
        return self.frames.nbytes + self.depth.nbytes + self.actions.nbytes + self.rewards.nbytes + self.dones.nbytes

    def add(self, obs: np.ndarray, next_obs: np.ndarray, action: np.ndarray, reward: np.ndarray, done: np.ndarray,
            infos: list[dict[str, Any]]) -> None:
        nxt = (self.pos + 1) % self.buffer_size
        self.frames[self.pos] = obs[:, -1]
        self.depth[self.pos] = self._depth_now
        self.frames[nxt] = next_obs[:, -1]  # overwritten by the next add, as with optimize_memory_usage
        self.depth[nxt] = np.minimum(self._depth_now + 1, self.stack)
        self.actions[self.pos] = np.asarray(action).reshape((self.n_envs, self.action_dim))
        self.rewards[self.pos] = reward
        self.dones[self.pos] = done
        self._depth_now = np.where(done, 1, np.minimum(self._depth_now + 1, self.stack)).astype(np.int8)
        self.pos = nxt
        if self.pos == 0:
            self.full = True

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The filled part of the buffer and its write position, for ``np.savez`` (plain arrays, no pickle)."""
        n = self.buffer_size if self.full else self.pos
        return {"frames": self.frames[:n], "depth": self.depth[:n], "actions": self.actions[:n],
                "rewards": self.rewards[:n], "dones": self.dones[:n], "pos": np.array(self.pos),
                "full": np.array(self.full), "depth_now": self._depth_now}

    def load_arrays(self, arrays: Any) -> None:
        """Inverse of :meth:`state_arrays` (``arrays``: a mapping such as ``np.load``'s NpzFile)."""
        frames = arrays["frames"]
        n = len(frames)
        if frames.shape[1:] != self.frames.shape[1:] or n > self.buffer_size or n != len(arrays["dones"]):
            raise ValueError(f"replay buffer of shape {frames.shape} does not fit {self.frames.shape}")
        for name in ("frames", "depth", "actions", "rewards", "dones"):
            getattr(self, name)[:n] = arrays[name]
        self.pos, self.full = int(arrays["pos"]), bool(arrays["full"])
        self._depth_now = arrays["depth_now"].astype(np.int8)

    def end_episodes(self) -> None:
        """End the games in progress (a resumed run starts new ones): the last transition becomes terminal,
        as a life loss or a time limit is, so no target bootstraps from the next game's first frame and no
        stack mixes two games."""
        if self.pos or self.full:
            self.dones[(self.pos - 1) % self.buffer_size] = 1.0
        self._depth_now[:] = 1

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> ReplayBufferSamples:
        if self.full:
            # Skip the write head: slot pos has no next frame yet and slots pos+1..pos+stack-1 would
            # stack frames across it.
            batch_inds = (np.random.randint(0, self.buffer_size - self.stack, size=batch_size) + self.pos + self.stack) % self.buffer_size
        else:
            batch_inds = np.random.randint(0, self.pos, size=batch_size)
        return self._get_samples(batch_inds, env)

    def stacked(self, inds: np.ndarray, env_inds: np.ndarray) -> np.ndarray:
        """(B, stack, H, W) observations at slots ``inds`` of envs ``env_inds``."""
        offsets = np.arange(-self.stack + 1, 1)  # oldest .. newest
        slots = (inds[:, None] + offsets) % self.buffer_size
        out = self.frames[slots, env_inds[:, None]]
        keep = (-offsets)[None, :] < self.depth[inds, env_inds][:, None]  # frame k back is valid if k < depth
        out[~keep] = 0
        return out

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> ReplayBufferSamples:
        env_inds = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))
        next_inds = (batch_inds + 1) % self.buffer_size
        data = (
            self.stacked(batch_inds, env_inds),
            self.actions[batch_inds, env_inds, :],
            self.stacked(next_inds, env_inds),
            self.dones[batch_inds, env_inds].reshape(-1, 1),
            self.rewards[batch_inds, env_inds].reshape(-1, 1),
        )
        return ReplayBufferSamples(*tuple(map(self.to_torch, data)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- training


def algo_dir(cfg: Config, algo: str) -> Path:
    return cfg.run_path / "baselines" / algo


def algo_config(cfg: Config, algo: str) -> AlgoConfig:
    return getattr(cfg, algo)


def total_timesteps(cfg: Config, algo: str) -> int:
    """Agent steps to train: the algorithm's own total_timesteps, else the shared frame budget."""
    ac = algo_config(cfg, algo)
    return ac.total_timesteps or max(1, cfg.baselines.frame_budget // cfg.env.frameskip)


def algo_module(algo: str):
    if algo not in ALGORITHMS:
        raise UserError(f"unknown algorithm {algo!r}; choose from {', '.join(ALGORITHMS)}")
    return importlib.import_module(f"baselines.{algo}")


# Fields SB3 stores cloudpickled inside a checkpoint's JSON, and what replaces them when a checkpoint is
# loaded for playing: nothing from the file is unpickled.
_PLAY_ONLY = {"_last_obs": None, "_last_episode_starts": None, "_last_original_obs": None, "ep_info_buffer": None,
              "ep_success_buffer": None, "learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": 0.1,
              "exploration_schedule": lambda _: 0.0}


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
    module = algo_module(algo)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if not (isinstance(value, dict) and ":serialized:" in value):
            continue
        if key == "policy_class":
            out[key] = module.MODEL_CLASS.policy_aliases["CnnPolicy"]
        elif key == "observation_space":
            out[key] = spaces.Box(0, 255, tuple(value["_shape"]), np.uint8)
        elif key == "action_space":
            out[key] = spaces.Discrete(int(value["n"]))
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
    module = algo_module(algo)
    if not path.is_file():
        raise UserError(f"{algo} checkpoint not found: {path}; train it first (python -m baselines.{algo} --mode train)")
    custom = safe_custom_objects(algo, path)
    try:
        model = module.MODEL_CLASS.load(path, device=device, custom_objects=custom)
    except Exception as e:  # zipfile/pickle/torch errors all mean the same to the user
        raise UserError(f"{algo} checkpoint {path} cannot be loaded ({type(e).__name__}: {str(e)[:120]}); "
                        "it is corrupt or from another algorithm") from None
    if type(model) is not module.MODEL_CLASS:
        raise UserError(f"{path} holds a {type(model).__name__}, not a {module.MODEL_CLASS.__name__} ({algo})")
    return model


class TrainingMonitor(BaseCallback):
    """Logs every finished training game (raw score from SB3's Monitor, under the life-loss and
    clipping wrappers), evaluates on validation games every ``eval_freq_frames``, keeps the best
    checkpoint, writes a resume checkpoint after each evaluation, and stops after ``max_episodes``
    games if asked."""

    STATE = ("episodes", "next_eval", "best_mean", "best_frames", "last_eval_frames", "history")

    def __init__(self, cfg: Config, algo: str, out: Path, logger: Any):
        from utils.common import Timer

        super().__init__()
        self.cfg, self.algo, self.out, self.run_logger = cfg, algo, out, logger
        self.frameskip = cfg.env.frameskip
        self.max_episodes = algo_config(cfg, algo).num_episodes
        self.episodes = 0
        self.next_eval = cfg.baselines.eval_freq_frames
        self.best_mean = -math.inf
        self.best_frames = 0
        self.last_eval_frames = -1
        self.history: list[dict[str, float]] = []
        self.seeds = [cfg.baselines.validation_seed + i for i in range(cfg.baselines.periodic_eval_episodes)]
        self.checkpoint_due = False
        self.timer, self.seconds_before = Timer(), 0.0

    @property
    def frames(self) -> int:
        return self.num_timesteps * self.frameskip

    @property
    def seconds(self) -> float:
        """Training time so far, earlier runs of a resumed training included."""
        return self.seconds_before + self.timer.seconds

    def state(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.STATE} | {"train_seconds": self.seconds}

    def load_state(self, state: dict[str, Any]) -> None:
        for k in self.STATE:
            setattr(self, k, state[k])
        self.seconds_before = state["train_seconds"]

    def _on_rollout_start(self) -> None:
        # Between rollouts every collected step is stored (and PPO's rollout trained on): the clean point to save.
        if self.checkpoint_due:
            self.checkpoint_due = False
            save_resume(self)

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            ep = info.get("episode")
            if ep is not None:
                self.episodes += 1
                self.run_logger.log({"env_frames": self.frames, "episode": self.episodes,
                                     "episode_return": float(ep["r"]), "episode_frames": int(ep["l"])}, step=self.frames)
        if self.frames >= self.next_eval:
            self.evaluate()
            self.checkpoint_due = True
            while self.next_eval <= self.frames:
                self.next_eval += self.cfg.baselines.eval_freq_frames
        if self.max_episodes and self.episodes >= self.max_episodes:
            print(f"[{self.algo}] stopping after {self.episodes} training games (--num-episodes)")
            return False
        return True

    def evaluate(self) -> dict[str, Any]:
        res = evaluate_model(self.model, self.cfg.env, self.seeds, algo_config(self.cfg, self.algo).deterministic_eval,
                             self.cfg.baselines.eval_envs)
        self.last_eval_frames = self.frames
        rec = {"env_frames": self.frames, "mean": res["mean"], "std": res["std"], "min": res["min"],
               "max": res["max"], "episodes": self.episodes}
        self.history.append(rec)
        self.run_logger.log(rec, step=self.frames, stream="eval")
        improved = res["mean"] > self.best_mean
        if improved:
            self.best_mean, self.best_frames = res["mean"], self.frames
            save_checkpoint(self.model, self.out / "best_model.zip")
        print(f"[{self.algo}] {self.frames:,} frames: validation {res['mean']:.1f} +/- {res['std']:.1f} over "
              f"{len(self.seeds)} games{' (best so far, saved)' if improved else ''}")
        return res


def save_checkpoint(model: BaseAlgorithm, path: Path) -> None:
    with atomic_path(path) as tmp:
        model.save(tmp)


# --------------------------------------------------------------------------- resume

RESUME_DIR = "resume"
# Settings a resumed run may change; every other env, baselines and algorithm field must match.
_RESUME_FREE = {"env.num_threads", "env.frame_size", "baselines.eval_envs"}
# Plain counters of SB3's algorithms that schedules, target updates and warm-up depend on.
_COUNTERS = ("num_timesteps", "_n_updates", "_episode_num", "_n_calls", "exploration_rate",
             "_current_progress_remaining")


def resume_settings(cfg: Config, algo: str) -> dict[str, Any]:
    """The settings a resume checkpoint must share with the command that continues it (dotted name -> value)."""
    out: dict[str, Any] = {"seed": cfg.seed}
    for name, section in (("env", cfg.env), ("baselines", cfg.baselines), (algo, algo_config(cfg, algo))):
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


def save_resume(monitor: TrainingMonitor) -> Path:
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

    path = algo_dir(cfg, algo) / RESUME_DIR / "state.json"
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


def train(cfg: Config, algo: str) -> dict[str, Any]:
    """Train ``algo`` on the budget, leaving final_model.zip, best_model.zip and the logs.

    With a resume checkpoint from an unfinished run (and no ``--restart``) training continues from it;
    the logs keep their lines up to the checkpoint and go on from there.
    """
    from utils.common import finished_phase, prepare_run_dir
    from utils.resume import phase_lock

    module = algo_module(algo)
    out = algo_dir(cfg, algo)
    if (done := finished_phase(out, algo, cfg.restart)) is not None:  # metrics.json is written last
        shutil.rmtree(out / RESUME_DIR, ignore_errors=True)  # left by a kill just after metrics.json
        return done
    prepare_run_dir(cfg, out)
    with phase_lock(out, algo):  # one process per algorithm folder (save_resume clears leftovers in resume/)
        return _train(cfg, algo, module, out, read_resume(cfg, algo))


def _train(cfg: Config, algo: str, module: Any, out: Path, state: dict[str, Any] | None) -> dict[str, Any]:
    from utils.common import record_config, resolve_device, seed_everything
    from utils.logger import RunLogger
    from utils.resume import trim_log

    record_config(cfg, out)
    if state is None:
        shutil.rmtree(out / RESUME_DIR, ignore_errors=True)
        for name in ("train", "eval"):
            (out / "logs" / f"{name}.jsonl").unlink(missing_ok=True)
    else:
        for name in ("train", "eval"):  # lines are stepped by env frames
            trim_log(out / "logs" / f"{name}.jsonl", state["model"]["num_timesteps"] * cfg.env.frameskip)
    seed_everything(cfg.seed)
    device = resolve_device(cfg.device)
    ac = algo_config(cfg, algo)
    steps = total_timesteps(cfg, algo)
    env = make_baseline_env(cfg.env, ac.n_envs, cfg.seed, training=True)
    model = module.make_model(cfg, env, device)
    if state is not None:
        restore_resume(model, out / RESUME_DIR, state, cfg.seed)
    logger = RunLogger(cfg, "train", out, algo=algo, wandb_prefix="train")
    monitor = TrainingMonitor(cfg, algo, out, logger)
    if state is None:
        print(f"[{algo}] training for {steps:,} agent steps ({steps * cfg.env.frameskip:,} frames) on {ac.n_envs} "
              f"env(s), device {device}" + (f", at most {ac.num_episodes} games" if ac.num_episodes else ""))
    else:
        monitor.load_state(state["monitor"])
        print(f"[{algo}] resuming from {out / RESUME_DIR} at {model.num_timesteps * cfg.env.frameskip:,} frames "
              f"of {steps * cfg.env.frameskip:,}, with new games (pass --restart to start over)")
    try:
        # Without a reset SB3 adds the steps done: the total, and with it every schedule, is the budget.
        model.learn(total_timesteps=steps - model.num_timesteps, callback=monitor, progress_bar=False,
                    reset_num_timesteps=state is None)
        if monitor.last_eval_frames != monitor.frames:  # the end of training is always scored
            monitor.evaluate()
        seconds = monitor.seconds
        save_checkpoint(model, out / "final_model.zip")
        logger.log_artifact(out, algo, patterns=("final_model.zip", "best_model.zip"))
    finally:
        logger.close()
        env.close()
    final = monitor.history[-1]
    metrics = {
        "algorithm": algo, "env_id": cfg.env.env_id, "seed": cfg.seed,
        "agent_steps": int(model.num_timesteps), "env_frames": int(model.num_timesteps * cfg.env.frameskip),
        "training_games": monitor.episodes, "train_seconds": seconds,
        "steps_per_second": model.num_timesteps / max(seconds, 1e-9),
        "best": {"env_frames": monitor.best_frames, "validation_mean": monitor.best_mean},
        "final": {"env_frames": final["env_frames"], "validation_mean": final["mean"]},
        "validation_seeds": monitor.seeds, "deterministic_eval": ac.deterministic_eval,
        "hyperparameters": vars(ac) | {"frame_budget": cfg.baselines.frame_budget},
    }
    atomic_write_json(out / "metrics.json", metrics)
    shutil.rmtree(out / RESUME_DIR, ignore_errors=True)  # up to two replay buffers' worth of disk
    print(f"[{algo}] done: {metrics['agent_steps']:,} steps in {seconds:.0f}s ({metrics['steps_per_second']:.0f} steps/s), "
          f"{monitor.episodes} games; best validation {monitor.best_mean:.1f} at {monitor.best_frames:,} frames")
    return metrics


def evaluate_checkpoint(cfg: Config, algo: str, which: str = "best", record_video: bool = False) -> dict[str, Any]:
    """``--mode eval``: play eval.num_episodes seeded full games with a checkpoint; write eval/results.json."""
    from utils.agent import record_video as record
    from utils.common import Timer, seed_everything

    out = algo_dir(cfg, algo)
    model = load_model(algo, out / f"{which}_model.zip")
    seed_everything(cfg.seed)
    seeds = [cfg.eval.seed + i for i in range(cfg.eval.num_episodes)]
    deterministic = algo_config(cfg, algo).deterministic_eval
    timer = Timer()
    res = evaluate_model(model, cfg.env, seeds, deterministic, cfg.baselines.eval_envs)
    res["seconds"] = timer.seconds
    results = {"env_id": cfg.env.env_id, "algorithm": algo, "checkpoint": str(out / f"{which}_model.zip"),
               "eval_seed": cfg.eval.seed, "train_seed": cfg.seed, "deterministic": deterministic,
               "protocol": "full games, sticky actions 0.25, frameskip 4, raw score, no life-loss resets; "
                           "SB3 Atari preprocessing (no-op starts, max-pool, 84x84 grey, 4 stacked frames)",
               "agent": res}
    print(f"[{algo}] {which} checkpoint: mean {res['mean']:.1f} +/- {res['std']:.1f} (min {res['min']:.0f}, "
          f"max {res['max']:.0f}) over {res['num_episodes']} games")
    if record_video:
        video, score, length = record(cfg.env, SB3Policy(model, deterministic), seeds[0], out / "videos", algo,
                                      make_env=lambda mode: make_eval_game(cfg.env, render_mode=mode))
        results["video"] = {"path": str(video), "seed": seeds[0], "score": score, "length": length}
        print(f"[{algo}] video: {video} (score {score:.0f}, {length} steps)")
    atomic_write_json(out / "eval" / "results.json", results)
    return results


# --------------------------------------------------------------------------- CLI


def legacy_flags(algo: str) -> dict[str, tuple[str, str]]:
    return {
        "--num-episodes": (f"{algo}.num_episodes", "stop training after this many full games"),
        "--total-timesteps": (f"{algo}.total_timesteps", "agent steps to train (replaces the frame budget)"),
        "--eval-episodes": ("eval.num_episodes", "seeded full games for --mode eval"),
        "--frame-budget": ("baselines.frame_budget", "training budget in emulator frames"),
    }


def algo_main(algo: str, doc: str, argv: list[str] | None = None) -> int:
    """``python -m baselines.<algo> --mode train|eval``."""
    from utils.common import cli_main

    def add_args(parser: argparse.ArgumentParser) -> None:
        g = parser.add_argument_group(algo)
        g.add_argument("--mode", choices=["train", "eval"], default="train",
                       help="train (then score the best checkpoint) or only evaluate an existing checkpoint")
        g.add_argument("--checkpoint", choices=["best", "final"], default="best", help="checkpoint --mode eval plays")

    def main(cfg: Config) -> dict:
        args = cfg._args  # type: ignore[attr-defined]
        if args.mode == "train":
            train(cfg, algo)
        return evaluate_checkpoint(cfg, algo, args.checkpoint, cfg.eval.record_video)

    return cli_main(doc, main, argv=argv, extra_args=add_args, legacy=legacy_flags(algo))


"""A uint8 replay buffer that stores each frame once and rebuilds the 4-frame stacks when sampling."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from utils.io import UserError


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

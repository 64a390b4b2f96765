"""Baselines: the Double-DQN target on a hand-made batch, and a tiny real train/save/load/act cycle."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines.common import make_baseline_env
from baselines.ddqn import DoubleDQN, double_q_target
from config import EnvConfig


def test_double_q_target_uses_online_argmax_and_target_value():
    q_online = torch.tensor([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0]])
    q_target = torch.tensor([[10.0, 7.0, 30.0], [1.0, 50.0, 2.0]])
    rewards = torch.tensor([[1.0], [0.5]])
    dones = torch.tensor([[0.0], [1.0]])
    y = double_q_target(q_online, q_target, rewards, dones, 0.9)
    # Row 0: online picks action 1 -> target value 7 (plain DQN would use max 30).
    # Row 1: terminal -> reward only.
    torch.testing.assert_close(y, torch.tensor([[1.0 + 0.9 * 7.0], [0.5]]))


def test_baseline_env_preprocessing():
    env = make_baseline_env(EnvConfig(), n_envs=2, seed=0, training=True)
    obs = env.reset()
    assert obs.shape == (2, 84, 84, 4) and obs.dtype == np.uint8
    assert env.action_space.n == 6
    env.close()


def test_ddqn_trains_saves_loads_and_acts(tmp_path):
    env = make_baseline_env(EnvConfig(), n_envs=1, seed=0, training=True)
    model = DoubleDQN("CnnPolicy", env, buffer_size=500, learning_starts=100, batch_size=8, train_freq=4,
                      target_update_interval=50, optimize_memory_usage=True, replay_buffer_kwargs={"handle_timeout_termination": False},
                      policy_kwargs={"net_arch": [16]}, seed=0, verbose=0)
    model.learn(total_timesteps=300)
    assert model._n_updates > 0
    assert model.replay_buffer.observations.dtype == np.uint8
    model.save(tmp_path / "ddqn")
    loaded = DoubleDQN.load(tmp_path / "ddqn", env=env)
    assert isinstance(loaded, DoubleDQN)
    obs = env.reset()
    a1, _ = model.predict(obs, deterministic=True)
    a2, _ = loaded.predict(obs, deterministic=True)
    np.testing.assert_array_equal(a1, a2)
    env.close()


def test_bad_env_id_is_a_clear_error():
    from utils.io import UserError

    with pytest.raises(UserError):
        make_baseline_env(EnvConfig(env_id="ALE/NoSuchGame-v5"), n_envs=1, seed=0, training=False)

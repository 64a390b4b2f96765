from __future__ import annotations

import numpy as np
import pytest

from config import EnvConfig
from utils.io import UserError
from utils.wrappers import make_single_env, make_vector_env, num_actions, rom_name, squeeze_obs


def test_vector_and_single_env_give_identical_frames():
    cfg = EnvConfig(repeat_action_probability=0.0)
    venv = make_vector_env(cfg, 2)
    env = make_single_env(cfg)
    obs_v, _ = venv.reset(seed=np.array([123, 7]))
    obs_s, _ = env.reset(seed=123)
    rng = np.random.default_rng(0)
    for _t in range(120):
        assert obs_s.shape == (64, 64, 3) and obs_s.dtype == np.uint8
        np.testing.assert_array_equal(squeeze_obs(obs_v)[0], obs_s)
        a = int(rng.integers(6))
        obs_v, r_v, *_ = venv.step(np.array([a, 0]))
        obs_s, r_s, *_ = env.step(a)
        assert r_v[0] == r_s
    venv.close()
    env.close()


def test_env_ids():
    assert rom_name("ALE/SpaceInvaders-v5") == "space_invaders"
    assert rom_name("ALE/Breakout-v5") == "breakout"
    assert num_actions(EnvConfig(env_id="ALE/Breakout-v5")) == 4
    assert num_actions(EnvConfig()) == 6
    with pytest.raises(UserError, match="unknown ALE game"):
        rom_name("ALE/NoSuchGame-v5")
    with pytest.raises(UserError, match="expected ALE"):
        rom_name("SpaceInvadersNoFrameskip-v4")

from __future__ import annotations

import numpy as np
import pytest

from config import EnvConfig
from utils.io import UserError
from utils.wrappers import (
    make_single_env,
    make_vector_env,
    num_actions,
    preprocess_frame,
    register_ale,
    rom_name,
    squeeze_obs,
)


@pytest.mark.parametrize("maxpool", [True, False])
def test_vector_and_single_env_give_identical_frames(maxpool):
    cfg = EnvConfig(repeat_action_probability=0.0, maxpool=maxpool)
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


def test_frame_max_pool_against_two_raw_frames():
    """The observation is the pixel-wise max of the step's last two raw frames, resized; on frames where the
    shots and bombs flicker, it shows more of them than the last frame alone."""
    import gymnasium as gym

    register_ale()
    cfg = EnvConfig(repeat_action_probability=0.0)
    raw = gym.make(cfg.env_id, frameskip=1, repeat_action_probability=0.0)
    env = make_single_env(cfg)
    raw.reset(seed=5)
    obs, _ = env.reset(seed=5)
    rng, differs, more = np.random.default_rng(1), 0, 0
    for _ in range(150):
        a = int(rng.integers(6))
        frames = [raw.step(a)[0] for _ in range(cfg.frameskip)]
        obs, *_ = env.step(a)
        pooled = np.maximum(frames[-2], frames[-1])
        np.testing.assert_array_equal(obs, preprocess_frame(pooled, cfg.frame_size))
        differs += not np.array_equal(pooled, frames[-1])
        more += int((pooled != frames[-1]).any(-1).sum())
    assert differs > 50 and more > 0  # the pool changes most frames (moving sprites, flicker)
    raw.close()
    env.close()

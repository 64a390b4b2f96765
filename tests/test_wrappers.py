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


@pytest.mark.parametrize("maxpool,dilate", [(True, 0), (False, 0), (True, 3)])
def test_vector_and_single_env_give_identical_frames(maxpool, dilate):
    cfg = EnvConfig(repeat_action_probability=0.0, maxpool=maxpool, dilate=dilate)
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


def test_dilate_keeps_a_one_pixel_shot_bright():
    """A 1-pixel-wide vertical shot (8 pixels tall) on a black frame: area interpolation to 64x64 spreads it to
    under half its brightness (160 columns -> 64); a 3x3 max filter first keeps it at full brightness, 3 rows
    below it stay black, and the filter changes nothing on a uniform frame."""
    frame = np.zeros((210, 160, 3), np.uint8)
    frame[100:108, 81] = 200
    plain, dilated = preprocess_frame(frame, 64), preprocess_frame(frame, 64, dilate=3)
    assert plain.max() < 100
    assert dilated.max() == 200
    assert dilated[:25].max() == 0 and dilated[40:].max() == 0  # the shot stays where it was (rows ~30-34 of 64)
    flat = np.full((210, 160, 3), 37, np.uint8)
    np.testing.assert_array_equal(preprocess_frame(flat, 64, dilate=3), preprocess_frame(flat, 64))

"""utils.probes: the cannon found by colour on hand-made frames, the ridge probe's R^2 against known relations, and
the report on a stand-in VAE whose code is (or is not) the cannon's position."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from utils.probes import cannon_report, cannon_x, ridge_r2, shot_pixels, shot_recall

GREEN, OLIVE = (50, 132, 50), (80, 90, 40)


def frame(x: int | None) -> np.ndarray:
    f = np.zeros((64, 64, 3), np.uint8)
    f[59:64] = OLIVE  # the ground: not green enough
    f[3:6, 2:26] = GREEN  # the score at the top: outside the cannon rows
    if x is not None:
        f[57:59, x - 1:x + 2] = GREEN
    return f


def test_cannon_x_by_colour():
    xs = cannon_x(np.stack([frame(10), frame(40), frame(None)]))
    np.testing.assert_array_equal(xs[:2], [10.0, 40.0])
    assert np.isnan(xs[2])


def test_shots_are_the_grey_pixels_of_the_playfield_and_recall_counts_those_the_reconstruction_shows():
    f = frame(30)
    f[20:30, 10:22] = (134, 134, 29)  # invaders: yellow, not a shot
    f[40:43, 50] = 57  # a bomb, dim grey as a 1-pixel shot is at 64x64
    f[4, 40] = 200  # grey, but in the score rows
    f[45, 5] = (20, 20, 20)  # grey but too dark: background noise
    assert shot_pixels(f[None]).sum() == 3 and shot_pixels(f[None])[0, 40 - 7:43 - 7, 50].all()
    recon = f.copy()
    recon[40, 50] = 20  # one bomb pixel too dim (below half of 57)
    recon[41, 50] = (60, 30, 10)  # one turned brown
    assert shot_recall(f[None], recon[None]) == (3, 1)
    assert shot_recall(f[None], np.zeros_like(f)[None]) == (3, 0)


def test_ridge_r2_is_one_for_a_linear_code_and_low_for_noise():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(400, 5))
    y = 3.0 * z[:, 1] - z[:, 4] + 7.0
    assert ridge_r2(z[:300], y[:300], z[300:], y[300:], alpha=1e-6) == pytest.approx(1.0, abs=1e-6)
    noise = rng.normal(size=400)
    assert ridge_r2(z[:300], noise[:300], z[300:], noise[300:]) < 0.05


class StandIn:
    """A 'VAE' whose code is the cannon's x (``knows``) or a constant, and whose decoder paints the cannon at
    the code's x (or paints nothing)."""

    def __init__(self, knows: bool, paints: bool):
        self.knows, self.paints = knows, paints

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(np.nan_to_num(cannon_x(frames.numpy()), nan=30.0), dtype=torch.float32)
        code = x if self.knows else torch.full_like(x, 30.0) + 0.01 * torch.randn_like(x)
        return torch.stack([code, torch.randn_like(x)], dim=1)

    def decode(self, mu: torch.Tensor) -> torch.Tensor:
        out = np.stack([frame(int(round(float(m))) if self.paints else None) for m in mu[:, 0]])
        return torch.as_tensor(out, dtype=torch.float32).permute(0, 3, 1, 2) / 255.0


def test_cannon_report_tells_a_code_that_knows_the_cannon_from_one_that_does_not():
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    xs = [int(v) if v < 60 else None for v in rng.integers(2, 64, 200)]
    frames, episodes = np.stack([frame(x) for x in xs]), np.repeat(np.arange(20), 10)
    present = float(np.mean([x is not None for x in xs]))
    good = cannon_report(StandIn(knows=True, paints=True), frames, episodes, torch.device("cpu"), batch=64)
    assert good["present"] == pytest.approx(present) and good["recon_found"] == 1.0
    assert good["probe_r2"] == pytest.approx(1.0, abs=1e-3)
    assert good["shot_pixels_per_frame"] == 0.0 and good["shot_recall"] == 0.0  # no shots drawn: nothing to recall
    blind = cannon_report(StandIn(knows=False, paints=False), frames, episodes, torch.device("cpu"), batch=64)
    assert blind["recon_found"] == 0.0 and blind["probe_r2"] < 0.1


def test_teacher_forced_states_are_the_states_real_play_steps_through(tmp_path):
    """The probe scripts' h at frame t is what the controller reads in real play: the LSTM stepped one
    (mu, action) at a time from zero, over each stored episode of a shard (episodes split at their own lengths)."""
    from models.mdn_rnn import MDNRNN
    from models.vae import ConvVAE
    from utils.probes import teacher_forced_episodes

    torch.manual_seed(0)
    vae, mdn = ConvVAE(8, 64).eval(), MDNRNN(8, 6, 16, 2, life_head=True).eval()
    rng = np.random.default_rng(0)
    lengths = np.array([5, 3])
    np.savez(tmp_path / "shard_00000.npz", obs=rng.integers(0, 255, (10, 64, 64, 3), dtype=np.uint8),
             actions=rng.integers(0, 6, 8).astype(np.uint8), lives=np.array([3, 3, 3, 2, 2, 2, 3, 3, 3, 3], np.uint8),
             lengths=lengths, episode_ids=np.array([4, 9]))
    eps = list(teacher_forced_episodes(tmp_path, vae, mdn))
    assert [e["id"] for e in eps] == [4, 9] and [len(e["h"]) for e in eps] == [6, 4]
    np.testing.assert_array_equal(eps[0]["lives"], [3, 3, 3, 2, 2, 2])
    with torch.no_grad():
        for e in eps:
            state = mdn.initial_state(1)
            for t in range(len(e["actions"])):
                torch.testing.assert_close(e["h"][t], state[0][0], atol=1e-5, rtol=0)
                state = mdn.step(e["mu"][t:t + 1], torch.as_tensor([int(e["actions"][t])]), state)
            torch.testing.assert_close(e["h"][-1], state[0][0], atol=1e-5, rtol=0)
            assert e["pred"]["life_logit"].shape == (len(e["actions"]),)

"""The dream-quality report's numbers (utils/dream_quality.py) on hand-made inputs.

* Spearman's rank correlation: +1 / -1 for monotone pairs, average ranks for ties (a hand-computed
  value), nan for a constant side;
* teacher-forced reward, life-loss and game-over numbers for an MDN-RNN whose heads are forced to
  constants: a head that always pays recalls every paying step with precision = the share of paying
  steps; calibration = steps x p / events; the VAE's error on moving pixels vs all pixels;
* what the dream's order follows: in a dream that pays only for one action, each candidate's fitness follows its own
  dreamed share of that action (Spearman +1 with it, and with the firing share when it is the only FIRE).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from models.mdn_rnn import MDNRNN
from models.vae import ConvVAE
from utils.dream_quality import spearman, teacher_forced
from utils.world_model import WorldModel


def test_spearman_by_hand():
    assert spearman([1, 2, 3, 4], [10, 20, 35, 90]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [9, 5, 2, 0]) == pytest.approx(-1.0)
    # Ties: b's ranks are (0, 1.5, 1.5, 3); Pearson of (0,1,2,3) and them: 4.5 / sqrt(5 * 4.5) (sums of products / squares).
    assert spearman([1, 2, 3, 4], [0, 7, 7, 9]) == pytest.approx(4.5 / math.sqrt(5 * 4.5))
    assert math.isnan(spearman([1, 2, 3], [4, 4, 4]))


def forced_model(reward: float, done_logit: float, life_logit: float, offset: float) -> WorldModel:
    torch.manual_seed(0)
    Z, K = 4, 2
    mdn = MDNRNN(latent_dim=Z, action_dim=3, hidden_size=8, num_mixtures=K, reward_target="symlog", life_head=True,
                 event_logit_offset=offset).eval()
    base = 3 * Z * K
    with torch.no_grad():
        for row, v in ((base, math.copysign(math.log1p(abs(reward)), reward)), (base + 1, done_logit), (base + 2, life_logit)):
            mdn.head.weight[row].zero_()
            mdn.head.bias[row] = v
    return WorldModel(ConvVAE(latent_dim=Z, frame_size=64).eval(), mdn, None, torch.device("cpu"))


def game(T: int, pay: list[int], life_lost: list[int], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    obs = np.zeros((T + 1, 64, 64, 3), np.uint8)
    obs[:, 30:34, :, :] = 90  # a static band
    for t in range(T + 1):
        obs[t, 50, t % 64] = 255  # one moving pixel per frame
    rewards = np.zeros(T, np.float32)
    rewards[pay] = 10.0
    lives = np.full(T + 1, 3, np.uint8)
    for t in life_lost:
        lives[t + 1:] -= 1
    dones = np.zeros(T, bool)
    dones[-1] = True
    return {"obs": obs, "actions": rng.integers(0, 3, T), "rewards": rewards, "dones": dones, "lives": lives}


def test_teacher_forced_numbers_for_constant_heads():
    games = [game(40, [3, 9, 20], [10, 30], 0), game(30, [5], [12], 1)]
    steps, paying = 70, 4
    p = 1 / (1 + math.exp(-(-2.0 - math.log(4.0))))  # the calibrated probability: sigmoid(logit - offset)
    out = teacher_forced(forced_model(reward=8.0, done_logit=-2.0, life_logit=-2.0, offset=math.log(4.0)), games,
                         pay_threshold=2.5)
    assert out["steps"] == steps and out["reward"]["paying_steps"] == paying
    assert out["reward"]["recall"] == 1.0 and out["reward"]["precision"] == pytest.approx(paying / steps)
    assert out["reward"]["predicted_total"] == pytest.approx(8.0 * steps, rel=1e-4)
    assert out["reward"]["real_total"] == 40.0
    assert out["life"]["events"] == 3 and out["done"]["events"] == 2
    assert out["life"]["calibration"] == pytest.approx(steps * p / 3, rel=1e-4)
    assert out["done"]["calibration"] == pytest.approx(steps * p / 2, rel=1e-4)
    assert out["life"]["recall_at_0.5"] == 0.0  # p ~ 0.03 < 0.5
    # Exactly two pixels change per frame (the moving one leaves and arrives): 2 moving pixels per step.
    assert out["vae"]["moving_pixels_per_frame"] == pytest.approx(2.0)
    assert out["vae"]["moving_pixel_se"] > out["vae"]["pixel_se"] > 0  # an untrained VAE misses the bright dot most

    never = teacher_forced(forced_model(reward=0.0, done_logit=3.0, life_logit=3.0, offset=0.0), games, pay_threshold=2.5)
    assert never["reward"]["recall"] == 0.0 and never["reward"]["precision"] is None
    assert never["life"]["recall_at_0.5"] == 1.0 and never["done"]["recall_at_0.5"] == 1.0


def test_constant_controllers_take_their_action_and_are_paid_only_for_the_paying_one():
    """Row a of constant_controllers always plays action a (bias one-hot, zero weights); in a dream whose
    reward pays 1 per step of action 1 only, constant 1 earns the horizon and the others nothing."""
    from tests.test_dream import A, H, Z, action_paying_mdn, tiny_data
    from utils.dream import Dream
    from utils.dream_quality import constant_controllers

    X = constant_controllers(np.zeros((Z + H + 1) * A), A)
    assert X.shape == (A, (Z + H + 1) * A)
    dream = Dream(action_paying_mdn(1), tiny_data(), 3, torch.device("cpu"))
    g = torch.Generator().manual_seed(0)
    res = dream.rollout(torch.as_tensor(X, dtype=torch.float32), dream.sample_starts(4, np.random.default_rng(0), g), 10, 1.0, g)
    np.testing.assert_array_equal(res.action_counts, [4 * 10] * A)  # summed over the candidates: 40 steps of each action
    np.testing.assert_allclose(res.fitness.numpy(), [0.0, 10.0, 0.0], atol=1e-4)


def test_what_the_dreams_order_follows_is_the_paid_actions_share():
    """In a dream that pays 1 per step of action 1 (and never ends), each candidate's fitness is its share of action 1
    times the horizon: order_follows finds Spearman +1 with action 1's share (and with the firing share, when action 1
    is the only FIRE), the per-candidate counts being each candidate's own."""
    from tests.test_dream import A, H, Z, action_paying_mdn, tiny_data
    from utils.dream import Dream
    from utils.dream_quality import order_follows

    dream = Dream(action_paying_mdn(1), tiny_data(), 3, torch.device("cpu"))
    g = torch.Generator().manual_seed(0)
    X = torch.as_tensor(np.random.default_rng(1).standard_normal((12, (Z + H + 1) * A)), dtype=torch.float32)
    res = dream.rollout(X, dream.sample_starts(4, np.random.default_rng(0), g), 10, 1.0, g)
    assert res.candidate_counts.shape == (12, A) and (res.candidate_counts.sum(1) == 4 * 10).all()
    np.testing.assert_allclose(res.fitness.numpy(), res.candidate_counts[:, 1] / 4, atol=1e-4)
    assert len(set(res.candidate_counts[:, 1].tolist())) > 3  # the candidates play action 1 at different rates
    out = order_follows(res.fitness.numpy(), res.candidate_counts, ["NOOP", "FIRE", "RIGHT"])
    assert out["dream_fitness_vs_action_share"]["FIRE"] == pytest.approx(1.0)
    assert out["dream_fitness_vs_fire_share"] == pytest.approx(1.0)
    assert out["dream_fitness_vs_action_share"]["NOOP"] < 0.9
    assert "dream_fitness_vs_fire_share" not in order_follows(res.fitness.numpy(), res.candidate_counts, ["A", "B", "C"])


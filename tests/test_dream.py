"""Unit tests of utils/dream.py on tiny hand-made data and a tiny random MDN-RNN.

* rollout() equals a slow per-candidate, per-rollout reference loop (same random numbers: start r's
  draws of each step, for every candidate), in fitness, lengths and the histogram of live steps;
* sample_starts() starts at a real frame t in [W, len - 1] of the drawn episode (never the last, possibly
  game-over frame), z = mu + eps * sigma of that frame, the LSTM warmed up on the W real (z, a) pairs
  just before it, and the lives counter of that frame;
* a sampled done, or life losses using up the start's lives, stop reward and alive bonus (a dead
  rollout earns nothing);
* candidates share their start states and their per-step noise: identical candidates score the same
  over the whole horizon, and a fixed generator seed makes a rollout repeatable;
* the dream can teach: with a hand-made MDN-RNN whose reward head pays only for action k, CMA-ES in
  the dream picks k.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from config import make_config
from models.controller import Controller
from models.mdn_rnn import MDNRNN
from utils.data import LatentData
from utils.dream import Dream, DreamStarts
from utils.es import run_cma

Z, A, H, K = 4, 3, 8, 2
LENGTHS = np.array([5, 9, 7])  # steps per episode; frames = length + 1


def tiny_data(seed: int = 0) -> LatentData:
    rng = np.random.default_rng(seed)
    F, S = int(LENGTHS.sum() + len(LENGTHS)), int(LENGTHS.sum())
    return LatentData(mu=rng.normal(size=(F, Z)).astype(np.float32),
                      logvar=rng.uniform(-2, 0, size=(F, Z)).astype(np.float32),
                      actions=rng.integers(A, size=S).astype(np.uint8),
                      rewards=rng.normal(size=S).astype(np.float32),
                      dones=np.zeros(S, dtype=bool), lives=rng.integers(1, 4, size=F).astype(np.uint8),
                      lengths=LENGTHS.copy())


def tiny_mdn(seed: int = 0, done_bias: float | None = None, reward: float | None = None, life_bias: float | None = None,
             **kwargs) -> MDNRNN:
    """A random MDN-RNN; done_bias / reward / life_bias force the done logit / the reward head / the life logit
    to a constant (life_bias adds the life head)."""
    torch.manual_seed(seed)
    mdn = MDNRNN(latent_dim=Z, action_dim=A, hidden_size=H, num_mixtures=K, life_head=life_bias is not None, **kwargs).eval()
    base = 3 * Z * K  # head output: [3*Z*K mixture params, reward, done_logit(, life_logit)]
    head = mdn.head
    if mdn.events_see_z:  # event_head output: [reward, done_logit(, life_logit)] from (h, z_next); its weights are
        base, head = 0, mdn.event_head  # kept, scaled so the events vary with z_next without drowning the bias
        with torch.no_grad():
            head.weight.mul_(2.0)
    with torch.no_grad():
        for row, value in ((base, reward), (base + 1, done_bias), (base + 2, life_bias)):
            if value is not None:
                if not mdn.events_see_z:
                    head.weight[row].zero_()
                head.bias[row] = value
    return mdn


def random_starts(R: int, seed: int = 1) -> DreamStarts:
    g = torch.Generator().manual_seed(seed)
    return DreamStarts(torch.randn(R, Z, generator=g), (torch.randn(R, H, generator=g), torch.randn(R, H, generator=g)))


def random_params(P: int, seed: int = 2) -> torch.Tensor:
    return torch.randn(P, (Z + H + 1) * A, generator=torch.Generator().manual_seed(seed))


def reference_rollout(mdn: MDNRNN, params: torch.Tensor, starts: DreamStarts, horizon: int, temperature: float,
                      seed: int, alive_bonus: float) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """One candidate, one rollout at a time (nn.LSTM via mdn.forward, Controller.set_flat, hand-made
    Gumbel-max sampling, sigmoid of the logits minus the model's offset); each step's random block is
    drawn as rollout() draws it (per start), and every candidate on start r uses draw r."""
    P, R = params.shape[0], starts.z.shape[0]
    g = torch.Generator().manual_seed(seed)
    draws = []
    for _ in range(horizon):  # rollout: rand (R,) done, rand (R,) life, then the mixture's rand (R, Z, K), randn (R, Z)
        draws.append((torch.rand(R, generator=g), torch.rand(R, generator=g), torch.rand(R, Z, K, generator=g),
                      torch.randn(R, Z, generator=g)))
    fitness, counts, lengths = torch.zeros(P), np.zeros((P, A), dtype=np.int64), np.zeros((P, R), dtype=np.int64)
    ctrl = Controller(Z, H, A)
    off, life_off = mdn.event_logit_offset, mdn.life_logit_offset
    for p in range(P):
        ctrl.set_flat(params[p].numpy())
        for r in range(R):
            z, h, c = starts.z[r], starts.state[0][r], starts.state[1][r]
            lives = float(starts.lives[r]) if starts.lives is not None else None
            alive, total = True, 0.0
            for u_done, u_life, u_mix, eps in draws:
                with torch.no_grad():
                    a = int(ctrl(z[None], h[None])[0].argmax())
                    state = (h[None], c[None])
                    pred, (h, c) = mdn(z[None, None], torch.tensor([[a]]), state, z_next=torch.zeros(1, 1, Z))
                h, c = h[0], c[0]
                logit_pi, mu, log_sigma = (pred[k][0, 0] for k in ("logit_pi", "mu", "log_sigma"))  # (Z, K)
                gumbel = -torch.log(-torch.log(u_mix[r].clamp(1e-9, 1 - 1e-9)))
                k = (logit_pi / temperature + gumbel).argmax(-1)
                sel = torch.arange(Z)
                z_next = mu[sel, k] + log_sigma[sel, k].exp() * math.sqrt(temperature) * eps[r]
                if mdn.events_see_z:  # the same step again, its events read from the z just drawn
                    with torch.no_grad():
                        pred, _ = mdn(z[None, None], torch.tensor([[a]]), state, z_next=z_next[None, None])
                if alive:
                    counts[p, a] += 1  # only steps of a game still on
                    lengths[p, r] += 1
                    rew = float(pred["reward"][0, 0])
                    total += (math.copysign(math.expm1(abs(rew)), rew) if mdn.reward_target == "symlog" else rew) + alive_bonus
                    ended = float(u_done[r]) < float(torch.sigmoid(pred["done_logit"][0, 0] - off))
                    if lives is not None:
                        lives -= float(u_life[r]) < float(torch.sigmoid(pred["life_logit"][0, 0] - life_off))
                        ended = ended or lives <= 0
                    alive = not ended
                z = z_next
            fitness[p] += total / R
    return fitness, counts, lengths


@pytest.mark.parametrize("kind", ["seed-era", "symlog+life+calibrated", "events see z"])
def test_rollout_equals_per_candidate_loop(kind):
    if kind == "seed-era":  # p(done) ~ 0.18 per step: some rollouts die mid-way, some survive
        mdn = tiny_mdn(done_bias=-1.5)
    else:  # p(done) = sigmoid(-1 - log 4) ~ 0.08, p(life) ~ 0.2 per step, 1-3 lives per start
        # (events see z: the same biases, the events also varying with the z_{t+1} each step draws)
        mdn = tiny_mdn(done_bias=-1.0, life_bias=0.0, reward_target="symlog", event_logit_offset=math.log(4.0),
                       life_logit_offset=-0.5, events_see_z=kind == "events see z")
    dream = Dream(mdn, tiny_data(), warmup_steps=3, device=torch.device("cpu"))
    P, R, horizon, tau, bonus = 4, 3, 8, 1.3, 0.25
    params, starts = random_params(P), random_starts(R)
    if kind != "seed-era":
        starts.lives = torch.tensor([1.0, 2.0, 3.0])
    res = dream.rollout(params, starts, horizon, tau, torch.Generator().manual_seed(7), alive_bonus=bonus)
    ref_fit, ref_counts, ref_lengths = reference_rollout(mdn, params, starts, horizon, tau, 7, bonus)
    assert res.fitness.shape == (P,)
    torch.testing.assert_close(res.fitness, ref_fit, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(res.candidate_counts, ref_counts)  # each candidate's own actions
    np.testing.assert_array_equal(res.action_counts, ref_counts.sum(0))
    np.testing.assert_array_equal(res.lengths.numpy(), ref_lengths)
    assert 0 < ref_lengths.min() < horizon  # some games ended early: only their live steps are counted
    assert res.action_counts.sum() == ref_lengths.sum() < P * R * horizon
    assert len(set(np.round(ref_fit.numpy(), 4))) == P  # candidates really differ


@pytest.mark.parametrize("warmup", [3, 20])  # 20 > shortest episode (5) - 1: W = 4
def test_sample_starts_frame_and_warmup(warmup):
    data, mdn = tiny_data(), tiny_mdn(life_bias=0.0)
    dream = Dream(mdn, data, warmup_steps=warmup, device=torch.device("cpu"))
    n, W = 300, min(warmup, int(LENGTHS.min()) - 1)
    starts = dream.sample_starts(n, np.random.default_rng(3), torch.Generator().manual_seed(4))
    assert starts.z.shape == (n, Z) and starts.state[0].shape == starts.state[1].shape == (n, H)

    ep = np.random.default_rng(3).integers(len(LENGTHS), size=n)  # the code's first draw: the episodes
    eps = torch.randn(n, Z, generator=torch.Generator().manual_seed(4)).numpy()  # the generator's only draw
    # Which frame made each z: the one whose mu + eps * sigma it equals (frames are distinct random vectors).
    cand = data.mu[None] + eps[:, None] * np.exp(0.5 * data.logvar)[None]  # (n, F, Z)
    err = np.abs(cand - starts.z.numpy()[:, None]).max(-1)
    frame = err.argmin(1)
    assert err[np.arange(n), frame].max() < 1e-5
    t = frame - data.frame_start[ep]
    assert (t >= W).all() and (t <= LENGTHS[ep] - 1).all()  # inside the drawn episode, after W warm-up steps
    for e in range(len(LENGTHS)):  # every allowed start occurs; the last frame (maybe game over) never
        assert set(t[ep == e]) == set(range(W, LENGTHS[e]))
    np.testing.assert_array_equal(starts.lives.numpy(), data.lives[frame].astype(np.float32))
    # A life head trained on the hit (life_shift 2): the start has the lives its counter shows 2 steps on (at most
    # the episode's last frame), at least 1.
    shifted = Dream(tiny_mdn(life_bias=0.0, life_shift=2), data, warmup_steps=warmup, device=torch.device("cpu"))
    s2 = shifted.sample_starts(n, np.random.default_rng(3), torch.Generator().manual_seed(4))
    ahead = data.frame_start[ep] + np.minimum(t + 2, LENGTHS[ep])
    np.testing.assert_array_equal(s2.lives.numpy(), np.maximum(data.lives[ahead], 1).astype(np.float32))
    assert (data.lives[ahead] != data.lives[frame]).any()  # the shift changes some starts' lives

    # An MDN-RNN trained on the VAE's means (z_target mean): the same draws start at the means of the same frames.
    mdn.z_target = "mean"
    means = dream.sample_starts(n, np.random.default_rng(3), torch.Generator().manual_seed(4))
    np.testing.assert_array_equal(means.z.numpy(), data.mu[frame])
    torch.testing.assert_close(means.state[0], starts.state[0], rtol=0, atol=0)
    mdn.z_target = "sample"

    # The state: nn.LSTM from zeros over the W real pairs (mu[frame_start+t-k], action[step_start+t-k]), k = W..1.
    k = np.arange(W, 0, -1)
    f_idx = data.frame_start[ep][:, None] + t[:, None] - k[None]
    s_idx = data.step_start[ep][:, None] + t[:, None] - k[None]
    with torch.no_grad():
        _, (h, c) = mdn(torch.from_numpy(data.mu[f_idx]), torch.from_numpy(data.actions[s_idx].astype(np.int64)))
    torch.testing.assert_close(starts.state[0], h, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(starts.state[1], c, rtol=1e-5, atol=1e-5)

    at_start = dream.sample_starts(20, np.random.default_rng(3), torch.Generator().manual_seed(4), at_start=True)
    ep = np.random.default_rng(3).integers(len(LENGTHS), size=20)
    np.testing.assert_array_equal(at_start.lives.numpy(), data.lives[data.frame_start[ep] + W].astype(np.float32))


@pytest.mark.parametrize("reward, bonus", [(0.7, 0.0), (-0.4, 0.25), (0.0, 1.0)])
def test_a_dead_rollout_earns_nothing(reward, bonus):
    P, R, horizon = 3, 4, 6
    params, starts = random_params(P), random_starts(R)
    never = Dream(tiny_mdn(done_bias=-50.0, reward=reward), tiny_data(), 3, torch.device("cpu"))
    always = Dream(tiny_mdn(done_bias=50.0, reward=reward), tiny_data(), 3, torch.device("cpu"))
    g = torch.Generator().manual_seed(0)
    r_never = never.rollout(params, starts, horizon, 1.0, g, alive_bonus=bonus)
    r_always = always.rollout(params, starts, horizon, 1.0, g, alive_bonus=bonus)
    torch.testing.assert_close(r_never.fitness, torch.full((P,), horizon * (reward + bonus)))
    torch.testing.assert_close(r_always.fitness, torch.full((P,), reward + bonus))  # the done step itself still counts
    assert r_never.action_counts.sum() == P * R * horizon and r_always.action_counts.sum() == P * R  # live steps only
    # Lives: a life lost every step ends a start with k lives after k steps (no done at all).
    lifeless = Dream(tiny_mdn(done_bias=-50.0, life_bias=50.0, reward=reward), tiny_data(), 3, torch.device("cpu"))
    starts.lives = torch.tensor([1.0, 2.0, 3.0, 2.0])
    r_life = lifeless.rollout(params, starts, horizon, 1.0, g, alive_bonus=bonus)
    np.testing.assert_array_equal(r_life.lengths.numpy(), np.tile([1, 2, 3, 2], (P, 1)))
    torch.testing.assert_close(r_life.fitness, torch.full((P,), 2.0 * (reward + bonus)))


def test_symlog_reward_is_paid_in_game_points():
    params, starts = random_params(2), random_starts(3)
    dream = Dream(tiny_mdn(done_bias=-50.0, reward=math.log1p(30.0), reward_target="symlog"), tiny_data(), 3,
                  torch.device("cpu"))
    res = dream.rollout(params, starts, 5, 1.0, torch.Generator().manual_seed(0))
    torch.testing.assert_close(res.fitness, torch.full((2,), 5 * 30.0))  # symexp(symlog(30)) per step


def test_candidates_share_starts_and_noise_and_repeat():
    dream = Dream(tiny_mdn(done_bias=-1.5, life_bias=-1.0), tiny_data(), 3, torch.device("cpu"))
    R = 5
    params, starts = random_params(3), random_starts(R)
    starts.lives = torch.full((R,), 2.0)
    params[2] = params[0]
    # Identical candidates see the same starts and the same per-step draws: the same game, whole horizon.
    res = dream.rollout(params, starts, 30, 1.2, torch.Generator().manual_seed(0))
    assert float(res.fitness[2]) == float(res.fitness[0])
    assert torch.equal(res.lengths[2], res.lengths[0])
    assert abs(float(res.fitness[1] - res.fitness[0])) > 1e-3
    assert 1 < float(res.lengths.float().mean()) < 30  # the games did end, at various steps
    # Same generator seed, same result; another seed, another result.
    run = [dream.rollout(params, starts, 10, 1.0, torch.Generator().manual_seed(s), alive_bonus=0.1) for s in (5, 5, 6)]
    assert torch.equal(run[0].fitness, run[1].fitness) and np.array_equal(run[0].action_counts, run[1].action_counts)
    assert not torch.equal(run[0].fitness, run[2].fitness)


def action_paying_mdn(k: int) -> MDNRNN:
    """An MDN-RNN whose reward is 1 on steps that take action k and 0 otherwise, whatever z and h.

    The LSTM forgets everything (forget gate ~ 0), and hidden unit 0's cell input is tanh(4) when the
    action is k, 0 otherwise (input and output gates ~ 1); the reward head reads unit 0 alone. The
    mixture predicts z = 0 with unit noise, nothing ends the game."""
    mdn = tiny_mdn(done_bias=-50.0, life_bias=-50.0)
    with torch.no_grad():
        mdn.lstm.weight_ih_l0.zero_()
        mdn.lstm.weight_hh_l0.zero_()
        mdn.lstm.bias_hh_l0.zero_()
        b = torch.zeros(4 * H)
        b[:H], b[H:2 * H], b[3 * H:] = 20.0, -20.0, 20.0  # input, forget, (cell 0), output gates
        mdn.lstm.bias_ih_l0.copy_(b)
        mdn.lstm.weight_ih_l0[2 * H + 0, Z + k] = 4.0  # gate g of unit 0 <- one_hot(a)[k]
        base = 3 * Z * K
        mdn.head.weight[:base].zero_()
        mdn.head.bias[:base].zero_()  # logit_pi = mu = log_sigma = 0
        mdn.head.weight[base].zero_()
        mdn.head.weight[base, 0] = 1.0 / math.tanh(math.tanh(4.0))
        mdn.head.bias[base] = 0.0
    return mdn


@pytest.mark.parametrize("k", [0, 2])
def test_cma_es_in_the_dream_learns_the_paying_action(k):
    mdn = action_paying_mdn(k)
    dream = Dream(mdn, tiny_data(), 3, torch.device("cpu"))
    cfg = make_config("dry-run", **{"controller.population_size": 8, "seed": k})
    rng, g = np.random.default_rng(0), torch.Generator().manual_seed(0)
    horizon, R = 10, 4

    def fitness(X, gen):
        res = dream.rollout(torch.as_tensor(X, dtype=torch.float32), dream.sample_starts(R, rng, g), horizon, 1.0, g)
        return res.fitness.numpy().astype(np.float64), res.action_counts

    class NoLog:
        def log(self, *a, **kw):
            pass

    hist, _, mean = run_cma("dream", np.zeros((Z + H + 1) * A), 0.1, cfg, 20, fitness, NoLog(), progress=False)
    res = dream.rollout(torch.as_tensor(mean[None], dtype=torch.float32), dream.sample_starts(8, rng, g), horizon, 1.0, g)
    # Action k on (almost) every step: the dream's z are noisy inputs, a linear controller may slip on one.
    assert res.action_counts.sum() == 8 * horizon and res.action_counts[k] >= 0.95 * 8 * horizon
    assert float(res.fitness[0]) >= 0.95 * horizon
    assert hist[0]["mean"] < 0.8 * horizon  # the first generation did not already know it


def test_real_phase_calibration_rescales_logits_but_keeps_a_tanh_controller():
    """Atari: argmax is scale-free, so the start point is rescaled to unit logit std on the features; a continuous
    game's tanh outputs are not, so x is kept. Either way a step of sigma per weight moves an output by about
    ``logit_sigma`` (sigma * ||[f, 1]||)."""
    from utils.es import calibrate

    rng = np.random.default_rng(0)
    feats = rng.normal(size=(64, 5))
    x = rng.normal(size=3 * 6) * 7.0  # 3 outputs, 5 features + bias
    scaled, sigma = calibrate(x, feats, 2.0)
    W, b = scaled[:15].reshape(3, 5), scaled[15:]
    assert (feats @ W.T + b).std() == pytest.approx(1.0)
    assert sigma == pytest.approx(2.0 / math.sqrt((feats**2).sum(1).mean() + 1.0))
    kept, sigma_kept = calibrate(x, feats, 2.0, rescale=False)
    np.testing.assert_array_equal(kept, x)
    assert sigma_kept == sigma

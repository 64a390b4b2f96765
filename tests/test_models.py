from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import distributions as D

from models.controller import Controller, batched_logits
from models.mdn_rnn import MDNRNN, gmm_nll
from models.vae import ConvVAE


def test_vae_shapes_and_loss_decreases():
    torch.manual_seed(0)
    vae = ConvVAE(latent_dim=8)
    frames = torch.zeros(8, 64, 64, 3, dtype=torch.uint8)
    for i in range(8):  # simple structured frames: a bright block at a different place in each
        frames[i, 8 * i:8 * i + 16, 10:30] = 200
    x = vae.to_input(frames)
    assert x.shape == (8, 3, 64, 64) and float(x.max()) <= 1.0
    recon, mu, logvar = vae(x)
    assert recon.shape == x.shape and mu.shape == logvar.shape == (8, 8)
    assert vae.encode_frames(frames).shape == (8, 8)
    opt = torch.optim.Adam(vae.parameters(), 3e-3)
    losses = []
    for _ in range(10):
        loss, m = vae.compute_loss(frames, kl_tolerance=0.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(m["loss"])
        assert set(m) == {"loss", "recon", "kl"}
    assert losses[-1] < losses[0] * 0.5


def test_vae_free_bits_floor():
    vae = ConvVAE(latent_dim=8)
    frames = torch.zeros(4, 64, 64, 3, dtype=torch.uint8)
    loss_free, m = vae.compute_loss(frames, kl_tolerance=0.5)
    # With the floor, the KL term is at least 0.5 * latent_dim nats.
    assert loss_free.item() >= m["recon"] + 0.5 * 8 - 1e-4


def test_gmm_nll_matches_mixture_same_family():
    torch.manual_seed(0)
    B, T, Z, K = 3, 5, 4, 5
    logit_pi, mu, log_sigma = torch.randn(B, T, Z, K), torch.randn(B, T, Z, K), 0.3 * torch.randn(B, T, Z, K)
    y = torch.randn(B, T, Z)
    ref = -D.MixtureSameFamily(D.Categorical(logits=logit_pi), D.Normal(mu, log_sigma.exp())).log_prob(y)
    torch.testing.assert_close(gmm_nll(y, logit_pi, mu, log_sigma), ref, rtol=1e-5, atol=1e-5)


def test_mdn_rnn_step_equals_sequence_forward_and_shares_weights():
    torch.manual_seed(0)
    m = MDNRNN(latent_dim=6, action_dim=4, hidden_size=16, num_mixtures=3)
    z, a = torch.randn(2, 7, 6), torch.randint(0, 4, (2, 7))
    pred_seq, (h_end, c_end) = m(z, a)
    state = m.initial_state(2)
    for t in range(7):
        state = m.step(z[:, t], a[:, t], state)
        pred_t = m.predict(state[0])
        for k in ("mu", "logit_pi", "log_sigma", "reward", "done_logit"):
            torch.testing.assert_close(pred_t[k], pred_seq[k][:, t], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(state[0], h_end, rtol=1e-4, atol=1e-5)
    assert pred_seq["mu"].shape == (2, 7, 6, 3) and pred_seq["reward"].shape == (2, 7)
    # No second copy: the parameters are the LSTM and the head only.
    n = sum(p.numel() for p in m.parameters())
    assert n == sum(p.numel() for p in m.lstm.parameters()) + sum(p.numel() for p in m.head.parameters())


def test_mdn_sampling_temperature_and_determinism():
    torch.manual_seed(0)
    m = MDNRNN(latent_dim=4, action_dim=3, hidden_size=8, num_mixtures=2)
    pred = m.predict(torch.randn(5000, 8))
    g = torch.Generator().manual_seed(1)
    s1 = m.sample(pred, 1.0, g)
    assert s1.shape == (5000, 4)
    torch.testing.assert_close(m.sample(pred, 1.0, torch.Generator().manual_seed(1)), s1)  # same seed, same draw
    assert not torch.equal(m.sample(pred, 1.0, torch.Generator().manual_seed(3)), s1)
    cold = m.sample(pred, 0.01, torch.Generator().manual_seed(2))
    hot = m.sample(pred, 2.0, torch.Generator().manual_seed(2))
    assert hot.std() > s1.std() > cold.std()


def test_mdn_loss_runs_and_masks():
    m = MDNRNN(latent_dim=4, action_dim=3, hidden_size=8, num_mixtures=2)
    batch = {"mu": torch.randn(2, 6, 4), "logvar": torch.zeros(2, 6, 4) - 2, "actions": torch.randint(0, 3, (2, 5)),
             "rewards": torch.tensor([[0, 5.0, 0, 0, 0], [0, 0, 0, 200, 0]]), "dones": torch.zeros(2, 5),
             "mask": torch.ones(2, 5)}
    loss, metrics = m.compute_loss(batch)
    assert torch.isfinite(loss) and set(metrics) == {"loss", "nll", "reward_mse", "done_bce"}
    loss.backward()
    batch["mask"] = torch.zeros(2, 5)
    assert m.compute_loss(batch)[0].item() == pytest.approx(0.0)


def test_controller_round_trip_and_batched_logits():
    torch.manual_seed(0)
    c = Controller(latent_dim=5, hidden_size=7, action_dim=6)
    assert c.num_params == (5 + 7 + 1) * 6
    flat = np.random.default_rng(0).normal(size=c.num_params)
    np.testing.assert_allclose(c.set_flat(flat).get_flat(), flat, rtol=1e-6)
    with pytest.raises(ValueError):
        c.set_flat(flat[:-1])
    P, N = 4, 3
    params = torch.randn(P, c.num_params)
    z, h = torch.randn(P, N, 5), torch.randn(P, N, 7)
    out = batched_logits(params, z, h, 6)
    for p in range(P):
        c.set_flat(params[p].numpy())
        torch.testing.assert_close(out[p], c(z[p], h[p]), rtol=1e-5, atol=1e-5)


def test_pixel_bias_starts_the_decoder_near_the_mean_frame():
    torch.manual_seed(0)
    vae = ConvVAE(latent_dim=8)
    for m in vae.decoder.modules():  # silence the untrained decoder to see the bias alone
        if isinstance(m, torch.nn.ConvTranspose2d):
            torch.nn.init.zeros_(m.weight)
            torch.nn.init.zeros_(m.bias)
    mean = torch.rand(64, 64, 3) * 0.8 + 0.1
    vae.set_pixel_bias(mean)
    out = vae.decode(torch.randn(2, 8))
    torch.testing.assert_close(out[0].permute(1, 2, 0), mean, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("pos_weight", [1.0, 10.0])
def test_event_heads_are_calibrated_after_up_weighted_training(pos_weight):
    """Dones on 5% and life losses on 20% of the steps, independent of the input: trained with the positive
    class up-weighted by w, the event probabilities (logit - log w) come out at 5% and 20%; the raw sigmoid of
    the logit (what the seed-era dream sampled) is 10p / (1 + 9p) = 34% and 71% when w = 10."""
    import math

    torch.manual_seed(0)
    m = MDNRNN(latent_dim=2, action_dim=2, hidden_size=8, num_mixtures=1, life_head=True,
               event_logit_offset=math.log(pos_weight))
    opt = torch.optim.Adam(m.parameters(), 3e-2)
    g = torch.Generator().manual_seed(1)
    B, T = 64, 16
    for _ in range(250):
        batch = {"mu": torch.randn(B, T + 1, 2, generator=g), "logvar": torch.full((B, T + 1, 2), -4.0),
                 "actions": torch.randint(0, 2, (B, T), generator=g), "rewards": torch.zeros(B, T),
                 "dones": (torch.rand(B, T, generator=g) < 0.05).float(),
                 "life_loss": (torch.rand(B, T, generator=g) < 0.2).float(), "mask": torch.ones(B, T)}
        loss, stats = m.compute_loss(batch, done_pos_weight=pos_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert "life_bce" in stats
    with torch.no_grad():
        pred, _ = m(torch.randn(256, T, 2, generator=g), torch.randint(0, 2, (256, T), generator=g))
        probs = m.event_probs(pred)
    assert abs(float(probs["done"].mean()) - 0.05) < 0.015
    assert abs(float(probs["life"].mean()) - 0.20) < 0.03
    raw_done = float(torch.sigmoid(pred["done_logit"]).mean())
    expected_raw = 0.05 * pos_weight / (1 + 0.05 * (pos_weight - 1))
    assert abs(raw_done - expected_raw) < 0.04 * pos_weight


@pytest.mark.parametrize("events_see_z", [False, True])
def test_event_heads_that_read_the_next_latent_learn_what_only_the_next_frame_shows(events_see_z):
    """Life losses on a random 20% of steps, unpredictable from the past, and the next frame shows them (its z
    dimension 0 is +3 after a loss, 0 otherwise): heads over (h_t, z_{t+1}) learn them; heads over h_t alone can
    only learn the 20% base rate, so at p >= 0.5 they find none."""
    torch.manual_seed(0)
    m = MDNRNN(latent_dim=2, action_dim=2, hidden_size=8, num_mixtures=1, life_head=True, events_see_z=events_see_z)
    opt = torch.optim.Adam(m.parameters(), 3e-2)
    g = torch.Generator().manual_seed(1)
    B, T = 64, 16

    def batch_of(n):
        life = (torch.rand(n, T, generator=g) < 0.2).float()
        mu = torch.randn(n, T + 1, 2, generator=g) * 0.3
        mu[:, 1:, 0] += 3.0 * life
        return {"mu": mu, "logvar": torch.full((n, T + 1, 2), -6.0), "actions": torch.randint(0, 2, (n, T), generator=g),
                "rewards": torch.zeros(n, T), "dones": torch.zeros(n, T), "life_loss": life, "mask": torch.ones(n, T)}

    for _ in range(200):
        loss, _ = m.compute_loss(batch_of(B), done_pos_weight=1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    test = batch_of(256)
    with torch.no_grad():
        pred, _ = m(test["mu"][:, :-1], test["actions"], z_next=test["mu"][:, 1:])
    found = m.event_probs(pred)["life"] >= 0.5
    lost = test["life_loss"].bool()
    recall, false_alarms = float(found[lost].float().mean()), float(found[~lost].float().mean())
    if events_see_z:
        assert recall > 0.95 and false_alarms < 0.02
    else:
        assert recall < 0.05
    if events_see_z:  # the events need z_{t+1}; the mixture alone does not
        with pytest.raises(ValueError, match="z_next"):
            m(test["mu"][:, :-1], test["actions"])
        assert set(m.predict(torch.zeros(3, 8))) == {"logit_pi", "mu", "log_sigma"}
        assert MDNRNN(**m.config()).events_see_z


def test_symlog_reward_head_regresses_game_points():
    from models.mdn_rnn import symexp, symlog

    r = torch.tensor([-200.0, -1.0, 0.0, 5.0, 30.0, 200.0])
    torch.testing.assert_close(symexp(symlog(r)), r)
    torch.testing.assert_close(symlog(torch.tensor([200.0])), torch.tensor([math_log1p_200 := 5.303305]), atol=1e-5, rtol=0)
    m = MDNRNN(latent_dim=2, action_dim=2, hidden_size=4, num_mixtures=1, reward_target="symlog")
    pred = m.predict(torch.zeros(1, 4))
    with torch.no_grad():
        m.head.bias[3 * 2 * 1] = math_log1p_200
        m.head.weight.zero_()
    torch.testing.assert_close(m.reward_value(m.predict(torch.zeros(1, 4))), torch.tensor([200.0]), rtol=1e-5, atol=1e-3)
    assert "life_logit" not in pred
    with pytest.raises(ValueError, match="reward_target"):
        MDNRNN(reward_target="clip")


def test_foreground_weight_counts_pixels_off_the_background_more():
    """Frames equal to the background but for a 2x3 patch: the weighted term is the plain error plus w times
    the error on the patch's pixels (all 3 channels), and the plain ``recon`` does not change with w."""
    from models.vae import ConvVAE

    torch.manual_seed(0)
    vae = ConvVAE(latent_dim=4, frame_size=64).eval()
    bg = torch.full((3, 64, 64), 0.2)
    frames = torch.full((2, 64, 64, 3), 51, dtype=torch.uint8)  # 51 / 255 = 0.2: background everywhere
    frames[0, 10:12, 20:23] = 200  # 6 foreground pixels in frame 0
    frames[1, 5, 5] = 55  # off by 4/255 per channel: 0.047 summed, under the threshold: background
    x = vae.to_input(frames)
    torch.manual_seed(1)
    _, plain = vae.compute_loss(frames)
    torch.manual_seed(1)
    loss, weighted = vae.compute_loss(frames, background=bg, foreground_weight=9.0)
    torch.manual_seed(1)
    recon, _, _ = vae(x)
    se = (recon - x) ** 2
    patch = float(se[0, :, 10:12, 20:23].sum().detach())
    assert weighted["recon"] == pytest.approx(plain["recon"], rel=1e-6)
    assert weighted["recon_weighted"] == pytest.approx(plain["recon"] + 9.0 * patch / 2, rel=1e-5)
    assert patch > 0.01 and "recon_weighted" not in plain


def test_motion_weight_counts_pixels_that_changed_since_the_previous_frame_more():
    """A frame whose previous frame differs in a 1x4 patch (a falling bomb): the weighted term is the plain error
    plus m times the patch's error; with the foreground weight too, a moving foreground pixel counts 1 + w + m."""
    from models.vae import ConvVAE

    torch.manual_seed(0)
    vae = ConvVAE(latent_dim=4, frame_size=64).eval()
    frames = torch.full((2, 64, 64, 3), 51, dtype=torch.uint8)
    frames[0, 30, 10:14] = 150  # the bomb now
    previous = frames.clone()
    previous[0, 30, 10:14] = 51  # not there a frame ago
    previous[1, 7, 7] = 54  # 3/255 per channel: under the threshold, not motion
    x = vae.to_input(frames)
    torch.manual_seed(1)
    recon, _, _ = vae(x)
    se = (recon - x) ** 2
    patch = float(se[0, :, 30, 10:14].sum().detach())
    torch.manual_seed(1)
    _, plain = vae.compute_loss(frames)
    torch.manual_seed(1)
    _, moved = vae.compute_loss(frames, previous=previous, motion_weight=5.0)
    assert moved["recon_weighted"] == pytest.approx(plain["recon"] + 5.0 * patch / 2, rel=1e-5) and patch > 0.01
    torch.manual_seed(1)
    _, both = vae.compute_loss(frames, background=torch.full((3, 64, 64), 0.2), foreground_weight=9.0,
                               previous=previous, motion_weight=5.0)
    assert both["recon_weighted"] == pytest.approx(plain["recon"] + 14.0 * patch / 2, rel=1e-5)


def test_hit_weight_counts_the_moving_pixels_of_frames_next_to_a_paying_step_only():
    """Two frames with the same 1x4 change since their previous frames; only the first is next to a paying step:
    the hit weight h adds h times the first frame's patch error, on top of the motion weight."""
    from models.vae import ConvVAE

    torch.manual_seed(0)
    vae = ConvVAE(latent_dim=4, frame_size=64).eval()
    frames = torch.full((2, 64, 64, 3), 51, dtype=torch.uint8)
    frames[:, 30, 10:14] = 150
    previous = frames.clone()
    previous[:, 30, 10:14] = 51
    x = vae.to_input(frames)
    torch.manual_seed(1)
    recon, _, _ = vae(x)
    se = (recon - x) ** 2
    patch0, patch1 = (float(se[b, :, 30, 10:14].sum().detach()) for b in (0, 1))
    torch.manual_seed(1)
    _, plain = vae.compute_loss(frames)
    near = torch.tensor([True, False])
    torch.manual_seed(1)
    _, hit = vae.compute_loss(frames, previous=previous, near_pay=near, hit_weight=20.0)
    assert hit["recon_weighted"] == pytest.approx(plain["recon"] + 20.0 * patch0 / 2, rel=1e-5) and patch0 > 0.01
    torch.manual_seed(1)
    _, both = vae.compute_loss(frames, previous=previous, motion_weight=5.0, near_pay=near, hit_weight=20.0)
    assert both["recon_weighted"] == pytest.approx(plain["recon"] + (25.0 * patch0 + 5.0 * patch1) / 2, rel=1e-5)



def test_pay_weight_adds_the_pay_heads_cross_entropy_on_the_z_the_decoder_saw():
    """--vae.pay_weight p: the loss grows by p times the head's binary cross-entropy on the sampled z (paying class
    counted PAY_POS_WEIGHT times), computed here by hand from the same random numbers; its gradient reaches the encoder."""
    import torch.nn.functional as F

    from models.vae import PAY_POS_WEIGHT, ConvVAE

    torch.manual_seed(0)
    vae = ConvVAE(latent_dim=4, frame_size=64)
    head = torch.nn.Linear(4, 2)
    frames = torch.randint(0, 256, (3, 64, 64, 3), dtype=torch.uint8)
    pays = torch.tensor([[True, False], [False, False], [False, True]])
    torch.manual_seed(1)
    mu, logvar = vae.encode(vae.to_input(frames))
    z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
    logits = head(z).detach()
    by_hand = float(-(PAY_POS_WEIGHT * pays * F.logsigmoid(logits) + ~pays * F.logsigmoid(-logits)).sum(1).mean())
    torch.manual_seed(1)
    plain, _ = vae.compute_loss(frames)
    torch.manual_seed(1)
    paid, stats = vae.compute_loss(frames, pay_head=head, pays=pays, pay_weight=3.0)
    assert stats["pay_bce"] == pytest.approx(by_hand, rel=1e-5) and by_hand > 0.1
    assert float((paid - plain).detach()) == pytest.approx(3.0 * by_hand, rel=1e-4)
    vae.zero_grad()
    (paid - plain).backward()
    assert float(vae.fc_mu.weight.grad.abs().sum()) > 0 and float(head.weight.grad.abs().sum()) > 0
    assert vae.decoder[0].weight.grad is None or float(vae.decoder[0].weight.grad.abs().sum()) == 0.0


def test_train_vae_trains_the_pay_head_on_the_collected_labels(tmp_path, monkeypatch):
    """--vae.pay_weight: every batch reaches the loss with the pay head and its frames' pay_labels; the head's
    weights are not in the saved VAE (test_resume checks they are in the resume state)."""
    from conftest import tiny_config

    import train_vae
    from models.vae import ConvVAE
    from utils.data import complete_manifest, load_shard, pay_labels, shard_paths

    cfg = tiny_config(tmp_path, **{"vae.pay_weight": 5.0, "vae.num_epochs": 1, "data.max_steps_per_rollout": 200,
                                   "vae.batch_size": 4})  # the dropped last batch is under 4 frames
    seen = {"labels": np.zeros(2, int), "frames": 0, "weights": set()}
    real_loss = ConvVAE.compute_loss

    def spy(self, frames, *a, **k):
        seen["labels"] += a[9].sum(0).numpy()
        seen["frames"] += len(frames)
        seen["weights"].add(a[10])
        assert isinstance(a[8], torch.nn.Linear) and a[8].out_features == 2
        return real_loss(self, frames, *a, **k)

    monkeypatch.setattr(ConvVAE, "compute_loss", spy)
    train_vae.main(cfg)
    shards = [load_shard(p) for p in shard_paths(cfg.data_path, complete_manifest(cfg.data_path))]
    truth = pay_labels(np.concatenate([s["lengths"] for s in shards]), np.concatenate([s["rewards"] for s in shards]))
    total = len(truth)
    assert seen["weights"] == {5.0} and seen["frames"] == total - total % cfg.vae.batch_size
    dropped = total % cfg.vae.batch_size
    assert (truth.sum(0) > dropped).all() and ((truth.sum(0) - dropped <= seen["labels"]) & (seen["labels"] <= truth.sum(0))).all()
    from safetensors.torch import load_file

    saved = load_file(str(cfg.run_path / "vae" / "model.safetensors"))
    assert not any("pay" in k for k in saved) and "fc_mu.weight" in saved

def test_train_vae_hands_the_loss_the_frames_next_to_a_paying_step(tmp_path, monkeypatch):
    """--vae.hit_weight: each batch reaches the loss with its frames' near-pay flags and the weight; over one epoch
    the flagged frames seen are those of the collected data (less the dropped last batch)."""
    from conftest import tiny_config

    import train_vae
    from models.vae import ConvVAE
    from utils.data import complete_manifest, load_shard, near_pay_frames, shard_paths

    cfg = tiny_config(tmp_path, **{"vae.hit_weight": 30.0, "vae.num_epochs": 1, "data.max_steps_per_rollout": 200})
    seen = {"flags": 0, "frames": 0, "weights": set()}
    real_loss = ConvVAE.compute_loss

    def spy(self, frames, *a, **k):
        seen["flags"] += int(a[6].sum())
        seen["frames"] += len(frames)
        seen["weights"].add(a[7])
        return real_loss(self, frames, *a, **k)

    monkeypatch.setattr(ConvVAE, "compute_loss", spy)
    train_vae.main(cfg)
    manifest = complete_manifest(cfg.data_path)
    shards = [load_shard(p) for p in shard_paths(cfg.data_path, manifest)]
    truth = near_pay_frames(np.concatenate([s["lengths"] for s in shards]), np.concatenate([s["rewards"] for s in shards]))
    total = len(truth)
    assert seen["weights"] == {30.0} and seen["frames"] == total - total % cfg.vae.batch_size
    assert truth.sum() > cfg.vae.batch_size and truth.sum() - cfg.vae.batch_size <= seen["flags"] <= truth.sum()


def test_twohot_targets_put_their_mass_on_the_two_nearest_bins():
    from models.mdn_rnn import TWOHOT_BINS, twohot

    bins = torch.linspace(-2.0, 6.0, TWOHOT_BINS)
    y = torch.tensor([0.0, 0.1, 3.4340, 5.99, -2.0, 9.0, -7.0])
    t = twohot(y, bins)
    torch.testing.assert_close(t.sum(-1), torch.ones(len(y)))
    torch.testing.assert_close((t * bins).sum(-1), y.clamp(-2.0, 6.0))  # exact inside, clipped outside
    assert int((t > 0).sum(-1).max()) <= 2
    assert float(t[1, 8]) == pytest.approx(0.6, abs=1e-5) and float(t[1, 9]) == pytest.approx(0.4, abs=1e-5)  # 0.1 = 0 + 0.4 * 0.25


@pytest.mark.parametrize("target, expected", [("twohot", 3.0), ("symlog", 31 ** 0.1 - 1)])
def test_reward_heads_expected_points_on_a_rare_reward(target, expected):
    """30 points on 10% of the steps, whatever the input (mean 3 points per step): the two-hot head's
    expectation is the mean; symexp of the symlog regression is symexp(0.1 log 31) = 31^0.1 - 1 = 0.41,
    the bias that makes the symlog head undervalue rare rewards in the dream."""
    torch.manual_seed(0)
    m = MDNRNN(latent_dim=2, action_dim=2, hidden_size=8, num_mixtures=1, reward_target=target)
    opt = torch.optim.Adam(m.parameters(), 3e-2)
    g = torch.Generator().manual_seed(1)
    B, T = 64, 16
    for _ in range(300):
        batch = {"mu": torch.randn(B, T + 1, 2, generator=g), "logvar": torch.full((B, T + 1, 2), -4.0),
                 "actions": torch.randint(0, 2, (B, T), generator=g),
                 "rewards": 30.0 * (torch.rand(B, T, generator=g) < 0.1).float(),
                 "dones": torch.zeros(B, T), "mask": torch.ones(B, T)}
        loss, stats = m.compute_loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert ("reward_ce" in stats) == (target == "twohot")
    with torch.no_grad():
        pred, _ = m(torch.randn(256, T, 2, generator=g), torch.randint(0, 2, (256, T), generator=g))
    assert float(m.reward_value(pred).mean()) == pytest.approx(expected, rel=0.15)


def test_fit_logit_offset_matches_the_event_count():
    from models.mdn_rnn import fit_logit_offset

    logits = torch.randn(500, generator=torch.Generator().manual_seed(0)) * 2 - 3
    for events in (3.0, 40.0):
        b = fit_logit_offset(logits, events)
        assert abs(float(torch.sigmoid(logits - b).sum()) - events) < 1e-3
    assert abs(float(torch.sigmoid(logits - fit_logit_offset(logits, 0.0)).sum()) - 0.5) < 1e-3  # no event: half of one


def test_calibration_on_held_out_episodes_gives_their_event_rates():
    """Done logit forced to 2 and life logit to -1 everywhere: fitted on held-out episodes with 2 game overs and
    5 life losses in 40 steps, the offsets are 2 - logit(2/40) and -1 - logit(5/40), whatever the training
    class weight was; LatentData.episodes keeps each episode's frames, steps and lives together."""
    import math

    from train_mdn_rnn import calibrate_on
    from utils.data import LatentData

    rng = np.random.default_rng(0)
    lengths = np.array([15, 25, 10])
    F, S = int(lengths.sum() + 3), int(lengths.sum())
    lives = np.concatenate([np.array([3] * 6 + [2] * 5 + [1] * 5), np.array([3] * 8 + [2] * 8 + [1] * 4 + [0] * 6),
                            np.array([3] * 5 + [2] * 6)]).astype(np.uint8)
    dones = np.zeros(S, bool)
    dones[[14, 39]] = True
    data = LatentData(mu=rng.normal(size=(F, 4)).astype(np.float32), logvar=np.zeros((F, 4), np.float32),
                      actions=rng.integers(3, size=S).astype(np.uint8), rewards=np.zeros(S, np.float32), dones=dones,
                      lives=lives, lengths=lengths)
    held = data.episodes(np.array([0, 1]))
    assert held.lengths.tolist() == [15, 25] and int(held.dones.sum()) == 2 and int(held.life_loss.sum()) == 5
    np.testing.assert_array_equal(held.mu, data.mu[:16 + 26])
    np.testing.assert_array_equal(data.episodes(np.array([2])).lives, lives[-11:])
    m = MDNRNN(latent_dim=4, action_dim=3, hidden_size=8, num_mixtures=2, life_head=True, event_logit_offset=math.log(10.0))
    base = 3 * 4 * 2
    with torch.no_grad():
        m.head.weight[base + 1:].zero_()
        m.head.bias[base + 1], m.head.bias[base + 2] = 2.0, -1.0
    steps, deaths, losses = int(held.lengths.sum()), float(held.dones.sum()), float(held.life_loss.sum())
    out = calibrate_on(m, held, torch.device("cpu"))
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    assert out["done"]["events"] == deaths and out["life"]["events"] == losses and out["done"]["steps"] == steps
    assert m.event_logit_offset == pytest.approx(2.0 - logit(deaths / steps), abs=1e-4)
    assert m.life_logit_offset == pytest.approx(-1.0 - logit(losses / steps), abs=1e-4)
    assert out["done"]["class_weight_offset"] == pytest.approx(math.log(10.0))
    # The fitted offsets travel with the model's config (what load_mdn_rnn rebuilds it from).
    again = MDNRNN(**m.config())
    assert again.event_logit_offset == m.event_logit_offset and again.life_logit_offset == m.life_logit_offset


def test_mdn_rnn_z_target_mean_trains_on_the_vae_means():
    """z_target mean: the loss reads the VAE's means (no draw, so two calls agree and equal the loss of a batch whose
    logvar is -inf), while sample draws z around them (two calls differ); the choice is saved in the config and an
    unknown one is refused."""
    torch.manual_seed(0)
    batch = {"mu": torch.randn(2, 6, 4), "logvar": torch.zeros(2, 6, 4), "actions": torch.randint(0, 3, (2, 5)),
             "rewards": torch.zeros(2, 5), "dones": torch.zeros(2, 5), "mask": torch.ones(2, 5)}
    mean = MDNRNN(latent_dim=4, action_dim=3, hidden_size=8, num_mixtures=2, z_target="mean")
    sample = MDNRNN(latent_dim=4, action_dim=3, hidden_size=8, num_mixtures=2)
    sample.load_state_dict(mean.state_dict())
    a, b = mean.compute_loss(batch)[0].item(), mean.compute_loss(batch)[0].item()
    assert a == b == sample.compute_loss({**batch, "logvar": torch.full((2, 6, 4), -torch.inf)})[0].item()
    assert sample.compute_loss(batch)[0].item() != sample.compute_loss(batch)[0].item() != a
    assert mean.config()["z_target"] == "mean" and "z_target" not in sample.config()  # older checkpoints load as sample
    assert MDNRNN(**mean.config()).z_target == "mean"
    with pytest.raises(ValueError, match="z_target must be sample or mean"):
        MDNRNN(latent_dim=4, action_dim=3, z_target="mu")

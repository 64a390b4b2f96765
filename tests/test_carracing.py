"""CarRacing-v3 (issue 13): continuous actions through the whole pipeline, the Atari path unchanged.

* the MDN-RNN reads the action vector (step == sequence forward; a one-hot model is not what it computes),
  and learns from it (the loss falls on a stream whose next z is the action);
* the controller's tanh mapping lands in CarRacing's box (steer -1..1, gas and brake 0..1), exactly at
  the bounds' midpoints for zero output, and the dream and real play use the same mapping;
* the Brownian random policy stays in the box, moves in small steps and is the same for the same seed;
* the env: the same seed gives the same track (first frame) and the same score, single and vector env;
* a tiny CarRacing pipeline end to end (data, VAE, MDN-RNN, controller, evaluation with references,
  the dream report), and DDQN refused in one line.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import tiny_config

from models.controller import batched_logits, to_actions
from models.mdn_rnn import MDNRNN
from utils.data import BrownianPolicy
from utils.wrappers import CAR_RACING_BOX

BOX = CAR_RACING_BOX


def car_config(tmp, **overrides):
    base = {"env.env_id": "CarRacing-v3", "env.max_episode_frames": 120, "data.max_steps_per_rollout": 60,
            "controller.real_max_steps": 60}
    base.update(overrides)
    return tiny_config(tmp, **base)


def test_game_defaults_replace_the_atari_settings_and_an_explicit_flag_wins(tmp_path):
    cfg = car_config(tmp_path)
    assert (cfg.env.frameskip, cfg.env.repeat_action_probability, cfg.env.maxpool, cfg.mdn_rnn.life_head) == (1, 0.0, False, False)
    assert car_config(tmp_path, **{"env.frameskip": 2}).env.frameskip == 2
    assert tiny_config(tmp_path).env.frameskip == 4  # Atari keeps its own


def test_continuous_mdn_rnn_reads_the_action_vector_step_equals_forward():
    torch.manual_seed(0)
    m = MDNRNN(latent_dim=5, action_dim=3, hidden_size=12, num_mixtures=2, action_low=BOX[0], action_high=BOX[1])
    assert m.continuous and m.config()["action_low"] == BOX[0]
    z, a = torch.randn(2, 6, 5), torch.rand(2, 6, 3)
    pred_seq, (h_end, _) = m(z, a)
    state = m.initial_state(2)
    for t in range(6):
        state = m.step(z[:, t], a[:, t], state)
        torch.testing.assert_close(m.predict(state[0])["mu"], pred_seq["mu"][:, t], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(state[0], h_end, rtol=1e-4, atol=1e-5)
    # The action's value matters (a one-hot reading or a dropped action would not change h this way).
    other, _ = m(z, a * 0.0)
    assert not torch.allclose(other["mu"], pred_seq["mu"])
    with pytest.raises(ValueError, match="action_low"):
        MDNRNN(latent_dim=5, action_dim=3, action_low=[0.0, 0.0])


def test_continuous_mdn_rnn_learns_a_next_z_that_is_the_action():
    torch.manual_seed(0)
    m = MDNRNN(latent_dim=3, action_dim=3, hidden_size=16, num_mixtures=1, action_low=BOX[0], action_high=BOX[1])
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    a = torch.rand(8, 10, 3) * 2 - 1
    mu = torch.cat([torch.zeros(8, 1, 3), a], dim=1)  # z_{t+1} = a_t
    batch = {"mu": mu, "logvar": torch.full_like(mu, -6.0), "actions": a, "rewards": torch.zeros(8, 10),
             "dones": torch.zeros(8, 10), "mask": torch.ones(8, 10)}
    first = m.compute_loss(batch)[1]["nll"]
    for _ in range(300):
        opt.zero_grad()
        loss, metrics = m.compute_loss(batch)
        loss.backward()
        opt.step()
    assert metrics["nll"] < first - 1.0  # per dimension: the action predicts the next z


def test_controller_tanh_mapping_lands_in_the_box():
    low, high = BOX
    big = torch.tensor([[-50.0, -50.0, -50.0], [50.0, 50.0, 50.0], [0.0, 0.0, 0.0]])
    a = to_actions(big, low, high)
    torch.testing.assert_close(a[0], torch.tensor(low))
    torch.testing.assert_close(a[1], torch.tensor(high))
    torch.testing.assert_close(a[2], torch.tensor([0.0, 0.5, 0.5]))  # zero output: the middle of each range
    x = torch.randn(1000, 3) * 3
    out = to_actions(x, low, high)
    assert (out >= torch.tensor(low)).all() and (out <= torch.tensor(high)).all()
    torch.testing.assert_close(out[:, 0], torch.tanh(x[:, 0]))  # steer is tanh itself
    torch.testing.assert_close(out[:, 1], (torch.tanh(x[:, 1]) + 1) / 2)
    assert to_actions(x).shape == (1000,)  # discrete: the argmax index, as before
    # The paper's brake: tanh clipped into 0..1, so the zero controller does not brake; the others unchanged.
    clipped = to_actions(x, low, high, [False, False, True])
    torch.testing.assert_close(clipped[:, :2], out[:, :2])
    torch.testing.assert_close(clipped[:, 2], torch.tanh(x[:, 2]).clamp(0.0, 1.0))
    torch.testing.assert_close(to_actions(big, low, high, [False, False, True])[2], torch.tensor([0.0, 0.5, 0.0]))
    assert (clipped[:, 2] == 0).float().mean() > 0.4  # half of the outputs: no brake at all
    # The dream's and the real policy's controller: batched_logits then the same mapping.
    params = torch.randn(2, (4 + 6 + 1) * 3)
    z, h = torch.randn(2, 5, 4), torch.randn(2, 5, 6)
    acts = to_actions(batched_logits(params, z, h, 3), low, high)
    assert acts.shape == (2, 5, 3) and acts[..., 1:].min() >= 0


def test_brownian_random_policy_stays_in_the_box_and_is_seeded():
    p = BrownianPolicy(*BOX, np.random.default_rng(3))
    seq = np.stack([p() for _ in range(500)])
    q = BrownianPolicy(*BOX, np.random.default_rng(3))
    np.testing.assert_array_equal(seq, np.stack([q() for _ in range(500)]))
    assert seq.shape == (500, 3) and seq.dtype == np.float32
    assert (seq >= np.array(BOX[0], np.float32)).all() and (seq <= np.array(BOX[1], np.float32)).all()
    steps = np.abs(np.diff(seq, axis=0))
    assert steps.max() <= np.sqrt(1 / 50) * 5 and steps.mean() < 0.12  # a walk, not fresh uniform draws
    assert seq[:, 0].std() > 0.1  # it does steer


def test_same_seed_same_track_and_score_single_and_vector(tmp_path):
    from utils.evaluation import ConstantPolicy
    from utils.runner import run_episodes
    from utils.wrappers import make_single_env, make_vector_env

    cfg = car_config(tmp_path)
    env = make_single_env(cfg.env)
    first = [env.reset(seed=s)[0] for s in (5, 6, 5)]
    env.close()
    assert first[0].shape == (64, 64, 3) and np.array_equal(first[0], first[2]) and not np.array_equal(first[0], first[1])
    venv = make_vector_env(cfg.env, 2)
    obs, _ = venv.reset(seed=np.array([6, 5]))
    venv.close()
    np.testing.assert_array_equal(obs[1, 0], first[0])  # the vector env's worker: the same track
    gas = ConstantPolicy(np.array([0.0, 0.6, 0.0], np.float32))
    a = run_episodes(cfg.env, gas, [5, 6, 5], num_envs=2, max_steps=80)
    b = run_episodes(cfg.env, gas, [5, 6, 5], num_envs=3, max_steps=80)
    np.testing.assert_allclose(a.returns, b.returns)
    assert a.returns[0] == a.returns[2] != a.returns[1]
    np.testing.assert_allclose(a.action_counts, [0.0, 0.6 * a.lengths.sum(), 0.0], rtol=1e-5)  # summed action vectors


def test_patience_ends_an_episode_that_stops_paying(tmp_path):
    """Training's early stop: a car that never moves earns only its start tile (the first step) and ends
    ``patience`` steps later; one on the gas keeps paying and plays on to the step cap."""
    from utils.evaluation import ConstantPolicy
    from utils.runner import run_episodes

    cfg = car_config(tmp_path)
    still = ConstantPolicy(np.array([0.0, 0.0, 1.0], np.float32))
    brake = run_episodes(cfg.env, still, [5, 6], max_steps=200, patience=40)
    assert brake.lengths.tolist() == [41, 41] and not brake.terminated.any()
    np.testing.assert_allclose(brake.returns, run_episodes(cfg.env, still, [5, 6], max_steps=41).returns)
    gas = ConstantPolicy(np.array([0.0, 0.6, 0.0], np.float32))
    full = run_episodes(cfg.env, gas, [5, 6], max_steps=100)
    patient = run_episodes(cfg.env, gas, [5, 6], max_steps=100, patience=40)
    np.testing.assert_array_equal(patient.lengths, full.lengths)  # never 40 steps without a tile: unchanged
    np.testing.assert_allclose(patient.returns, full.returns)
    assert (full.lengths == 100).all() and (full.returns > 0).all()


def test_carracing_preset_learns_in_the_real_game_and_stops_unpaid_episodes():
    from config import make_config

    cfg = make_config("carracing")
    assert cfg.controller.dream_epochs == 0 and cfg.controller.real_epochs == 60  # the paper trains CarRacing for real
    assert cfg.controller.real_patience == 100 and cfg.env.frameskip == 1  # the game's defaults
    assert make_config("default").controller.real_patience == 0  # Atari: whole games
    assert make_config("carracing", **{"controller.real_patience": 0}).controller.real_patience == 0  # a flag wins
    assert make_config("dry-run", **{"env.env_id": "CarRacing-v3"}).controller.real_patience == 100


def test_carracing_dry_run_end_to_end(tmp_path):
    import json

    import evaluate
    import train_world_model

    cfg = car_config(tmp_path)
    summary = train_world_model.main(cfg)
    run = cfg.run_path
    shard = np.load(sorted((run / "data").glob("shard_*.npz"))[0])
    assert shard["actions"].dtype == np.float32 and shard["actions"].shape[1] == 3
    assert shard["actions"][:, 1:].min() >= 0 and shard["actions"][:, 0].min() >= -1
    mdn_cfg = json.loads((run / "mdn_rnn" / "config.json").read_text())
    assert mdn_cfg["action_low"] == BOX[0] and mdn_cfg["life_head"] is False
    assert mdn_cfg["action_clip"] == [False, False, True]  # the paper's brake mapping, saved with the model
    res = json.loads((run / "eval" / "results.json").read_text())
    agent = res["agent"]
    assert set(agent["action_mean"]) == {"steer", "gas", "brake"} and "action_share" not in agent
    assert -1 <= agent["action_mean"]["steer"] <= 1 and agent["action_mean"]["gas"] >= 0
    assert summary["evaluate"]["mean"] == pytest.approx(agent["mean"], abs=0.05)  # the summary rounds to 0.1
    assert "CarRacing-v3" in res["protocol"] and "sticky" not in res["protocol"]
    logged = [json.loads(line) for line in (run / "logs" / "controller.jsonl").read_text().splitlines()]
    assert any("controller/dream_best" in rec for rec in logged)
    assert not any(k.endswith("top_action_share") for rec in logged for k in rec)  # summed vectors have no top action
    # The reference policies and the dream report on the continuous game.
    opts = evaluate.EvaluateOptions(output=str(tmp_path / "ref.json"), reference=True)
    ref = evaluate.main(cfg, opts)["reference"]
    assert set(ref["constant"]) == {"gas", "half gas"} and ref["random"]["num_episodes"] == cfg.eval.num_episodes
    assert ref["random"]["action_mean"]["gas"] == pytest.approx(0.5, abs=0.1)  # uniform in [0, 1]
    again = evaluate.main(cfg, evaluate.EvaluateOptions(output=str(tmp_path / "again.json")))
    assert [e["score"] for e in again["agent"]["episodes"]] == [e["score"] for e in agent["episodes"]]


def test_ddqn_is_refused_on_a_continuous_game(tmp_path):
    from baselines.training import train
    from utils.io import UserError

    with pytest.raises(UserError, match="DDQN.*discrete"):
        train(car_config(tmp_path), "ddqn")
    from train_baselines import parse_algorithms

    assert parse_algorithms(["all"], continuous=True) == ["ppo", "sac"]  # "all" = what the game's actions allow
    assert parse_algorithms(["all"]) == ["ddqn", "ppo", "sac"]


def test_ppo_and_sac_on_carracing_train_play_back_and_publish(tmp_path):
    """PPO (rl-zoo's gSDE policy) and SB3's continuous SAC train on CarRacing, their checkpoints load without
    unpickling into the same class acting exactly as the trained model, seeded evaluation repeats, and a
    published folder played with ``--from-hub`` gives the published scores; always-FIRE is skipped in one line."""
    import json

    from conftest import tiny_baseline_config
    from stable_baselines3 import PPO, SAC

    import evaluate
    import publish_model
    from baselines.checkpoints import load_model
    from baselines.envs import make_baseline_env
    from baselines.training import evaluate_model, train
    from utils.agents import reference_agent

    cfg = tiny_baseline_config(tmp_path, **{
        "env.env_id": "CarRacing-v3", "env.max_episode_frames": 50, "baselines.frame_budget": 128,
        "baselines.eval_freq_frames": 64, "ppo.n_steps": 32, "ppo.batch_size": 32, "sac.learning_starts": 32,
        "sac.batch_size": 8, "sac.tau": 0.005, "sac.target_update_interval": 1, "ppo.deterministic_eval": True,
        "sac.deterministic_eval": True})
    obs = make_baseline_env(cfg.env, 1, seed=0, training=False).reset()
    assert obs.shape == (1, 64, 64, 2)  # 64x64 grey, 2 stacked frames (rl-zoo's CarRacing preprocessing)
    seeds = cfg.eval.seeds()
    for algo, cls in (("ppo", PPO), ("sac", SAC)):
        metrics = train(cfg, algo)
        assert metrics["agent_steps"] >= 128
        zip_path = cfg.run_path / "baselines" / algo / "final_model.zip"
        model = load_model(algo, zip_path)
        assert type(model) is cls and model.action_space.shape == (3,)
        assert algo != "ppo" or model.use_sde  # gSDE, as rl-zoo's CarRacing PPO
        trained = cls.load(zip_path, device="cpu")  # SB3's own (unpickling) load as the reference
        x = np.random.default_rng(0).integers(0, 256, (4, 2, 64, 64), dtype=np.uint8)
        np.testing.assert_array_equal(model.predict(x, deterministic=True)[0], trained.predict(x, deterministic=True)[0])
        first = evaluate_model(model, cfg.env, seeds, deterministic=True, num_envs=2)
        again = evaluate_model(model, cfg.env, seeds, deterministic=True, num_envs=1)
        assert [e["score"] for e in first["episodes"]] == [e["score"] for e in again["episodes"]]
        assert set(first["action_mean"]) == {"steer", "gas", "brake"}
        folder = tmp_path / f"hub_{algo}"
        argv = ["--run", str(cfg.run_path), "--env-id", "CarRacing-v3", "--hf-username", "someone", "--agent", algo,
                "--num-episodes", "2", "--env.max-episode-frames", "50", "--logging.progress", "false",
                "--comparison-dir", "", "--local-dir", str(folder), "--dry-run"]
        assert publish_model.cli(argv) == 0
        card = (folder / "README.md").read_text()
        assert "box2d" in card and "64x64 grey, 2 stacked frames" in card and "atari" not in card
        out = tmp_path / f"{algo}.json"
        assert evaluate.cli(["--dry-run", "--num-episodes", "2", "--logging.progress", "false", "--env.max-episode-frames",
                             "50", "--from-hub", str(folder), "--output", str(out)]) == 0
        played = json.loads(out.read_text())["agent_results"]["episodes"]
        published = json.loads((folder / "results.json").read_text())["results"]["episodes"]
        assert [e["score"] for e in played] == [e["score"] for e in published]
    with pytest.raises(FileNotFoundError, match="no FIRE action"):
        reference_agent(cfg, "fire")
    # Each CarRacing env is a process: references and World Models play eval.num_envs (4) games at once, not all.
    assert reference_agent(cfg, "random").num_envs == cfg.eval.num_envs == 4


def play_world_models(tmp_path, num_envs: int):
    """A random World Models agent (continuous actions) on CarRacing tracks 5 and 6, num_envs at a time."""
    from models.vae import ConvVAE
    from utils.runner import run_episodes
    from utils.world_model import WorldModelPolicy

    torch.manual_seed(0)
    vae = ConvVAE(8, 64).eval().to(memory_format=torch.channels_last)
    mdn = MDNRNN(8, 3, 16, 2, action_low=BOX[0], action_high=BOX[1]).eval()
    params = torch.randn(1, (8 + 16 + 1) * 3) * 2.0
    return run_episodes(car_config(tmp_path).env, WorldModelPolicy(vae, mdn, params), [5, 6], num_envs=num_envs, max_steps=150)


def test_world_models_on_carracing_same_scores_for_any_number_of_envs(tmp_path):
    a, b, one = play_world_models(tmp_path, 2), play_world_models(tmp_path, 2), play_world_models(tmp_path, 1)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_array_equal(a.returns, one.returns)
    assert a.returns[0] != a.returns[1] and np.abs(a.action_counts).sum() > 0


def test_continuous_actions_do_not_depend_on_the_batch_or_the_thread_count():
    """A full-size VAE and LSTM: the CPU kernels round a row differently in a batch of other size or on another
    thread count (1e-7 here), which CarRacing's physics would amplify into another score; the policy plays continuous
    games row by row on one thread, so every row's actions and LSTM state are bit-identical whatever the batch."""
    from models.vae import ConvVAE
    from utils.world_model import WorldModelPolicy

    torch.manual_seed(0)
    vae = ConvVAE(32, 64).eval().to(memory_format=torch.channels_last)
    mdn = MDNRNN(32, 3, 256, 5, action_low=BOX[0], action_high=BOX[1]).eval()
    params = torch.randn(1, (32 + 256 + 1) * 3) * 0.3
    frames = np.random.default_rng(0).integers(0, 256, (3, 20, 64, 64, 3), dtype=np.uint8)
    threads = torch.get_num_threads()

    def play(batch: int, num_threads: int) -> np.ndarray:
        torch.set_num_threads(num_threads)
        policy = WorldModelPolicy(vae, mdn, params)
        policy.reset(20)
        policy.start(np.arange(20), np.arange(20))
        steps = [np.concatenate([policy.act(f[i:i + batch], np.arange(i, min(i + batch, 20))) for i in range(0, 20, batch)])
                 for f in frames]  # the LSTM state carries from step to step
        return np.stack(steps + [policy.state[0].numpy()[:, :3]])

    try:
        alone = play(1, 1)
        for batch, num_threads in ((20, 2), (20, 1), (7, 2)):
            np.testing.assert_array_equal(play(batch, num_threads), alone)
    finally:
        torch.set_num_threads(threads)
    assert np.ptp(alone[:3, :, 0]) > 0.1  # the steering differs across frames: not a saturated constant

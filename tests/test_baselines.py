"""Baselines: the Double-DQN target and the discrete-SAC losses on hand-made batches, the uint8
frame-stack buffer against the env's own stacks, and real few-hundred-step train/save/reload/eval
cycles of DDQN, PPO and SAC through the shared harness."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT, tiny_baseline_config
from stable_baselines3.common.vec_env import VecTransposeImage

from baselines.buffer import FrameStackReplayBuffer
from baselines.checkpoints import ALGORITHMS, load_model
from baselines.ddqn import DoubleDQN, double_q_target
from baselines.envs import make_baseline_env
from baselines.sac import actor_loss, alpha_loss, critic_loss, soft_target
from baselines.training import evaluate_checkpoint, total_timesteps, train
from config import EnvConfig
from utils.io import UserError
from utils.logger import read_log
from utils.run_paths import RunPaths


def test_double_q_target_uses_online_argmax_and_target_value():
    q_online = torch.tensor([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0]])
    q_target = torch.tensor([[10.0, 7.0, 30.0], [1.0, 50.0, 2.0]])
    rewards = torch.tensor([[1.0], [0.5]])
    dones = torch.tensor([[0.0], [1.0]])
    y = double_q_target(q_online, q_target, rewards, dones, 0.9)
    # Row 0: online picks action 1 -> target value 7 (plain DQN would use max 30).
    # Row 1: terminal -> reward only.
    torch.testing.assert_close(y, torch.tensor([[1.0 + 0.9 * 7.0], [0.5]]))


def test_soft_target_is_the_exact_expectation_over_actions():
    probs = torch.tensor([[0.5, 0.5], [0.25, 0.75]])
    logp = probs.log()
    q1 = torch.tensor([[1.0, 4.0], [2.0, 0.0]])
    q2 = torch.tensor([[3.0, 2.0], [1.0, 5.0]])
    y = soft_target(probs, logp, q1, q2, torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [1.0]]), 0.9, 0.1)
    # Row 0: min Q = [1, 2]; V = 0.5 (1 - 0.1 ln .5) + 0.5 (2 - 0.1 ln .5) = 1.5 + 0.1 ln 2.
    v0 = 1.5 + 0.1 * math.log(2)
    torch.testing.assert_close(y, torch.tensor([[1.0 + 0.9 * v0], [2.0]]))


def test_sac_critic_actor_and_alpha_losses_on_a_hand_made_batch():
    q1 = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    q2 = torch.tensor([[0.0, 5.0], [3.0, 1.0]])
    actions = torch.tensor([[1], [0]])
    target = torch.tensor([[2.0], [2.0]])
    # Q1(s, a) = [2, 3], Q2(s, a) = [5, 3]: MSE 0.5 + 5.0.
    assert critic_loss(q1, q2, actions, target).item() == pytest.approx(0.5 + 5.0)
    probs = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    logp = torch.log(probs.clamp_min(1e-12))
    # Row 0: all mass on action 0 (min Q 0): 0 * ... + 1 * (0.2 * 0 - 0) = 0. Row 1: min Q = [3, 1].
    row1 = 0.5 * (0.2 * math.log(0.5) - 3.0) + 0.5 * (0.2 * math.log(0.5) - 1.0)
    assert actor_loss(probs, logp, q1, q2, 0.2).item() == pytest.approx((0.0 + row1) / 2, abs=1e-5)
    # The temperature rises while entropy is below target and falls above it.
    log_alpha = torch.zeros(1, requires_grad=True)
    peaked = torch.tensor([[0.97, 0.01, 0.01, 0.01]])
    alpha_loss(log_alpha, peaked, peaked.log(), target_entropy=0.89 * math.log(4)).backward()
    assert log_alpha.grad.item() < 0  # gradient descent increases alpha
    log_alpha.grad = None
    flat = torch.full((1, 4), 0.25)
    alpha_loss(log_alpha, flat, flat.log(), target_entropy=0.5 * math.log(4)).backward()
    assert log_alpha.grad.item() > 0


def test_baseline_env_preprocessing():
    env = make_baseline_env(EnvConfig(), n_envs=2, seed=0, training=True)
    obs = env.reset()
    assert obs.shape == (2, 84, 84, 4) and obs.dtype == np.uint8
    assert env.action_space.n == 6
    env.close()


def test_frame_stack_buffer_rebuilds_the_envs_stacks_exactly():
    """Play random actions (life-loss terminals included), store them as SB3's collector does, and
    compare every stored and next observation the buffer rebuilds with what the env returned."""
    env = VecTransposeImage(make_baseline_env(EnvConfig(max_episode_frames=4_000), n_envs=1, seed=3, training=True))
    size = 97
    buf = FrameStackReplayBuffer(size, env.observation_space, env.action_space, device="cpu")
    rng = np.random.default_rng(0)
    obs = env.reset()
    observations, next_observations, dones = [], [], []
    for _ in range(600):
        action = rng.integers(6, size=1)
        new_obs, reward, done, infos = env.step(action)
        nxt = new_obs.copy()
        if done[0]:
            nxt[0] = infos[0]["terminal_observation"]
        buf.add(obs, nxt, action, reward, done, infos)
        observations.append(obs[0].copy())
        next_observations.append(nxt[0].copy())
        dones.append(bool(done[0]))
        obs = new_obs
    env.close()
    assert sum(dones) >= 2, "the test needs episode (life) ends inside the buffer"
    assert buf.full
    T = len(observations)
    checked = 0
    for k in range(size - buf.stack):  # every slot sample() can draw
        slot = (buf.pos + buf.stack + k) % size
        t = max(t for t in range(T) if t % size == slot)
        env_idx = np.zeros(1, dtype=np.int64)
        np.testing.assert_array_equal(buf.stacked(np.array([slot]), env_idx)[0], observations[t])
        if not dones[t]:
            np.testing.assert_array_equal(buf.stacked(np.array([(slot + 1) % size]), env_idx)[0], next_observations[t])
        checked += 1
    assert checked == size - buf.stack
    batch = buf.sample(16)
    assert batch.observations.shape == (16, 4, 84, 84) and batch.next_observations.shape == (16, 4, 84, 84)


def test_a_100k_replay_buffer_is_well_under_2_gb():
    env = VecTransposeImage(make_baseline_env(EnvConfig(), n_envs=1, seed=0, training=True))
    buf = FrameStackReplayBuffer(100_000, env.observation_space, env.action_space, device="cpu")
    env.close()
    assert buf.frames.dtype == np.uint8
    assert buf.nbytes < 0.8e9  # 100k x 84 x 84 bytes + small arrays (SB3's own buffer: 2.8 GB at best)


def test_frame_budget_and_timestep_flags():
    cfg = tiny_baseline_config(ROOT / "unused", **{"baselines.frame_budget": 4_000})
    assert total_timesteps(cfg, "ddqn") == 1_000  # frames / frameskip
    cfg.ppo.total_timesteps = 64
    assert total_timesteps(cfg, "ppo") == 64


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_train_save_reload_and_evaluate(baseline_run, algo):
    cfg = baseline_run
    out = RunPaths.of(cfg).baseline(algo)
    for name in ("final_model.zip", "best_model.zip", "metrics.json", "config.json", "logs/train.jsonl", "logs/eval.jsonl"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    metrics = json.loads((out / "metrics.json").read_text())
    budget = total_timesteps(cfg, algo)
    assert budget <= metrics["agent_steps"] < budget + 64  # PPO finishes its last rollout
    assert metrics["env_frames"] == metrics["agent_steps"] * cfg.env.frameskip
    assert metrics["training_games"] >= 1  # 800-frame games end inside 300 steps
    evals = read_log(out / "logs" / "eval.jsonl")
    assert [e["env_frames"] for e in evals][-1] == metrics["env_frames"]  # the end of training is scored
    assert metrics["best"]["validation_mean"] == max(e["mean"] for e in evals)
    games = read_log(out / "logs" / "train.jsonl")
    assert len(games) == metrics["training_games"] and all(g["episode_return"] >= 0 for g in games)
    model = load_model(algo, out / "final_model.zip")
    assert type(model).__name__ == {"ddqn": "DoubleDQN", "ppo": "PPO", "sac": "DiscreteSAC"}[algo]
    a = evaluate_checkpoint(cfg, algo, "best")
    b = evaluate_checkpoint(cfg, algo, "best")
    assert a["agent"]["num_episodes"] == 2
    assert [e["seed"] for e in a["agent"]["episodes"]] == [cfg.eval.seed, cfg.eval.seed + 1]
    assert [e["score"] for e in a["agent"]["episodes"]] == [e["score"] for e in b["agent"]["episodes"]]
    assert json.loads((out / "eval" / "results.json").read_text())["agent"]["mean"] == a["agent"]["mean"]


def test_ddqn_buffer_is_the_uint8_frame_buffer(baseline_run):
    model = load_model("ddqn", RunPaths.of(baseline_run).baseline("ddqn") / "final_model.zip")
    assert isinstance(model, DoubleDQN) and model.replay_buffer_class is FrameStackReplayBuffer


def test_rerun_reuses_a_trained_baseline(baseline_run, capsys):
    out = RunPaths.of(baseline_run).baseline("ppo") / "final_model.zip"
    before = out.stat().st_mtime_ns
    train(baseline_run, "ppo")
    assert out.stat().st_mtime_ns == before
    assert "already trained; reusing" in capsys.readouterr().out


def test_episode_budget_stops_training(tmp_path):
    cfg = tiny_baseline_config(tmp_path, **{"ddqn.num_episodes": 1, "baselines.frame_budget": 4_000})
    metrics = train(cfg, "ddqn")
    assert metrics["training_games"] == 1
    assert metrics["agent_steps"] < 1_000


def test_bad_checkpoints_are_clear_errors(baseline_run, tmp_path):
    ddqn_zip = RunPaths.of(baseline_run).baseline("ddqn") / "final_model.zip"
    with pytest.raises(UserError, match="not found"):
        load_model("ppo", tmp_path / "missing.zip")
    with pytest.raises(UserError, match="cannot be loaded|not a PPO"):
        load_model("ppo", ddqn_zip)
    bad = tmp_path / "corrupt.zip"
    bad.write_bytes(ddqn_zip.read_bytes()[:5000])
    with pytest.raises(UserError, match="cannot be read .*corrupt"):
        load_model("ddqn", bad)
    with pytest.raises(UserError, match="unknown algorithm"):
        load_model("dqn", ddqn_zip)


def test_bad_env_id_is_a_clear_error():
    with pytest.raises(UserError):
        make_baseline_env(EnvConfig(env_id="ALE/NoSuchGame-v5"), n_envs=1, seed=0, training=False)


@pytest.mark.slow
@pytest.mark.parametrize("cmd, message", [
    (["train_baselines.py", "--algorithms", "dqn"], "unknown algorithm(s) dqn"),
    (["-m", "baselines.ppo", "--mode", "eval"], "ppo checkpoint not found"),
    (["baselines/sac.py", "--sac.tau", "2"], "--sac.tau must be in [0, 1]"),
])
def test_cli_errors_are_one_line(tmp_path, cmd, message):
    proc = subprocess.run([sys.executable, *cmd, "--run-dir", str(tmp_path / "run"), "--dry-run"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr

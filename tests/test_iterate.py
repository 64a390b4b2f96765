"""Iterative training (utils/iterate.py, train_world_model.py --iterate.rounds N).

* EpsilonHeld: epsilon 0 changes nothing; otherwise a job's replaced actions are the draws of its own
  RNG, whatever emulator plays it, and a random action is held for hold_min..hold_max steps;
* the world-model policy feeds the LSTM the action actually played, not the controller's choice;
* rounds on a finished tiny run: round 1 plays the first pass's controller into collected/ (at least
  frames_per_round frames, whole chunks), its data is the earlier shards plus these (hard links, each
  tagged with its round), the curve adds the frames up; asking for a second round reuses round 1
  untouched (same files, same inodes) and links its shards into round 2;
* with no CMA-ES generations a round's controller is the previous round's (init_from is honoured), and with
  iterate.vae_epochs 0 its VAE is the previous round's, byte for byte, while its MDN-RNN is fine-tuned;
* ``mdn_rnn.freeze_lstm`` with init_from fine-tunes the heads only (the LSTM byte for byte, so h and what a controller
  reads are unchanged); without it the same fine-tuning moves the LSTM;
* (slow) a real SIGKILL after round 1: the same command reuses round 1 and ends with the curve and
  weights of an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import ROOT, tiny_config

from utils.iterate import EpsilonHeld, round_dir


def test_epsilon_zero_changes_nothing_and_jobs_draw_their_own_numbers():
    greedy = np.array([1, 2, 3, 4])
    off = EpsilonHeld(6, 0.0, 1, 8, seed=5, episode_ids=np.arange(4))
    off.start(np.arange(4), np.arange(4))
    for _ in range(20):
        np.testing.assert_array_equal(off(greedy, np.arange(4)), greedy)
    assert off.random_steps == 0

    # epsilon 1, hold exactly 2: every step random, each drawn action kept for 2 steps.
    ids = np.array([10, 11, 12])
    a = EpsilonHeld(6, 1.0, 2, 2, seed=5, episode_ids=ids)
    a.start(np.array([0, 1, 2]), np.array([0, 1, 2]))
    seq_a = np.stack([a(np.zeros(3, np.int64), np.arange(3)) for _ in range(10)])  # (10 steps, 3 envs)
    # The same job (episode 12) on emulator 0 of a one-emulator batch: the same actions.
    b = EpsilonHeld(6, 1.0, 2, 2, seed=5, episode_ids=ids)
    b.start(np.array([0]), np.array([2]))
    seq_b = np.stack([b(np.zeros(1, np.int64), np.arange(1)) for _ in range(10)])
    np.testing.assert_array_equal(seq_a[:, 2], seq_b[:, 0])
    # By hand: episode 12's RNG draws (random(), integers(6), integers(2, 3)) once per hold.
    rng = np.random.default_rng([5, 12, 2])
    expected = []
    for _ in range(5):
        rng.random()
        act = int(rng.integers(6))
        rng.integers(2, 3)
        expected += [act, act]
    np.testing.assert_array_equal(seq_b[:, 0], expected)
    assert len(set(seq_a[::2].flatten().tolist())) > 1  # not one constant action
    # Asked for emulator 2 alone (the others idle), it draws what it drew in the full batch.
    c = EpsilonHeld(6, 1.0, 2, 2, seed=5, episode_ids=ids)
    c.start(np.array([0, 1, 2]), np.array([0, 1, 2]))
    np.testing.assert_array_equal(np.concatenate([c(np.zeros(1, np.int64), np.array([2])) for _ in range(10)]), seq_a[:, 2])


def test_exploration_with_dirichlet_habits_draws_from_the_games_own_preferences():
    """--iterate.action-alpha: each game's random actions come from its own Dirichlet preferences, drawn first
    from the game's RNG, then held as before."""
    ids = np.array([3, 4])
    e = EpsilonHeld(6, 1.0, 1, 1, seed=9, episode_ids=ids, alpha=0.2)
    e.start(np.arange(2), np.arange(2))
    seq = np.stack([e(np.zeros(2, np.int64), np.arange(2)) for _ in range(400)])
    rng = np.random.default_rng([9, 4, 2])
    prefs = rng.dirichlet(np.full(6, 0.2))
    expected = []
    for _ in range(400):
        rng.random()
        expected.append(int(rng.choice(6, p=prefs)))
        rng.integers(1, 2)
    np.testing.assert_array_equal(seq[:, 1], expected)
    shares = [np.bincount(seq[:, i], minlength=6).max() / 400 for i in range(2)]
    assert min(shares) > 0.4  # alpha 0.2: one habit dominates each game (uniform: about 1/6)
    assert e.random_steps == 800


def test_policy_feeds_the_lstm_the_played_action(dry_run):
    from utils.world_model import WorldModel, WorldModelPolicy

    cfg, _ = dry_run
    wm = WorldModel.load(cfg.run_path, torch.device("cpu"), env=cfg.env)
    x = torch.as_tensor(wm.controller.get_flat(), dtype=torch.float32)[None]
    explore = EpsilonHeld(wm.mdn.action_dim, 1.0, 1, 1, seed=0, episode_ids=np.arange(2))
    policy = WorldModelPolicy(wm.vae, wm.mdn, x, explore=explore)
    policy.reset(2)
    policy.start(np.arange(2), np.arange(2))
    frames = np.random.default_rng(0).integers(0, 255, (2, 64, 64, 3), dtype=np.uint8)
    played = policy.act(frames)
    with torch.no_grad():
        z = wm.vae.encode_frames(torch.from_numpy(frames))
        h, c = wm.mdn.step(z, torch.as_tensor(played), wm.mdn.initial_state(2))
    torch.testing.assert_close(policy.state[0], h)
    torch.testing.assert_close(policy.state[1], c)


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_rounds_add_data_and_resume_round_by_round(dry_run, tmp_path):
    import train_world_model

    src, _ = dry_run
    shutil.copytree(src.run_path, tmp_path / "run")
    over = {"iterate.frames_per_round": 700, "iterate.eval_episodes": 1, "eval.num_episodes": 1}
    cfg = tiny_config(tmp_path, **over, **{"iterate.rounds": 1})
    s1 = train_world_model.main(cfg)
    r1 = round_dir(cfg.run_path, 1)
    collected = json.loads((r1 / "collected" / "manifest.json").read_text())
    frames = sum(s["steps"] for s in collected["shards"]) * cfg.env.frameskip
    # Whole chunks of num_envs = 4 games (2 shards of 2), each cut at 60 steps: 4 * 60 * 4 = 960 >= 700 frames.
    assert collected["complete"] and len(collected["shards"]) == 2 and frames >= 700
    data = json.loads((r1 / "data" / "manifest.json").read_text())
    first = json.loads((cfg.run_path / "data" / "manifest.json").read_text())
    assert [s["round"] for s in data["shards"]] == [0] * len(first["shards"]) + [1, 1]
    assert data["rounds"] == {"0": sum(s["steps"] for s in first["shards"]) * 4, "1": frames}
    assert (r1 / "data" / "r01_shard_00000.npz").stat().st_ino == (r1 / "collected" / "shard_00000.npz").stat().st_ino
    curve = s1["rounds"]
    ctrl0 = json.loads((cfg.run_path / "controller" / "metrics.json").read_text())
    assert curve[0]["real_frames"] == sum(s["steps"] for s in first["shards"]) * 4 + ctrl0["env_frames"]["real"] > 0
    ctrl1 = json.loads((r1 / "controller" / "metrics.json").read_text())
    assert "real" not in ctrl1 and curve[1]["real_frames"] == frames  # iterate.real_epochs 0: only the collected games
    assert curve[1]["real_frames_total"] == curve[0]["real_frames_total"] + curve[1]["real_frames"]
    assert s1["final"]["run_dir"] == str(r1) and (r1 / "eval" / "results.json").exists()

    # A second round: round 1 is reused as it is, round 2 links every earlier shard.
    kept = {p: (digest(p), p.stat().st_ino) for p in sorted(r1.rglob("*")) if p.is_file() and "eval" not in p.parts}
    s2 = train_world_model.main(tiny_config(tmp_path, **over, **{"iterate.rounds": 2}))
    assert {p: (digest(p), p.stat().st_ino) for p in kept} == kept
    assert s2["rounds"][:2] == curve
    r2 = round_dir(cfg.run_path, 2)
    data2 = json.loads((r2 / "data" / "manifest.json").read_text())
    assert sorted(data2["rounds"]) == ["0", "1", "2"]
    assert (r2 / "data" / "r01_shard_00001.npz").stat().st_ino == (r1 / "collected" / "shard_00001.npz").stat().st_ino
    assert s2["rounds"][2]["real_frames_total"] == curve[1]["real_frames_total"] + s2["rounds"][2]["real_frames"]


@pytest.mark.parametrize("freeze", [True, False])
def test_fine_tuning_with_a_frozen_lstm_trains_the_heads_only(dry_run, tmp_path, freeze):
    from safetensors.torch import load_file

    import train_mdn_rnn

    src, _ = dry_run
    shutil.copytree(src.run_path, tmp_path / "run")
    shutil.rmtree(tmp_path / "run" / "mdn_rnn")
    cfg = tiny_config(tmp_path, **{"mdn_rnn.init_from": str(src.run_path / "mdn_rnn"), "mdn_rnn.num_epochs": 1,
                                   "mdn_rnn.freeze_lstm": freeze})
    train_mdn_rnn.main(cfg)
    before = load_file(src.run_path / "mdn_rnn" / "model.safetensors")
    after = load_file(cfg.run_path / "mdn_rnn" / "model.safetensors")
    assert sorted(before) == sorted(after) and any(k.startswith("lstm.") for k in before)
    moved = {k for k in before if not torch.equal(before[k], after[k])}
    lstm = {k for k in before if k.startswith("lstm.")}
    assert moved and moved - lstm == set(before) - lstm  # every head learned
    assert (moved & lstm) == (set() if freeze else lstm)


@pytest.mark.slow
def test_a_round_without_generations_or_vae_epochs_keeps_the_previous_controller_and_vae(dry_run, tmp_path):
    import train_world_model

    src, _ = dry_run
    shutil.copytree(src.run_path, tmp_path / "run")
    cfg = tiny_config(tmp_path, **{"iterate.rounds": 1, "iterate.frames_per_round": 100, "iterate.eval_episodes": 1,
                                   "iterate.dream_epochs": 0, "iterate.real_epochs": 0, "iterate.vae_epochs": 0,
                                   "eval.num_episodes": 1})
    train_world_model.main(cfg)
    r1 = round_dir(cfg.run_path, 1)
    # iterate.vae_epochs 0: the VAE is round 0's, byte for byte; the MDN-RNN was fine-tuned on the new games.
    assert digest(r1 / "vae" / "model.safetensors") == digest(cfg.run_path / "vae" / "model.safetensors")
    assert digest(r1 / "mdn_rnn" / "model.safetensors") != digest(cfg.run_path / "mdn_rnn" / "model.safetensors")
    from utils.world_model import load_controller

    def flat(d):
        return load_controller(d, torch.device("cpu"), src.vae.latent_dim, src.mdn_rnn.hidden_size, 6).get_flat()

    np.testing.assert_array_equal(flat(round_dir(cfg.run_path, 1) / "controller"), flat(cfg.run_path / "controller"))
    assert np.abs(flat(cfg.run_path / "controller")).sum() > 0


@pytest.mark.slow
def test_sigkill_after_a_round_then_the_same_command_resumes_and_matches(tmp_path):
    """A real SIGKILL once round 1 is done: the rerun reuses round 1 and ends where an uninterrupted run ends."""
    def cmd(run):
        return [sys.executable, "train_world_model.py", "--dry-run", "--no-wandb", "--run-dir", str(run), "--logging.progress",
                "false", "--data.num-rollouts", "4", "--data.num-envs", "4", "--data.max-steps-per-rollout", "60",
                "--data.episodes-per-shard", "2", "--env.max-episode-frames", "800", "--controller.real-max-steps", "30",
                "--iterate.rounds", "2", "--iterate.frames-per-round", "700", "--iterate.eval-episodes", "1",
                "--eval.num-episodes", "1"]

    killed, whole = tmp_path / "killed", tmp_path / "whole"
    proc = subprocess.Popen(cmd(killed), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 300
    while not (round_dir(killed, 1) / "round.json").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    out = proc.stdout.read()
    assert proc.returncode == -signal.SIGKILL, out
    assert not (round_dir(killed, 2) / "round.json").exists()
    again = subprocess.run(cmd(killed), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "[iterate] round 1 already done; reusing it" in again.stdout and "[iterate] round 2 done" in again.stdout
    assert "round 1: " not in again.stdout  # round 1's games were not played again
    ref = subprocess.run(cmd(whole), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stdout + ref.stderr

    def curve(run):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in json.loads((run / "rounds" / "curve.json").read_text())]

    assert curve(killed) == curve(whole) and len(curve(whole)) == 3
    for k in (1, 2):
        for name in ("vae", "mdn_rnn", "controller"):
            p = f"rounds/round_{k:02d}/{name}/model.safetensors"
            assert digest(killed / p) == digest(whole / p), p


@pytest.mark.slow
def test_compare_plays_the_last_round_with_every_rounds_frames(dry_run, tmp_path):
    import train_world_model
    from utils.agents import load_world_models

    src, _ = dry_run
    shutil.copytree(src.run_path, tmp_path / "run")
    cfg = tiny_config(tmp_path, **{"iterate.rounds": 1, "iterate.frames_per_round": 100, "iterate.eval_episodes": 1,
                                   "eval.num_episodes": 1})
    first = load_world_models(cfg, torch.device("cpu"))
    s = train_world_model.main(cfg)
    agent = load_world_models(cfg, torch.device("cpu"))
    assert agent.checkpoint == str(round_dir(cfg.run_path, 1) / "controller") != first.checkpoint
    assert agent.env_frames == s["rounds"][-1]["real_frames_total"] > first.env_frames
    assert agent.curve["x"] == [r["real_frames_total"] for r in s["rounds"]]
    assert agent.curve["y"] == [r["validation_mean"] for r in s["rounds"]]

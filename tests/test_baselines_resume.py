"""Resumable baseline training: a run stopped after a resume checkpoint continues from it when the same
command is rerun (model, counters, replay buffer, monitor, logs without duplicates), other settings are
a one-line error, ``--restart`` starts over; one real SIGKILL of the command line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import ROOT, tiny_baseline_config

import baselines.training as btraining
from baselines.checkpoints import algo_module, load_model
from baselines.cli import algo_main
from baselines.training import total_timesteps, train
from utils.io import UserError
from utils.logger import read_log
from utils.run_paths import RunPaths

# 120 agent steps, a validation game (and so a resume checkpoint) after 60, 40-step games.
SMALL = {"baselines.frame_budget": 480, "baselines.eval_freq_frames": 240, "env.max_episode_frames": 160,
         "ddqn.learning_starts": 30, "sac.learning_starts": 30, "sac.train_freq": 20}


class Crash(Exception):
    """Stands for a kill."""


def params(model) -> torch.Tensor:
    return torch.nn.utils.parameters_to_vector(model.policy.parameters()).detach().clone()


def spy_on_learn(monkeypatch, algo: str) -> dict:
    """Record the model's state when ``learn`` starts (after any resume) and the model itself."""
    cls = algo_module(algo).MODEL_CLASS
    seen: dict = {}
    learn = cls.learn

    def spy(self, *args, **kwargs):
        seen.update(model=self, num_timesteps=self.num_timesteps, params=params(self),
                    buffer={k: v.copy() for k, v in self.replay_buffer.state_arrays().items()}
                    if hasattr(self, "replay_buffer") else None)
        return learn(self, *args, **kwargs)

    monkeypatch.setattr(cls, "learn", spy)
    return seen


def check_logs(out, metrics) -> None:
    evals = [e["env_frames"] for e in read_log(out / "logs" / "eval.jsonl")]
    assert evals == sorted(set(evals)) and evals[-1] == metrics["env_frames"]
    games = read_log(out / "logs" / "train.jsonl")
    assert [g["episode"] for g in games] == list(range(1, metrics["training_games"] + 1))
    assert [g["env_frames"] for g in games] == sorted(g["env_frames"] for g in games)


@pytest.mark.parametrize("algo", ["ddqn", "sac", "ppo"])
def test_a_killed_run_resumes_from_its_checkpoint(tmp_path, monkeypatch, capsys, algo):
    """Die right after the first resume checkpoint, with log lines written after it: the rerun continues
    with the same weights, counters and replay buffer, and drops those lines."""
    cfg = tiny_baseline_config(tmp_path, **SMALL)
    out = RunPaths.of(cfg).baseline(algo)
    budget = total_timesteps(cfg, algo)
    saved: dict = {}
    save_resume = btraining.save_resume

    def crash(monitor):
        save_resume(monitor)
        m = monitor.model
        saved.update(num_timesteps=m.num_timesteps, params=params(m), games=monitor.episodes,
                     buffer={k: v.copy() for k, v in m.replay_buffer.state_arrays().items()}
                     if hasattr(m, "replay_buffer") else None)
        raise Crash

    monkeypatch.setattr(btraining, "save_resume", crash)
    with pytest.raises(Crash):
        train(cfg, algo)
    assert not (out / "metrics.json").exists() and (out / "resume" / "state.json").is_file()
    assert 0 < saved["num_timesteps"] < budget
    for name in ("train", "eval"):  # as a kill a little after the checkpoint leaves them
        with open(out / "logs" / f"{name}.jsonl", "a") as f:
            f.write(json.dumps({"step": 470, "env_frames": 470, "episode": 99, "mean": 1e6}) + "\n")
    capsys.readouterr()

    monkeypatch.setattr(btraining, "save_resume", save_resume)
    seen = spy_on_learn(monkeypatch, algo)
    metrics = train(cfg, algo)
    assert f"[{algo}] resuming from {out / 'resume'} at {saved['num_timesteps'] * 4:,} frames" in capsys.readouterr().out
    assert seen["num_timesteps"] == saved["num_timesteps"]
    torch.testing.assert_close(seen["params"], saved["params"], rtol=0, atol=0)
    if saved["buffer"] is not None:
        before, after = saved["buffer"], seen["buffer"]
        last = int(before["pos"]) - 1
        assert last > 0 and after["dones"][last, 0] == 1  # the game cut by the kill ends there
        after["dones"][last] = before["dones"][last]
        for k in ("frames", "depth", "actions", "rewards", "dones", "pos", "full"):
            np.testing.assert_array_equal(after[k], before[k], err_msg=k)
        assert (after["depth_now"] == 1).all()  # a new game starts
    model = seen["model"]
    assert model._total_timesteps == budget  # schedules run over the same total as without the kill
    if algo == "ppo":
        assert budget <= metrics["agent_steps"] < budget + cfg.ppo.n_steps
    else:
        assert metrics["agent_steps"] == model._n_calls == budget  # target updates stay in phase
    assert metrics["training_games"] >= saved["games"]
    assert metrics["best"]["validation_mean"] < 1e6  # the line after the checkpoint is gone
    check_logs(out, metrics)
    assert not (out / "resume").exists()
    assert type(load_model(algo, out / "final_model.zip")).__name__ == type(model).__name__


def test_other_settings_are_an_error_and_restart_starts_over(tmp_path, monkeypatch, capsys):
    cfg = tiny_baseline_config(tmp_path, **SMALL)
    out = RunPaths.of(cfg).baseline("ddqn")
    save_resume = btraining.save_resume

    def crash(monitor):
        save_resume(monitor)
        raise Crash

    monkeypatch.setattr(btraining, "save_resume", crash)
    with pytest.raises(Crash):
        train(cfg, "ddqn")
    other = tiny_baseline_config(tmp_path, **SMALL, **{"ddqn.learning_rate": 1e-3})
    with pytest.raises(UserError, match=r"different config \(ddqn.learning_rate: 0.0001 then vs 0.001 now\).*--restart"):
        train(other, "ddqn")
    capsys.readouterr()
    cfg.restart = True
    seen = spy_on_learn(monkeypatch, "ddqn")
    with pytest.raises(Crash):
        train(cfg, "ddqn")
    printed = capsys.readouterr().out
    assert "resuming" not in printed and "[ddqn] training for 120 agent steps" in printed
    assert seen["num_timesteps"] == 0 and seen["buffer"]["frames"].shape[0] == 0
    assert len(read_log(out / "logs" / "eval.jsonl")) == 1  # the first run's lines are gone


@pytest.mark.slow
def test_sigkill_then_the_same_command_resumes(tmp_path, capsys):
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "baselines.ddqn", "--mode", "train", "--dry-run", "--no-wandb",
           "--run-dir", str(run_dir), "--logging.progress", "false", "--eval.num-episodes", "1",
           "--baselines.periodic-eval-episodes", "1", "--baselines.eval-envs", "1",
           "--ddqn.buffer-size", "400", *[f"--{k}={v}" for k, v in SMALL.items() if not k.startswith("sac.")]]
    out = run_dir / "baselines" / "ddqn"
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (out / "resume" / "state.json").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL and not (out / "metrics.json").exists()

    # The same command line with another learning rate (in this process: the CLI's code, one start less).
    assert algo_main("ddqn", "DDQN", argv=[*cmd[3:], "--ddqn.learning-rate", "0.001"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "different config" in err and "--restart" in err

    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "[ddqn] resuming from" in again.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["agent_steps"] == 120 and metrics["env_frames"] == 480
    check_logs(out, metrics)
    assert load_model("ddqn", out / "final_model.zip").num_timesteps == 120
    assert json.loads((out / "eval" / "results.json").read_text())["agent"]["num_episodes"] == 1

"""Every script runs as a command: --help works, bad input is one line and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT

SCRIPTS = ["train_vae.py", "train_mdn_rnn.py", "train_controller.py", "train_world_model.py", "evaluate.py", "bench.py"]


def run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(script):
    p = run(script, "--help")
    assert p.returncode == 0, p.stderr
    assert "--seed" in p.stdout and "--no-wandb" in p.stdout and "--vae.latent-dim" in p.stdout


def test_num_epochs_flag_is_documented_per_script():
    assert "--num-epochs N        training epochs (= --vae.num_epochs)" in run("train_vae.py", "--help").stdout
    assert "--num-epochs N        training epochs (= --mdn_rnn.num_epochs)" in run("train_mdn_rnn.py", "--help").stdout
    assert "--num-epochs" not in run("evaluate.py", "--help").stdout


def test_missing_run_is_one_line_and_exit_1(tmp_path):
    p = run("evaluate.py", "--run-dir", str(tmp_path / "nope"))
    assert p.returncode == 1
    assert p.stderr.strip().startswith("error:") and len(p.stderr.strip().splitlines()) == 1
    assert "Traceback" not in p.stderr


def test_nonsense_flag_exit_2(tmp_path):
    p = run("train_controller.py", "--dream-epochs", "-1", "--run-dir", str(tmp_path))
    assert p.returncode == 2 and "controller.dream_epochs must be >= 0" in p.stderr
    assert not any(tmp_path.iterdir())  # nothing written

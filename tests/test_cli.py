"""Every script's command line: --help shows its own sections, bad input is one line and a non-zero exit
(in-process through ``cli``; one test runs a script as a real command)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT


def run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


# Each script's --help: its own sections and the shared ones (run, env, logging), not the others.
OWN = {
    "train_vae.py": ({"--data.num-rollouts", "--vae.latent-dim", "--num-epochs", "--rollout.backend"},
                     {"--mdn-rnn.hidden-size", "--ppo.clip-range"}),
    "train_mdn_rnn.py": ({"--mdn-rnn.hidden-size", "--data.dir", "--num-epochs"}, {"--vae.latent-dim", "--controller.sigma0",
                                                                                  "--rollout.backend"}),
    "train_controller.py": ({"--controller.sigma0", "--dream-epochs", "--real-epochs", "--rollout.address"},
                            {"--vae.latent-dim", "--num-epochs"}),
    "train_world_model.py": ({"--vae.latent-dim", "--controller.sigma0", "--reference", "--record-video", "--iterate.rounds",
                              "--rollout.workers"}, {"--ppo.clip-range"}),
    "evaluate.py": ({"--eval.seed", "--from-hub", "--visualize", "--num-episodes", "--rollout.backend"},
                    {"--vae.latent-dim", "--ppo.clip-range"}),
    "bench.py": ({"--vae.latent-dim", "--duration", "--rollout.group-size"}, {"--data.num-rollouts", "--ppo.clip-range"}),
}


def help_text(script: str, *argv: str) -> str:
    """``script --help`` in-process (the subprocess tests below cover the ``__main__`` path)."""
    import importlib
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as e:
        importlib.import_module(script.removesuffix(".py")).cli([*argv, "--help"])
    assert e.value.code == 0
    return out.getvalue()


@pytest.mark.parametrize("script", OWN)
def test_help_shows_the_scripts_own_sections(script):
    text = help_text(script)
    flags = {w.rstrip(",") for w in text.split() if w.startswith("--")}
    shared = {"--seed", "--run-dir", "--no-wandb", "--dry-run", "--env.env-id", "--logging.progress"}
    present, absent = OWN[script]
    assert shared | present <= flags, sorted(shared | present - flags)
    assert not absent & flags, sorted(absent & flags)
    # The seed-era --help of every script: 440-480 lines; the orchestrator reads seven sections.
    assert len(text.splitlines()) < (340 if script == "train_world_model.py" else 260)


def test_num_epochs_flag_is_documented_per_script():
    assert "training epochs (= --vae.num_epochs)" in help_text("train_vae.py")
    assert "training epochs (= --mdn_rnn.num_epochs)" in help_text("train_mdn_rnn.py")
    assert "--num-epochs" not in help_text("evaluate.py")


def test_a_flag_of_another_scripts_section_is_refused(tmp_path, capsys):
    import train_vae

    with pytest.raises(SystemExit) as e:
        train_vae.cli(["--controller.sigma0", "0.5", "--run-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "unrecognized arguments: --controller.sigma0" in err
    assert len(err.strip().splitlines()) == 1 and not any(tmp_path.iterdir())


def test_help_shows_the_presets_values():
    assert "(default: 8)" in help_text("train_vae.py", "--dry-run").split("--vae.latent-dim")[1][:200]
    assert "(default: 32)" in help_text("train_vae.py").split("--vae.latent-dim")[1][:200]


def test_a_run_dir_plays_the_game_of_its_saved_config(tmp_path):
    """``evaluate.py --run-dir <CarRacing run>`` without --env-id plays CarRacing with its game defaults (it used to
    build the Space Invaders env and crash); a new run dir keeps the flags' game; --restart may change a run's game."""
    import json

    from config import make_config
    from evaluate import SECTIONS, EvaluateOptions
    from utils.cli import parse

    car = tmp_path / "car"
    car.mkdir()
    (car / "config.json").write_text(json.dumps(make_config("dry-run", **{"env.env_id": "CarRacing-v3"}).to_dict()))
    cfg, _ = parse(["--run-dir", str(car)], sections=SECTIONS, options=EvaluateOptions)
    assert (cfg.env.env_id, cfg.env.frameskip, cfg.env.max_episode_frames) == ("CarRacing-v3", 1, 1000)
    cfg, _ = parse(["--run-dir", str(tmp_path / "new")], sections=SECTIONS, options=EvaluateOptions)
    assert (cfg.env.env_id, cfg.env.frameskip) == ("ALE/SpaceInvaders-v5", 4)
    cfg, _ = parse(["--run-dir", str(car), "--env-id", "ALE/SpaceInvaders-v5", "--restart"], sections=SECTIONS)
    assert cfg.env.env_id == "ALE/SpaceInvaders-v5"


def test_missing_run_is_one_line_and_exit_1(tmp_path):
    p = run("evaluate.py", "--run-dir", str(tmp_path / "nope"))
    assert p.returncode == 1
    assert p.stderr.strip().startswith("error:") and len(p.stderr.strip().splitlines()) == 1
    assert "Traceback" not in p.stderr


def test_nonsense_flag_exit_2(tmp_path, capsys):
    import train_controller

    with pytest.raises(SystemExit) as e:
        train_controller.cli(["--dream-epochs", "-1", "--run-dir", str(tmp_path)])
    assert e.value.code == 2 and "controller.dream_epochs must be >= 0" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written

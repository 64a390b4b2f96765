"""Bad input (issue 5): every expected failure is one line on stderr naming the file or flag and what to
do, a non-zero exit, no traceback (unless ``--debug``), and nothing in the run directory overwritten.

Most cases call a script's ``cli`` in-process on a damaged copy of the session's
dry run; a few run a script as a subprocess (fail-fast flags, ``--debug``, wandb without a network).
Already covered elsewhere and not repeated: a full disk and a NaN VAE loss (test_io.py), a truncated
shard read directly (test_data.py), bad SB3 zips (test_baselines.py), a mocked failing upload and no
token (test_publish.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

import bench
import compare_baselines
import evaluate
import publish_model
import train_baselines
import train_controller
import train_mdn_rnn
import train_vae
import train_world_model
from utils.cli import SHARED, parse
from utils.common import record_config

# The command-line flags that give conftest.tiny_config's run (checked below), so that a training
# script rewriting <run>/config.json writes the same bytes.
TINY = ["--dry-run", "--logging.progress", "false", "--data.num-rollouts", "4", "--data.num-envs", "4",
        "--data.max-steps-per-rollout", "60", "--data.episodes-per-shard", "2", "--controller.real-max-steps", "40",
        "--env.max-episode-frames", "800"]

SCRIPTS = {module.__name__: module for module in (train_vae, train_mdn_rnn, train_controller, train_world_model, evaluate,
                                                   compare_baselines, train_baselines, publish_model, bench)}


def tiny_flags(module) -> list[str]:
    """TINY, less the flags of config sections the script does not read (it refuses them)."""
    pairs = [TINY[:1], *zip(TINY[1::2], TINY[2::2], strict=True)]
    keep = [p for p in pairs if len(p) == 1 or p[0][2:].split(".")[0] in (*SHARED, *module.SECTIONS)]
    return [flag for p in keep for flag in p]


def run_script(capsys, script: str, *argv: str) -> tuple[int, str]:
    """(exit code, stderr) of ``script`` run in-process; flag errors exit 2 from the parser."""
    module = SCRIPTS[script]
    capsys.readouterr()
    try:
        rc = module.cli([*tiny_flags(module), *argv])
    except SystemExit as e:
        rc = e.code
    return rc, capsys.readouterr().err


def assert_one_line(err: str, *needles: str) -> str:
    line = err.strip()
    assert len(line.splitlines()) == 1, err
    assert line.startswith("error:") or ": error: " in line, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``: equal snapshots mean nothing was written, replaced or removed."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def run(dry_run, tmp_path) -> Path:
    """A private copy of the session's dry run, its config.json saying where it now lives."""
    cfg, _ = dry_run
    dst = tmp_path / "run"
    shutil.copytree(cfg.run_path, dst)
    record_config(dataclasses.replace(cfg, run_dir=str(dst)), dst)
    return dst


def test_tiny_flags_give_the_dry_run_config(dry_run):
    cfg, _ = dry_run
    parsed, _ = parse([*TINY, "--run-dir", str(cfg.run_path)])
    assert parsed.to_dict() == cfg.to_dict()


# --------------------------------------------------------------------------- damaged files


def damage(path: Path, how: str) -> None:
    if how == "missing":
        path.unlink()
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:  # random bytes of the same length
        path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))


# file -> (the script that reads it, what to remove so that it does, message if missing, message if damaged)
DAMAGED = {
    "data/shard_00001.npz": ("train_mdn_rnn", ("mdn_rnn/metrics.json", "latents.npz"), "is missing", "is corrupt or truncated"),
    "vae/model.safetensors": ("evaluate", (), "vae weights not found", "are corrupt or truncated"),
    "mdn_rnn/model.safetensors": ("evaluate", (), "mdn_rnn weights not found", "are corrupt or truncated"),
    "controller/model.safetensors": ("evaluate", (), "controller weights not found", "are corrupt or truncated"),
    "vae/config.json": ("evaluate", (), "no vae checkpoint in", "vae config is corrupt"),
    "latents.npz": ("train_controller", ("controller/metrics.json",), None, "latent cache"),
    "data/manifest.json": ("train_vae", ("vae/metrics.json",), None, "data manifest is corrupt"),
}


@pytest.mark.parametrize("target, how", [
    (target, how) for target in DAMAGED for how in ("missing", "empty", "truncated", "corrupt")
    if (target, how) not in (("data/manifest.json", "missing"),  # no manifest: collection starts over, as it should
                             ("latents.npz", "missing"))  # a cache: re-encoded from the data (test below)
])
def test_a_damaged_file_is_one_line_naming_it(run, capsys, target, how):
    script, markers, if_missing, if_bad = DAMAGED[target]
    for marker in markers:
        (run / marker).unlink()
    damage(run / target, how)
    before = snapshot(run)
    rc, err = run_script(capsys, script, "--run-dir", str(run))
    assert rc == 1
    line = assert_one_line(err, if_missing if how == "missing" else if_bad)
    assert target.split("/")[-1] in line or str(run / target.split("/")[0]) in line  # the file (or its folder)
    assert any(hint in line for hint in ("rerun", "retrain", "train ", "run train_", "--restart", "delete it")), line
    assert snapshot(run) == before


@pytest.mark.parametrize("script, metrics", [("train_vae", "vae/metrics.json"),
                                             ("train_baselines", "baselines/ppo/metrics.json")])
def test_a_corrupt_metrics_file_is_one_line(run, capsys, script, metrics):
    (run / metrics).parent.mkdir(parents=True, exist_ok=True)
    (run / metrics).write_text("{not json")
    before = snapshot(run)
    extra = ["--algorithms", "ppo"] if script == "train_baselines" else []
    rc, err = run_script(capsys, script, "--run-dir", str(run), *extra)
    assert rc == 1
    assert_one_line(err, "metrics is corrupt", str(run / metrics), "delete it and rerun")  # one line, even from train_baselines
    assert snapshot(run) == before


@pytest.mark.slow
def test_deleted_latents_are_encoded_again_by_the_phase_that_needs_them(run, capsys):
    from utils.data import LatentData

    original = LatentData.load(run / "latents.npz")
    (run / "latents.npz").unlink()
    (run / "controller" / "metrics.json").unlink()
    rc, err = run_script(capsys, "train_controller", "--run-dir", str(run))
    assert rc == 0, err
    np.testing.assert_array_equal(LatentData.load(run / "latents.npz").mu, original.mu)


def test_a_deleted_shard_is_collected_again_as_the_error_says(run, capsys):
    from utils.data import load_shard

    shard = run / "data" / "shard_00001.npz"
    original = load_shard(shard)
    shard.unlink()
    (run / "mdn_rnn" / "metrics.json").unlink()
    (run / "latents.npz").unlink()
    rc, err = run_script(capsys, "train_mdn_rnn", "--run-dir", str(run))
    assert rc == 1 and "rerun train_vae.py (with --restart if the VAE is already trained)" in err
    (run / "vae" / "metrics.json").unlink()  # the VAE phase not done: no --restart needed
    rc, err = run_script(capsys, "train_vae", "--run-dir", str(run), "--vae.num-epochs", "1")
    assert rc == 0, err
    again = load_shard(shard)
    for key in original:
        np.testing.assert_array_equal(again[key], original[key])


# --------------------------------------------------------------------------- wrong checkpoints


def _write_config(folder: Path, **changes) -> None:
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(changes)
    (folder / "config.json").write_text(json.dumps(cfg))


def controller_as_vae(run: Path) -> None:
    shutil.rmtree(run / "vae")
    shutil.copytree(run / "controller", run / "vae", ignore=shutil.ignore_patterns("dream", "metrics.json"))


def vae_with_z64(run: Path) -> None:
    from models.vae import ConvVAE
    from utils.io import save_model

    vae = ConvVAE(64)
    save_model(vae, run / "vae", vae.config(), "vae")


WRONG = {
    "controller where the VAE belongs": (controller_as_vae, "holds a 'controller' checkpoint, not a 'vae' one"),
    "VAE with z=64 beside an MDN-RNN for z=8": (vae_with_z64, "expects z of size 8, but the VAE gives 64"),
    "config.json with another latent size": (lambda r: _write_config(r / "vae", latent_dim=16),
                                             "fc_mu.weight is [8, 1024] in the file, [16, 1024] in the model"),
    "config.json with an unknown field": (lambda r: _write_config(r / "mdn_rnn", bogus=1), "MDN-RNN config at"),
    "controller with other sizes": (lambda r: _write_config(r / "controller", hidden_size=16), "controller at"),
}


@pytest.mark.parametrize("case", list(WRONG))
def test_a_wrong_checkpoint_is_one_line(run, capsys, case):
    make, message = WRONG[case]
    make(run)
    before = snapshot(run)
    rc, err = run_script(capsys, "evaluate", "--run-dir", str(run))
    assert rc == 1
    assert_one_line(err, message, str(run), "--restart")
    assert snapshot(run) == before  # eval/results.json untouched


def test_the_controller_phase_refuses_a_vae_of_another_size(run, capsys):
    vae_with_z64(run)
    (run / "controller" / "metrics.json").unlink()
    before = snapshot(run)
    rc, err = run_script(capsys, "train_controller", "--run-dir", str(run))
    assert rc == 1
    assert_one_line(err, "expects z of size 8, but the VAE gives 64", "train_mdn_rnn.py --restart")
    assert snapshot(run) == before


def test_an_agent_of_another_game_is_refused_not_played(run, capsys):
    import torch

    from config import EnvConfig
    from utils.evaluation import ConstantPolicy
    from utils.io import UserError
    from utils.runner import run_episodes
    from utils.world_model import WorldModel

    before = snapshot(run)
    rc, err = run_script(capsys, "evaluate", "--run-dir", str(run), "--env.env-id", "ALE/Breakout-v5")
    assert rc == 2  # refused at parse time: the run's config.json says which game it plays
    assert_one_line(err, f"{run} is a run of ALE/SpaceInvaders-v5, not ALE/Breakout-v5", "--restart")
    assert snapshot(run) == before
    # Checkpoints without a saved config (a published folder's sizes) are still checked against the game.
    with pytest.raises(UserError, match="trained for 6 actions, this game has 4"):
        WorldModel.load(run, torch.device("cpu"), env=EnvConfig(env_id="ALE/Breakout-v5"))
    # The runner's own guard (ale_py's vector env hangs on an out-of-range action instead of failing).
    with pytest.raises(UserError, match="chose action 5 but ALE/Breakout-v5 has 4 actions"):
        run_episodes(EnvConfig(env_id="ALE/Breakout-v5", max_episode_frames=800), ConstantPolicy(5), [0])


# --------------------------------------------------------------------------- data of another config


def test_data_of_another_config_is_refused_by_the_vae_phase(run, capsys):
    (run / "vae" / "metrics.json").unlink()
    before = snapshot(run)
    rc, err = run_script(capsys, "train_vae", "--run-dir", str(run), "--data.action-hold-max", "3")
    assert rc == 1
    assert_one_line(err, "was collected with a different config", "action_hold_max: 8 on disk vs 3 asked",
                    "--data.dir", "--restart")
    assert snapshot(run) == before  # config.json included: it is saved only once a phase really trains


def test_data_of_another_config_is_refused_by_the_mdn_rnn_phase(run, capsys):
    (run / "mdn_rnn" / "metrics.json").unlink()
    before = snapshot(run)
    rc, err = run_script(capsys, "train_mdn_rnn", "--run-dir", str(run), "--data.action-hold-max", "3")
    assert rc == 1
    assert_one_line(err, "was collected with a different config")
    assert snapshot(run) == before


def test_a_manifest_of_something_else_is_refused(run, capsys):
    (run / "vae" / "metrics.json").unlink()
    (run / "data" / "manifest.json").write_text('{"hello": 1}')
    before = snapshot(run)
    rc, err = run_script(capsys, "train_vae", "--run-dir", str(run))
    assert rc == 1
    assert_one_line(err, "is not a manifest of this project", "--data.dir")
    assert snapshot(run) == before


# --------------------------------------------------------------------------- nonsense flags


@pytest.mark.parametrize("script, argv, code, message", [
    ("train_vae", ["--num-epochs", "0"], 2, "--vae.num_epochs must be > 0 (got 0)"),
    ("train_mdn_rnn", ["--mdn-rnn.seq-len", "-1"], 2, "--mdn_rnn.seq_len must be > 0 (got -1)"),
    ("train_mdn_rnn", ["--num-epochs", "-3"], 2, "--mdn_rnn.num_epochs must be > 0 (got -3)"),
    ("train_controller", ["--controller.population-size", "1"], 2, "population_size must be at least 2"),
    ("train_controller", ["--controller.real-population", "1"], 2, "real_population must be 0 (population_size) or at least 2"),
    ("train_controller", ["--controller.real-mirrored", "--controller.real-population", "15"], 2,
     "real_mirrored plays candidates in pairs: the real population must be even (got 15)"),
    ("train_controller", ["--real-epochs", "-1"], 2, "--controller.real_epochs must be >= 0 (got -1)"),
    ("train_world_model", ["--data.num-rollouts", "0"], 2, "--data.num_rollouts must be > 0 (got 0)"),
    ("evaluate", ["--num-episodes", "-2"], 2, "--eval.num_episodes must be > 0 (got -2)"),
    ("train_baselines", ["--frame-budget", "0"], 2, "--baselines.frame_budget must be > 0 (got 0)"),
    ("train_baselines", ["--ddqn-episodes", "-1"], 2, "--ddqn.num_episodes must be >= 0 (got -1)"),
    ("compare_baselines", ["--eval.num-episodes", "0"], 2, "--eval.num_episodes must be > 0 (got 0)"),
    ("compare_baselines", ["--equal-budget", "-5"], 1, "--equal-budget must be > 0"),
    ("publish_model", ["--hf-username", "u", "--num-episodes", "0"], 2, "--eval.num_episodes must be > 0 (got 0)"),
    ("bench", ["--duration", "0"], 1, "--duration must be > 0"),
    ("bench", ["--num-envs", "-1"], 1, "--num-envs must be >= 0"),
    ("bench", ["--num-generations", "0"], 1, "--num-generations must be >= 1"),
    ("bench", ["--around", "no/such/run"], 1, "--around no/such/run: no trained controller there"),
    ("train_vae", ["--device", "tpu"], 2, "--device must be auto, cpu or cuda"),
    # unknown names
    ("train_baselines", ["--algorithms", "foo"], 1, "unknown algorithm(s) foo in --algorithms; choose from all, ddqn"),
    ("compare_baselines", ["--agents", "foo"], 1, "unknown agent(s) foo in --agents; choose from world-models"),
    ("publish_model", ["--hf-username", "u", "--agent", "foo"], 2, "argument --agent: invalid choice: 'foo'"),
    # an unknown game fails at parse time, before any file is written, whatever the script
    *[(s, ["--env.env-id", "ALE/Nope-v5"], 2, "unknown ALE game in --env.env_id 'ALE/Nope-v5'")
      for s in ("train_vae", "train_world_model", "train_baselines", "evaluate", "bench")],
])
def test_nonsense_flags_are_one_line_and_write_nothing(tmp_path, capsys, script, argv, code, message):
    run = tmp_path / "run"
    rc, err = run_script(capsys, script, "--run-dir", str(run), *argv)
    assert rc == code
    assert_one_line(err, message)
    assert not run.exists()


def test_a_misspelt_game_gets_a_suggestion(tmp_path, capsys):
    rc, err = run_script(capsys, "train_vae", "--run-dir", str(tmp_path / "run"), "--env-id", "ALE/SpaceInvader-v5")
    assert rc == 2
    assert_one_line(err, "did you mean ALE/SpaceInvaders-v5?")


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize("script, argv, message", [
    ("evaluate", [], "run directory {missing} does not exist; train first or pass --run-dir"),
    ("evaluate", ["--visualize"], "run directory {missing} does not exist"),
    ("compare_baselines", [], "run directory {missing} does not exist; train first or pass --run-dir"),
    ("publish_model", ["--hf-username", "u", "--run", "{missing}"], "run directory {missing} does not exist"),
    ("train_mdn_rnn", ["--data.dir", "{missing}"], "no collected data in {missing}"),
])
def test_paths_that_do_not_exist(tmp_path, capsys, script, argv, message):
    missing = tmp_path / "nope"
    run_dir = missing
    if script == "train_mdn_rnn":  # a run with a VAE, its --data.dir pointing nowhere
        from models.vae import ConvVAE
        from utils.io import save_model

        run_dir = tmp_path / "run"
        vae = ConvVAE(8)
        save_model(vae, run_dir / "vae", vae.config(), "vae")
    rc, err = run_script(capsys, script, "--run-dir", str(run_dir), *[a.format(missing=missing) for a in argv])
    assert rc == 1
    assert_one_line(err, message.format(missing=missing))
    assert not missing.exists()


def test_a_controller_folder_that_does_not_exist(run, capsys):
    before = snapshot(run)
    rc, err = run_script(capsys, "evaluate", "--run-dir", str(run), "--controller", str(run / "nope"))
    assert rc == 1
    assert_one_line(err, f"no controller checkpoint in {run / 'nope'}", "train_controller.py")
    assert snapshot(run) == before


@pytest.mark.parametrize("script, flag, extra", [
    ("train_vae", "--run-dir", []),
    ("evaluate", "--output", []),
    ("compare_baselines", "--output-dir", ["--agents", "world-models", "--no-video"]),
    ("publish_model", "--local-dir", ["--hf-username", "u"]),
    ("bench", "--output", []),
])
def test_an_output_path_that_cannot_be_written_fails_before_the_work(run, tmp_path, capsys, script, flag, extra):
    blocker = tmp_path / "a_file"  # a path under a regular file cannot be created, even by root
    blocker.write_text("x")
    target = blocker / "out" / ("results.json" if flag == "--output" else "")
    where = ["--run", str(run)] if script == "publish_model" else ["--run-dir", str(run)]
    argv = [flag, str(target)] if flag == "--run-dir" else [*where, flag, str(target)]
    before = snapshot(run)
    rc, err = run_script(capsys, script, *argv, *extra)
    assert rc == 1
    assert_one_line(err, flag, "cannot be written", str(blocker))
    assert snapshot(run) == before
    assert blocker.read_text() == "x"


def test_a_failed_local_build_leaves_no_half_written_folder(run, tmp_path, capsys, monkeypatch):
    from utils.io import UserError

    def fail(*args, **kwargs):
        raise UserError("the evaluation failed")

    monkeypatch.setattr(publish_model, "_evaluate", fail)  # after the weights are copied into the build
    rc, err = run_script(capsys, "publish_model", "--run", str(run), "--hf-username", "u",
                         "--local-dir", str(tmp_path / "hub" / "wm"))
    assert rc == 1
    assert_one_line(err, "the evaluation failed")
    assert [p.name for p in (tmp_path / "hub").iterdir()] == ["wm"] and not any((tmp_path / "hub" / "wm").iterdir())


# --------------------------------------------------------------------------- NaN


def test_a_nan_loss_in_the_mdn_rnn_names_phase_epoch_and_step(run, capsys, monkeypatch):
    import torch

    from models.mdn_rnn import MDNRNN
    from utils.data import LatentData, SequenceSampler
    from utils.io import load_weights

    (run / "mdn_rnn" / "metrics.json").unlink()
    cfg, _ = parse([*TINY, "--run-dir", str(run)])
    per_epoch = SequenceSampler(LatentData.load(run / "latents.npz"), cfg.mdn_rnn.seq_len).batches_per_epoch(
        cfg.mdn_rnn.batch_size)
    real_loss, calls = MDNRNN.compute_loss, [0]

    def poisoned(self, *args, **kwargs):
        loss, metrics = real_loss(self, *args, **kwargs)
        calls[0] += 1
        return (loss * float("inf") if calls[0] > per_epoch else loss), metrics  # epoch 1 fine, epoch 2 infinite

    monkeypatch.setattr(MDNRNN, "compute_loss", poisoned)
    rc, err = run_script(capsys, "train_mdn_rnn", "--run-dir", str(run))
    assert rc == 1
    assert_one_line(err, f"mdn_rnn: loss became inf at epoch 2, step {per_epoch}", "last good checkpoint is kept")
    assert not (run / "mdn_rnn" / "metrics.json").exists()  # the phase is not marked done
    mdn_cfg = {k: v for k, v in json.loads((run / "mdn_rnn" / "config.json").read_text()).items() if k != "model_type"}
    mdn = load_weights(MDNRNN(**mdn_cfg), run / "mdn_rnn", "mdn_rnn")  # epoch 1's weights
    assert all(torch.isfinite(t).all() for t in mdn.state_dict().values())


# --------------------------------------------------------------------------- no network


TOKEN = "hf_ErrorsTestTokenNeverShown0123456789"


@pytest.mark.parametrize("no_network", ["refused", "offline"])
def test_publish_without_a_network_fails_before_building_and_hides_the_token(run, capsys, monkeypatch, no_network):
    from huggingface_hub import constants

    if no_network == "refused":
        monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens: connection refused
    else:
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setattr(publish_model, "build_folder", lambda *a, **k: pytest.fail("built before the Hub answered"))
    before = snapshot(run)
    rc, err = run_script(capsys, "publish_model", "--run", str(run), "--hf-username", "u")
    assert rc == 1
    assert_one_line(err, "upload to u/world-models-SpaceInvaders-v5 failed", "check the network", "--local-dir")
    assert TOKEN not in err
    assert snapshot(run) == before


@pytest.mark.parametrize("no_network", ["refused", "offline"])
def test_evaluate_from_hub_without_a_network(tmp_path, capsys, monkeypatch, no_network):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))  # nothing cached
    if no_network == "refused":
        monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    else:
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    out = tmp_path / "res.json"
    rc, err = run_script(capsys, "evaluate", "--from-hub", "nobody-errors/none", "--output", str(out))
    assert rc == 1
    assert_one_line(err, "could not download nobody-errors/none from the Hub", "check the network")
    assert not out.exists()


# --------------------------------------------------------------------------- as commands


def command(*args: str, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_an_unknown_game_fails_fast_as_a_command(tmp_path):
    p = command("train_world_model.py", "--dry-run", "--run-dir", str(tmp_path / "run"), "--env.env-id", "ALE/Nope-v5")
    assert p.returncode == 2
    assert_one_line(p.stderr, "--env.env_id 'ALE/Nope-v5'")
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_debug_shows_the_traceback_of_an_expected_failure(run, capsys):
    damage(run / "vae" / "model.safetensors", "truncated")
    rc, err = run_script(capsys, "evaluate", "--run-dir", str(run))
    assert rc == 1
    line = assert_one_line(err, "vae weights", "are corrupt or truncated")  # no traceback without --debug
    debug = command("evaluate.py", *tiny_flags(evaluate), "--run-dir", str(run), "--debug")
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr and "UserError" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == line  # the same one line, last


@pytest.mark.slow
def test_wandb_online_without_a_network_is_one_line(run, tmp_path):
    shutil.rmtree(run / "controller")  # a controller phase that has not started: nothing of it to keep
    (run / "logs" / "controller.jsonl").unlink()
    before = snapshot(run)
    env = {"HOME": str(tmp_path), "WANDB_CONFIG_DIR": str(tmp_path / "wandb"), "WANDB_API_KEY": "a" * 40,
           "WANDB_BASE_URL": "http://127.0.0.1:9", "WANDB_INIT_TIMEOUT": "1", "WANDB_SILENT": "true"}
    p = command("train_controller.py", *TINY, "--run-dir", str(run), "--logging.wandb", "true",
                "--logging.wandb-mode", "online", env=env, timeout=90)
    assert p.returncode == 1
    assert_one_line(p.stderr, "wandb could not start", "check the network", "--logging.wandb_mode offline or --no-wandb")
    assert not (run / "controller" / "model.safetensors").exists()
    after = snapshot(run)
    # Nothing that was there changes; wandb adds its debug logs.
    assert {k: after[k] for k in before} == before
    assert not [k for k in after if k not in before and not k.startswith(("wandb/", "logs/"))]
    assert not (run / "logs" / "controller.jsonl").exists()  # nothing logged, no log file made


def test_held_out_calibration_trains_on_the_rest_and_refuses_to_hold_out_everything(run, capsys):
    """--mdn_rnn.calibration-episodes N: the MDN-RNN trains without the last N episodes, the fitted offsets are
    in its saved config and metrics (and differ from the class-weight offset); holding out every episode is
    one line, exit 1, and the trained MDN-RNN is left as it was."""
    from utils.io import load_model_config

    n = sum(s["episodes"] for s in json.loads((run / "data" / "manifest.json").read_text())["shards"])
    before = snapshot(run / "mdn_rnn")
    rc, err = run_script(capsys, "train_mdn_rnn", "--run-dir", str(run), "--restart", "--mdn-rnn.calibration-episodes", str(n))
    assert_one_line(err, f"--mdn_rnn.calibration-episodes {n} leaves no episode to train on")
    assert rc == 1 and snapshot(run / "mdn_rnn") == before
    rc, err = run_script(capsys, "train_mdn_rnn", "--run-dir", str(run), "--restart", "--mdn-rnn.calibration-episodes", "2")
    assert rc == 0, err
    cal = json.loads((run / "mdn_rnn" / "metrics.json").read_text())["calibration"]
    saved = load_model_config(run / "mdn_rnn", "mdn_rnn")
    assert cal["episodes"] == 2 and saved["event_logit_offset"] == cal["done"]["offset"]
    assert saved["event_logit_offset"] != cal["done"]["class_weight_offset"]
    assert saved["life_logit_offset"] == cal["life"]["offset"]  # the dry run has the life head

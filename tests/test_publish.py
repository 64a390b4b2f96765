"""publish_model.py: the Hub folder from a tiny run, its model card read back by huggingface_hub,
the weights loaded back acting identically, and the push path with HfApi replaced by a recorder."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from huggingface_hub import ModelCard

import publish_model
from utils.world_model import WorldModel, WorldModelPolicy

TOKEN = "hf_TestTokenThatMustNeverBeWritten123"


def run_publish(cfg, *extra: str) -> int:
    argv = ["--dry-run", "--run", str(cfg.run_path), "--hf-username", "someone", "--num-episodes", "2",
            "--env.max-episode-frames", "800", "--logging.progress", "false", "--comparison-dir", "", *extra]
    return publish_model.cli(argv)


@pytest.fixture(scope="module")
def wm_folder(dry_run, tmp_path_factory):
    from utils.visualize import visualize_run

    cfg, _ = dry_run
    visualize_run(cfg, cfg.run_path, torch.device("cpu"), dream_steps=20)  # its files go into the card's folder
    folder = tmp_path_factory.mktemp("hub") / "wm"
    assert run_publish(cfg, "--local-dir", str(folder)) == 0
    return cfg, folder


def test_folder_has_every_file(wm_folder):
    _, folder = wm_folder
    for rel in ("README.md", "results.json", "config.json", "replay.mp4", "training_curves.png",
                "vae/model.safetensors", "vae/config.json", "mdn_rnn/model.safetensors", "controller/config.json"):
        assert (folder / rel).is_file() and (folder / rel).stat().st_size > 0, rel
    assert not (folder / "vae" / "README.md").exists()  # one card, at the top
    assert (folder / "visuals" / "recon_grid.png").is_file() and (folder / "visuals" / "dream_vs_reality.mp4").is_file()


def test_model_card_metadata_reads_back(wm_folder):
    cfg, folder = wm_folder
    card = ModelCard.load(folder / "README.md")
    results = json.loads((folder / "results.json").read_text())
    r = results["results"]
    assert {"reinforcement-learning", "world-models", "atari", "SpaceInvaders"} <= set(card.data.tags)
    (ev,) = card.data.eval_results
    assert ev.metric_type == "mean_reward" and ev.dataset_type == cfg.env.env_id
    assert ev.metric_value == f"{r['mean']:.2f} +/- {r['std']:.2f}"
    assert r["num_episodes"] == 2 and [e["seed"] for e in r["episodes"]] == [cfg.eval.seed, cfg.eval.seed + 1]
    assert results["reference"]["always_fire"]["mean"] > 0 and "random" in results["reference"]
    assert "python evaluate.py --from-hub someone/world-models-SpaceInvaders-v5" in card.text


def test_published_weights_act_like_the_run(wm_folder):
    from models.vae import ConvVAE

    cfg, folder = wm_folder
    original, published = WorldModel.load(cfg.run_path, torch.device("cpu")), WorldModel.load(folder, torch.device("cpu"))
    frames = np.random.default_rng(0).integers(0, 256, size=(20, 8, 64, 64, 3), dtype=np.uint8)
    actions = []
    for wm in (original, published):
        policy = WorldModelPolicy.from_world_model(wm)
        policy.reset(8)
        policy.start(np.arange(8), np.arange(8))
        actions.append(np.stack([policy.act(f) for f in frames]))
    np.testing.assert_array_equal(actions[0], actions[1])
    vae = ConvVAE.from_pretrained(folder / "vae")  # the mixin's own loader reads the same files
    for a, b in zip(vae.state_dict().values(), original.vae.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def assert_token_nowhere(*roots) -> None:
    """Not in any file under ``roots`` (the run directory: logs, configs, results, videos, wandb files)."""
    from pathlib import Path

    for root in roots:
        for path in Path(root).rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path


class RecordingApi:
    calls: list = []

    def __init__(self, token=None):
        self.token = token

    def create_repo(self, repo_id, private=False, exist_ok=False, repo_type=None):
        self.calls.append(("create_repo", repo_id, private))
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, folder_path, repo_id, repo_type=None, commit_message=None):
        from pathlib import Path

        files = {str(p.relative_to(folder_path)): p.read_bytes() for p in Path(folder_path).rglob("*") if p.is_file()}
        self.calls.append(("upload_folder", repo_id, files))


def test_push_uploads_the_folder_and_never_writes_the_token(dry_run, monkeypatch, capsys):
    import huggingface_hub

    cfg, _ = dry_run
    RecordingApi.calls = []
    monkeypatch.setattr(huggingface_hub, "HfApi", RecordingApi)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert run_publish(cfg, "--repo-name", "wm-test", "--private") == 0
    (create, upload) = RecordingApi.calls
    assert create == ("create_repo", "someone/wm-test", True)
    assert upload[1] == "someone/wm-test"
    files = upload[2]
    assert {"README.md", "results.json", "replay.mp4", "vae/model.safetensors", "controller/model.safetensors"} <= set(files)
    for name, data in files.items():
        assert TOKEN.encode() not in data, name
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err and "uploaded" in out.out
    assert_token_nowhere(cfg.run_path)


def test_cli_token_warns_and_failures_are_one_line_without_the_token(dry_run, monkeypatch, capsys):
    import huggingface_hub

    class FailingApi(RecordingApi):
        def create_repo(self, repo_id, **kwargs):
            raise ConnectionError(f"could not reach the Hub with token {self.token}")

    cfg, _ = dry_run
    monkeypatch.setattr(huggingface_hub, "HfApi", FailingApi)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert run_publish(cfg, "--hf-token", TOKEN) == 1
    err = capsys.readouterr().err
    assert "HF_TOKEN" in err and "safer" in err  # the warning
    assert "upload to someone/world-models-SpaceInvaders-v5 failed (ConnectionError" in err
    assert TOKEN not in err and "***" in err
    assert "Traceback" not in err
    assert_token_nowhere(cfg.run_path)  # a token given as a flag is not saved with the run's config either


def test_no_token_is_a_clear_error(dry_run, monkeypatch, capsys, tmp_path):
    cfg, _ = dry_run
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # no cached login
    assert run_publish(cfg) == 1
    assert "no Hugging Face token" in capsys.readouterr().err


@pytest.mark.slow
def test_publish_a_baseline(baseline_run, tmp_path):
    from baselines.checkpoints import load_model

    folder = tmp_path / "ppo"
    assert run_publish(baseline_run, "--agent", "ppo", "--local-dir", str(folder)) == 0
    zip_path = folder / "ppo-SpaceInvaders-v5.zip"
    assert type(load_model("ppo", zip_path)).__name__ == "PPO"
    card = ModelCard.load(folder / "README.md")
    assert card.data.library_name == "stable-baselines3" and "ppo" in card.data.tags


def run_evaluate(*argv: str) -> int:
    import evaluate

    return evaluate.cli(["--dry-run", "--num-episodes", "2", "--logging.progress", "false", *argv])


def test_evaluate_from_a_published_folder_gives_the_published_scores(wm_folder, tmp_path):
    _, folder = wm_folder
    out = tmp_path / "res.json"
    assert run_evaluate("--from-hub", str(folder), "--output", str(out)) == 0
    played = json.loads(out.read_text())["agent_results"]
    published = json.loads((folder / "results.json").read_text())["results"]
    assert [e["score"] for e in played["episodes"]] == [e["score"] for e in published["episodes"]]


@pytest.mark.slow
def test_evaluate_from_a_published_baseline(baseline_run, tmp_path):
    folder = tmp_path / "sac"
    assert run_publish(baseline_run, "--agent", "sac", "--local-dir", str(folder)) == 0
    out = tmp_path / "res.json"
    assert run_evaluate("--from-hub", str(folder), "--output", str(out)) == 0
    played = json.loads(out.read_text())["agent_results"]
    published = json.loads((folder / "results.json").read_text())["results"]
    assert [e["score"] for e in played["episodes"]] == [e["score"] for e in published["episodes"]]


def test_evaluate_from_hub_bad_sources(tmp_path, capsys):
    assert run_evaluate("--from-hub", "not a repo") == 1
    assert "neither a folder nor a Hub repo id" in capsys.readouterr().err
    (tmp_path / "config.json").write_text("{}")
    assert run_evaluate("--from-hub", str(tmp_path)) == 1
    assert "was not made by publish_model.py" in capsys.readouterr().err


class _Marker:
    """Unpickling this creates a file: proof that a checkpoint's pickle ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _with_data(src, dst, edit) -> None:
    """Copy an SB3 zip, passing its JSON ``data`` entry through ``edit``."""
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "data":
                d = json.loads(data)
                edit(d)
                data = json.dumps(d).encode()
            zout.writestr(item, data)


def test_a_crafted_pickle_in_a_downloaded_checkpoint_never_runs(baseline_run, tmp_path):
    import base64

    import cloudpickle

    from baselines.checkpoints import load_model
    from utils.io import UserError
    from utils.run_paths import RunPaths

    marker = tmp_path / "pwned"
    src = RunPaths.of(baseline_run).baseline("ppo") / "best_model.zip"
    payload = base64.b64encode(cloudpickle.dumps(_Marker(str(marker)))).decode()
    _with_data(src, tmp_path / "ppo-evil.zip", lambda d: d["policy_class"].update({":serialized:": payload}))
    model = load_model("ppo", tmp_path / "ppo-evil.zip")  # plays, and the payload never ran
    assert type(model).__name__ == "PPO" and not marker.exists()
    _with_data(src, tmp_path / "extra.zip", lambda d: d.update(surprise={":type:": "<class 'object'>", ":serialized:": payload}))
    with pytest.raises(UserError, match="unexpected pickled field 'surprise'"):
        load_model("ppo", tmp_path / "extra.zip")
    assert not marker.exists()

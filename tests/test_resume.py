"""Resume: a run interrupted mid-phase continues from its last epoch / generation and ends exactly
where an uninterrupted run ends; a real SIGKILL of a training script is survived the same way."""

from __future__ import annotations

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
from safetensors.torch import load_file

import train_controller
import train_mdn_rnn
import train_vae
from models.mdn_rnn import MDNRNN
from models.vae import ConvVAE
from utils.data import collection_frames
from utils.io import UserError
from utils.logger import read_log
from utils.resume import RESUME_NAME
from utils.rollout import LocalEngine


class Killed(BaseException):
    """Stands in for SIGKILL in-process: nothing after the raise runs, no except clause catches it."""


def kill_after(monkeypatch, owner, name: str, calls: int) -> None:
    """Make ``owner.name`` raise Killed on its ``calls + 1``-th call."""
    real = getattr(owner, name)
    count = {"n": 0}

    def wrapped(*args, **kwargs):
        count["n"] += 1
        if count["n"] > calls:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapped)


def weights(path) -> dict[str, torch.Tensor]:
    return load_file(str(path / "model.safetensors"))


def assert_same_weights(a, b) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k


def assert_each_step_once(log_path) -> None:
    steps = [r["step"] for r in read_log(log_path) if "epoch_recon" not in str(r) and "epoch_nll" not in str(r)]
    assert steps == sorted(set(steps)), "a step was logged twice or out of order"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run of the VAE and MDN-RNN phases at tiny sizes, with several epochs each."""
    cfg = tiny_config(tmp_path_factory.mktemp("ref"), **RESUME_SIZES)
    for module in (train_vae, train_mdn_rnn):
        module.main(cfg)
    return cfg


@pytest.fixture(scope="module")
def reference_controller(reference):
    """The same run with its controller phase (several generations in the dream and the real game) too."""
    train_controller.main(reference)
    return reference


RESUME_SIZES = {"vae.num_epochs": 3, "mdn_rnn.num_epochs": 4, "controller.dream_epochs": 4,
                "controller.real_epochs": 3, "controller.real_max_steps": 30}


def copy_run(reference, tmp_path, keep: tuple[str, ...]):
    cfg = tiny_config(tmp_path, **RESUME_SIZES)
    cfg.run_path.mkdir(parents=True)
    for name in keep:
        src = reference.run_path / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, cfg.run_path / name)
    return cfg


def test_vae_resumes_mid_epoch_and_ends_identical(reference, tmp_path, monkeypatch, capsys):
    cfg = copy_run(reference, tmp_path, ("data",))
    steps_per_epoch = json.loads((reference.run_path / "vae" / "metrics.json").read_text())["epochs"][0]["steps"]
    with monkeypatch.context() as m:
        kill_after(m, ConvVAE, "compute_loss", 2 * steps_per_epoch + 1)  # dies inside epoch 3
        with pytest.raises(Killed):
            train_vae.main(cfg)
    out = cfg.run_path / "vae"
    assert (out / RESUME_NAME).exists() and not (out / "metrics.json").exists()
    stale = [out / ".resume.pt.k2j3.tmp.pt", cfg.data_path / ".shard_00001.npz.x8q.tmp.npz"]  # a SIGKILL mid-write
    for path in stale:
        path.write_bytes(b"half a file")
    metrics = train_vae.main(cfg)
    assert not any(path.exists() for path in stale)
    assert "[vae] resuming from" in capsys.readouterr().out
    assert metrics["resumed_at_epoch"] == 2 and len(metrics["epochs"]) == 3
    assert_same_weights(out, reference.run_path / "vae")  # bit-identical to the run that never died
    ref = json.loads((reference.run_path / "vae" / "metrics.json").read_text())
    assert [e["recon"] for e in metrics["epochs"]] == [e["recon"] for e in ref["epochs"]]
    assert not (out / RESUME_NAME).exists()  # the phase is done; its resume state is gone
    assert_each_step_once(cfg.run_path / "logs" / "vae.jsonl")



def test_vae_with_the_pay_head_resumes_and_ends_identical(reference, tmp_path, monkeypatch):
    """--vae.pay_weight: the pay head is in the resume state beside the VAE, so a run killed in epoch 2 ends with the
    weights of one that never died (a head started afresh would not)."""
    sizes = {**RESUME_SIZES, "vae.num_epochs": 2, "vae.pay_weight": 5.0}
    ref = tiny_config(tmp_path / "ref", **sizes)
    cfg = tiny_config(tmp_path, **sizes)
    for c in (ref, cfg):
        c.run_path.mkdir(parents=True)
        shutil.copytree(reference.data_path, c.data_path)
    train_vae.main(ref)
    steps_per_epoch = json.loads((ref.run_path / "vae" / "metrics.json").read_text())["epochs"][0]["steps"]
    with monkeypatch.context() as m:
        kill_after(m, ConvVAE, "compute_loss", steps_per_epoch + 1)  # dies inside epoch 2
        with pytest.raises(Killed):
            train_vae.main(cfg)
    state = torch.load(cfg.run_path / "vae" / RESUME_NAME, weights_only=False)
    assert state["epochs_done"] == 1 and state["model"]["pay_head.weight"].shape == (2, cfg.vae.latent_dim)
    metrics = train_vae.main(cfg)
    assert metrics["resumed_at_epoch"] == 1
    assert_same_weights(cfg.run_path / "vae", ref.run_path / "vae")

def test_mdn_rnn_resumes_and_ends_identical(reference, tmp_path, monkeypatch, capsys):
    cfg = copy_run(reference, tmp_path, ("data", "vae", "config.json"))
    per_epoch = json.loads((reference.run_path / "mdn_rnn" / "metrics.json").read_text())["epochs"][0]["steps"]
    with monkeypatch.context() as m:
        kill_after(m, MDNRNN, "compute_loss", 2 * per_epoch)  # the first step of epoch 3
        with pytest.raises(Killed):
            train_mdn_rnn.main(cfg)
    metrics = train_mdn_rnn.main(cfg)
    assert "[mdn_rnn] resuming from" in capsys.readouterr().out and metrics["resumed_at_epoch"] == 2
    assert_same_weights(cfg.run_path / "mdn_rnn", reference.run_path / "mdn_rnn")
    ref = json.loads((reference.run_path / "mdn_rnn" / "metrics.json").read_text())
    assert [e["nll"] for e in metrics["epochs"]] == [e["nll"] for e in ref["epochs"]]
    assert_each_step_once(cfg.run_path / "logs" / "mdn_rnn.jsonl")


def test_mdn_rnn_from_cached_latents_equals_one_that_encoded_them(reference, tmp_path):
    """The reference encoded its latents in the MDN-RNN phase; a run that finds them cached trains the same weights
    (loading the VAE to encode draws on the global RNG, so the cached path once initialised the MDN-RNN differently)."""
    cfg = copy_run(reference, tmp_path, ("data", "vae", "config.json", "latents.npz", "latents.json"))
    metrics = train_mdn_rnn.main(cfg)
    assert (cfg.run_path / "latents.npz").read_bytes() == (reference.run_path / "latents.npz").read_bytes()
    assert_same_weights(cfg.run_path / "mdn_rnn", reference.run_path / "mdn_rnn")
    ref = json.loads((reference.run_path / "mdn_rnn" / "metrics.json").read_text())
    assert [e["nll"] for e in metrics["epochs"]] == [e["nll"] for e in ref["epochs"]]


@pytest.mark.slow
@pytest.mark.parametrize("where", ["dream", "real"])
def test_cma_es_resumes_per_generation_and_ends_identical(reference_controller, tmp_path, monkeypatch, capsys, where):
    reference = reference_controller
    cfg = copy_run(reference, tmp_path, ("data", "vae", "mdn_rnn", "latents.npz", "latents.json", "config.json"))
    target = (train_controller.Dream, "rollout", 2) if where == "dream" else (LocalEngine, "play", 1)
    with monkeypatch.context() as m:
        kill_after(m, *target)  # dies in dream generation 3, or in real generation 2
        with pytest.raises(Killed):
            train_controller.main(cfg)
    metrics = train_controller.main(cfg)
    out = capsys.readouterr().out
    assert "[controller] resuming from" in out
    assert ("dream generation 2" if where == "dream" else "real generation 1") in out
    assert metrics["resumed"]
    ref = json.loads((reference.run_path / "controller" / "metrics.json").read_text())
    for phase in ("dream", "real"):  # the same fitness, generation by generation
        got = [(h["best"], h["mean"], h["sigma"]) for h in metrics[phase]["history"]]
        assert got == [(h["best"], h["mean"], h["sigma"]) for h in ref[phase]["history"]]
        assert metrics[phase]["rescored"] == ref[phase]["rescored"]
    assert metrics["env_frames"] == ref["env_frames"]
    assert_same_weights(cfg.run_path / "controller", reference.run_path / "controller")
    steps = [r["step"] for r in read_log(cfg.run_path / "logs" / "controller.jsonl")]
    assert steps == list(range(1, 8))  # 4 dream + 3 real generations, each logged once


@pytest.mark.slow
@pytest.mark.parametrize("inputs,h_components", [("z", 0), ("zh", 3)])
def test_a_narrowed_search_with_its_own_real_population_resumes_and_ends_identical(reference, tmp_path, monkeypatch,
                                                                                      inputs, h_components):
    """--controller.inputs z (or --controller.h-components 3) --controller.real-population 3: CMA-ES searches the z
    weights and biases (or h's weights in 3 principal directions) while the state and the saved controller hold full
    ones; killed in real generation 2, the resumed run (which draws h's directions again) equals an uninterrupted one."""
    keep = ("data", "vae", "mdn_rnn", "latents.npz", "latents.json", "config.json")
    runs = []
    for name in ("whole", "killed"):
        cfg = copy_run(reference, tmp_path / name, keep)
        cfg.controller.inputs, cfg.controller.h_components, cfg.controller.real_population = inputs, h_components, 3
        runs.append(cfg)
    ref = train_controller.main(runs[0])
    with monkeypatch.context() as m:
        kill_after(m, LocalEngine, "play", 1)  # dies in real generation 2
        with pytest.raises(Killed):
            train_controller.main(runs[1])
    metrics = train_controller.main(runs[1])
    assert metrics["resumed"] and metrics["searched_params"] == ref["searched_params"] < ref["num_params"]
    for phase in ("dream", "real"):
        got = [(h["best"], h["mean"], h["sigma"]) for h in metrics[phase]["history"]]
        assert got == [(h["best"], h["mean"], h["sigma"]) for h in ref[phase]["history"]]
    assert metrics["real"]["rescored"] == ref["real"]["rescored"]
    assert_same_weights(runs[1].run_path / "controller", runs[0].run_path / "controller")


@pytest.mark.slow
@pytest.mark.parametrize("search,standardize", [("cma", False), ("elite", False), ("cma", True)])
def test_a_run_killed_in_its_refinement_resumes_there_and_ends_identical(reference, tmp_path, monkeypatch, capsys, search,
                                                                         standardize):
    """--controller.real-refine (either search, and with --controller.real-standardize): killed in the refinement's
    generation 2 (after the main search and its re-scoring), the same command resumes there (the main search is not
    played again) and ends as an uninterrupted run."""
    keep = ("data", "vae", "mdn_rnn", "latents.npz", "latents.json", "config.json")
    runs = []
    for name in ("whole", "killed"):
        cfg = copy_run(reference, tmp_path / name, keep)
        cfg.controller.real_refine, cfg.controller.real_frames = 0.5, 10**9  # a share of a budget that never binds
        cfg.controller.real_refine_search, cfg.controller.real_standardize = search, standardize
        runs.append(cfg)
    ref = train_controller.main(runs[0])
    per_gen = 1 if search == "cma" else 2  # an elitist generation plays its draws, then its challenge games
    with monkeypatch.context() as m:
        kill_after(m, LocalEngine, "play", 4 + per_gen)  # 3 main generations, their re-scoring, refinement generation 1
        with pytest.raises(Killed):
            train_controller.main(runs[1])
    capsys.readouterr()
    with monkeypatch.context() as m:
        calls = {"n": 0}
        play = LocalEngine.play

        def counted(*a, **k):
            calls["n"] += 1
            return play(*a, **k)

        m.setattr(LocalEngine, "play", counted)
        metrics = train_controller.main(runs[1])
    assert "resuming from" in capsys.readouterr().out and metrics["resumed"]
    assert calls["n"] == 2 * per_gen + (search == "cma")  # refinement generations 2 and 3 (and the cma re-scoring)
    for got, want in ((metrics["real"], ref["real"]), (metrics["real"]["refine"], ref["real"]["refine"])):
        assert [(h["best"], h["mean"], h["sigma"], h["env_frames"], h.get("incumbent")) for h in got["history"]] == \
            [(h["best"], h["mean"], h["sigma"], h["env_frames"], h.get("incumbent")) for h in want["history"]]
        assert got.get("rescored") == want.get("rescored")
    assert len(ref["real"]["refine"]["history"]) == 3 and metrics["env_frames"] == ref["env_frames"]
    assert_same_weights(runs[1].run_path / "controller", runs[0].run_path / "controller")
    steps = [r["step"] for r in read_log(runs[1].run_path / "logs" / "controller.jsonl")]
    assert steps == list(range(1, 11))  # 4 dream + 3 real + 3 refinement generations, each logged once


@pytest.mark.slow
def test_a_frame_budget_stops_at_the_same_generation_after_a_resume(reference_controller, tmp_path, monkeypatch):
    """--controller.real-frames one frame under the uncapped reference's total: killed in real generation 2, the
    resumed run stops after that generation as an uninterrupted capped run does (the check before generation 2 reads
    the saved start frames), with the reference's first 2 generations and its frames under the budget."""
    ref = json.loads((reference_controller.run_path / "controller" / "metrics.json").read_text())
    cfg = copy_run(reference_controller, tmp_path, ("data", "vae", "mdn_rnn", "latents.npz", "latents.json", "config.json"))
    cfg.controller.real_frames = ref["env_frames"]["total"] - 1
    with monkeypatch.context() as m:
        kill_after(m, LocalEngine, "play", 1)  # dies in real generation 2
        with pytest.raises(Killed):
            train_controller.main(cfg)
    saved = json.loads(torch.load(cfg.run_path / "controller" / RESUME_NAME, weights_only=True)["running"])
    assert saved["start_frames"] == collection_frames(cfg) > 0  # the frames before the real phase: no selection here
    metrics = train_controller.main(cfg)
    key = [(h["best"], h["mean"], h["env_frames"]) for h in ref["real"]["history"]]
    assert metrics["resumed"] and [(h["best"], h["mean"], h["env_frames"]) for h in metrics["real"]["history"]] == key[:2]
    assert metrics["env_frames"]["total"] <= cfg.controller.real_frames < ref["env_frames"]["total"]


def test_resume_under_another_config_is_refused_and_restart_starts_over(reference, tmp_path, monkeypatch, capsys):
    cfg = copy_run(reference, tmp_path, ("data",))
    with monkeypatch.context() as m:
        kill_after(m, ConvVAE, "compute_loss", 4)
        with pytest.raises(Killed):
            train_vae.main(cfg)
    state_bytes = (cfg.run_path / "vae" / RESUME_NAME).read_bytes()
    cfg.vae.learning_rate *= 2
    with pytest.raises(UserError, match=r"different config \(vae.learning_rate: .* then vs .* now\).*--restart"):
        train_vae.main(cfg)
    assert (cfg.run_path / "vae" / RESUME_NAME).read_bytes() == state_bytes  # nothing overwritten
    cfg.restart = True
    metrics = train_vae.main(cfg)
    assert "resuming" not in capsys.readouterr().out and metrics["resumed_at_epoch"] is None


def test_a_corrupt_or_pickled_resume_state_is_refused(reference, tmp_path):
    cfg = copy_run(reference, tmp_path, ("data",))
    out = cfg.run_path / "vae"
    out.mkdir()
    (out / RESUME_NAME).write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(UserError, match=r"vae resume state .*resume.pt is unreadable.*--restart"):
        train_vae.main(cfg)

    class Payload:
        def __reduce__(self):
            return (print, ("pickle ran",))

    torch.save({"signature": "{}", "x": Payload()}, out / RESUME_NAME)
    with pytest.raises(UserError, match="unreadable"):  # weights_only refuses the foreign object
        train_vae.main(cfg)


def dream_generations_saved(state_path) -> int:
    """Dream generations in a controller resume state (0 while there is none; it is replaced atomically)."""
    if not state_path.exists():
        return 0
    saved = torch.load(state_path, weights_only=True)
    return len(json.loads(saved["running"])["digests"]) if saved["running"] != "null" else 10**6


@pytest.mark.slow
def test_sigkill_mid_phase_then_the_same_command_resumes(tmp_path):
    """A real training script, killed with SIGKILL in the middle of the controller phase."""
    cfg = tiny_config(tmp_path)
    cmd = [sys.executable, "train_world_model.py", "--dry-run", "--no-wandb", "--run-dir", str(cfg.run_path),
           "--logging.progress", "false", "--data.num-rollouts", "4", "--data.num-envs", "4",
           "--data.max-steps-per-rollout", "60", "--data.episodes-per-shard", "2", "--env.max-episode-frames", "800",
           "--controller.dream-epochs", "40", "--controller.real-epochs", "2", "--controller.real-max-steps", "30",
           "--controller.dream-horizon", "60"]
    state = cfg.run_path / "controller" / RESUME_NAME
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while dream_generations_saved(state) < 3 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)  # until the state on disk holds 3 dream generations: the kill lands mid-phase
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = proc.stdout.read()
    assert proc.returncode == -signal.SIGKILL, first
    assert state.exists() and not (cfg.run_path / "controller" / "metrics.json").exists(), "not killed mid-phase"
    saved = torch.load(state, weights_only=True)
    done_before = len(json.loads(saved["running"])["digests"]) if saved["running"] != "null" else 40
    assert 3 <= done_before < 40

    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "[vae] " in again.stdout and "already trained; reusing it" in again.stdout
    assert "[controller] resuming from" in again.stdout
    metrics = json.loads((cfg.run_path / "controller" / "metrics.json").read_text())
    assert metrics["resumed"] and len(metrics["dream"]["history"]) == 40 and len(metrics["real"]["history"]) == 2
    # Only the generations lost to the kill were played again.
    dream_gens_logged = [r for r in read_log(cfg.run_path / "logs" / "controller.jsonl") if "controller/dream_best" in r]
    assert len(dream_gens_logged) == 40 and done_before >= 1
    from utils.world_model import WorldModel

    wm = WorldModel.load(cfg.run_path, torch.device("cpu"))
    assert all(np.isfinite(p.detach().numpy()).all() for p in wm.controller.parameters())
    assert json.loads((cfg.run_path / "eval" / "results.json").read_text())["agent"]["num_episodes"] == cfg.eval.num_episodes


def test_collection_resumes_per_shard_and_matches(reference, tmp_path, monkeypatch, capsys):
    import utils.data as data

    cfg = tiny_config(tmp_path, **RESUME_SIZES)
    with monkeypatch.context() as m:
        kill_after(m, data, "_write_shard", 1)  # dies writing the second shard
        with pytest.raises(Killed):
            data.collect_rollouts(cfg, progress=False)
    assert len(json.loads((cfg.data_path / "manifest.json").read_text())["shards"]) == 1
    first = (cfg.data_path / "shard_00000.npz").stat().st_mtime_ns
    manifest = data.collect_rollouts(cfg, progress=False)
    assert "resuming collection" in (out := capsys.readouterr().out) and "1/2 shards already on disk" in out
    assert (cfg.data_path / "shard_00000.npz").stat().st_mtime_ns == first  # kept, not played again
    ref = data.complete_manifest(reference.data_path)
    assert [s["frames"] for s in manifest["shards"]] == [s["frames"] for s in ref["shards"]]
    for a, b in zip(data.shard_paths(cfg.data_path, manifest), data.shard_paths(reference.data_path, ref), strict=True):
        sa, sb = data.load_shard(a), data.load_shard(b)
        for k in sa:
            np.testing.assert_array_equal(sa[k], sb[k])


def test_a_second_process_on_the_same_phase_is_refused(reference, tmp_path):
    from utils.resume import phase_lock

    cfg = copy_run(reference, tmp_path, ("data", "vae", "config.json"))
    before = sorted(str(p) for p in cfg.run_path.rglob("*") if p.is_file())
    with phase_lock(cfg.run_path / "mdn_rnn", "mdn_rnn"):  # the first process, still training
        with pytest.raises(UserError, match=r"another process is training mdn_rnn in .*mdn_rnn; wait for it"):
            train_mdn_rnn.main(cfg)
    assert sorted(str(p) for p in cfg.run_path.rglob("*") if p.is_file()) == before
    assert train_mdn_rnn.main(cfg)["epochs"]  # the lock is gone with its holder

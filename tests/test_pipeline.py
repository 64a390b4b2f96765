"""The whole pipeline at tiny sizes, in process: every artefact exists and evaluate reads them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import tiny_config

import evaluate
import train_controller
import train_world_model
from utils.es import calibrate, run_cma, run_elite
from utils.io import UserError
from utils.logger import read_log
from utils.world_model import WorldModel, WorldModelPolicy


def world_model_copy(cfg, path, **overrides):
    """tiny_config(path, **overrides) holding a copy of the dry run's data, VAE, MDN-RNN and latents (a controller to
    train on the shared world model without touching the shared run)."""
    import shutil

    c = tiny_config(path, **overrides)
    for d in ("data", "vae", "mdn_rnn"):
        shutil.copytree(cfg.run_path / d, c.run_path / d)
    shutil.copy(cfg.run_path / "latents.npz", c.run_path / "latents.npz")
    return c


def test_dry_run_produces_every_artefact(dry_run):
    cfg, summary = dry_run
    run = cfg.run_path
    for rel in ["config.json", "summary.json", "data/manifest.json", "data/shard_00000.npz", "latents.npz",
                "vae/model.safetensors", "vae/config.json", "vae/metrics.json",
                "mdn_rnn/model.safetensors", "mdn_rnn/config.json", "mdn_rnn/metrics.json",
                "controller/model.safetensors", "controller/config.json", "controller/metrics.json",
                "controller/dream/model.safetensors", "eval/results.json",
                "logs/vae.jsonl", "logs/mdn_rnn.jsonl", "logs/controller.jsonl"]:
        assert (run / rel).is_file() and (run / rel).stat().st_size > 0, rel
    assert json.loads((run / "config.json").read_text())["vae"]["latent_dim"] == cfg.vae.latent_dim
    ctrl = json.loads((run / "controller/metrics.json").read_text())
    assert len(ctrl["dream"]["history"]) == cfg.controller.dream_epochs
    assert len(ctrl["real"]["history"]) == cfg.controller.real_epochs
    # Each phase re-scores its best elites (3 in the dream, real_finalists in the real game; fewer if it ran fewer
    # generations) and the CMA-ES mean.
    assert len(ctrl["dream"]["rescored"]) == min(3, cfg.controller.dream_epochs) + 1
    assert len(ctrl["real"]["rescored"]) == min(cfg.controller.real_finalists, cfg.controller.real_epochs) + 1
    elites = np.load(run / "controller/real_elites.npz")  # each real generation's best, as its history logged it
    assert elites["scores"].tolist() == [h["best"] for h in ctrl["real"]["history"]]
    assert elites["params"].shape == (cfg.controller.real_epochs, elites["mean"].size)
    log = read_log(run / "logs/controller.jsonl")  # every generation logged once, with the history's values
    assert [r["controller/dream_best"] for r in log if "controller/dream_best" in r] == [h["best"] for h in ctrl["dream"]["history"]]
    assert [r["step"] for r in log] == list(range(1, cfg.controller.dream_epochs + cfg.controller.real_epochs + 1))
    results = json.loads((run / "eval/results.json").read_text())
    assert results["agent"]["num_episodes"] == cfg.eval.num_episodes == len(results["agent"]["episodes"])
    assert summary["evaluate"]["mean"] == pytest.approx(results["agent"]["mean"], abs=0.05)
    # The CPU kernels that shaped the weights (they differ between AVX-512 and AVX2 machines) are on record.
    for phase in ("vae", "mdn_rnn"):
        kernels = json.loads((run / phase / "metrics.json").read_text())["cpu_kernels"]
        assert kernels["aten"] == torch.backends.cpu.get_cpu_capability()
    # Sizes flow from upstream artefacts.
    assert json.loads((run / "mdn_rnn/config.json").read_text())["latent_dim"] == cfg.vae.latent_dim


def test_evaluate_reads_the_run_and_is_reproducible(dry_run):
    cfg, _ = dry_run
    a = evaluate.main(cfg)
    b = evaluate.main(cfg)
    assert [e["score"] for e in a["agent"]["episodes"]] == [e["score"] for e in b["agent"]["episodes"]]
    assert [e["seed"] for e in a["agent"]["episodes"]] == [cfg.eval.seed + i for i in range(cfg.eval.num_episodes)]


def test_rerun_reuses_phases(dry_run, capsys):
    cfg, _ = dry_run
    weights = cfg.run_path / "vae" / "model.safetensors"
    before = weights.stat().st_mtime_ns
    train_world_model.main(cfg)
    assert weights.stat().st_mtime_ns == before
    assert "already trained; reusing" in capsys.readouterr().out


def test_population_policy_matches_single_policies(dry_run):
    """Emulators playing different candidates in one batch act exactly as each candidate alone."""
    cfg, _ = dry_run
    wm = WorldModel.load(cfg.run_path, torch.device("cpu"))
    torch.manual_seed(0)
    params = torch.randn(3, wm.controller.num_params) * 0.5
    frames = np.random.default_rng(0).integers(0, 255, (6, 64, 64, 3), dtype=np.uint8)
    jobs_cand = np.array([2, 0, 1, 1, 0, 2])
    pop = WorldModelPolicy(wm.vae, wm.mdn, params, job_candidates=jobs_cand)
    pop.reset(6)
    pop.start(np.arange(6), np.arange(6))
    singles = []
    for e in range(6):
        s = WorldModelPolicy(wm.vae, wm.mdn, params[jobs_cand[e]:jobs_cand[e] + 1])
        s.reset(1)
        s.start(np.zeros(1, int), np.zeros(1, int))
        singles.append(s)
    for t in range(5):
        got = pop.act(frames)
        want = np.concatenate([s.act(frames[e:e + 1]) for e, s in enumerate(singles)])
        np.testing.assert_array_equal(got, want)
        if t == 2:  # env 4 starts a new episode: its LSTM state resets, the others' do not
            pop.start(np.array([4]), np.array([4]))
            singles[4].reset(1)
    assert pop.action_counts.sum() == 5 * 6


def test_runner_refills_emulators_and_matches_lockstep_play():
    """Jobs played 2 emulators at a time score exactly as when each has its own emulator."""
    from config import EnvConfig
    from utils.evaluation import ConstantPolicy, RandomPolicy
    from utils.runner import run_episodes

    env = EnvConfig(max_episode_frames=2000)
    seeds = [5, 6, 7, 8, 9]
    a = run_episodes(env, ConstantPolicy(1), seeds, num_envs=2)
    b = run_episodes(env, ConstantPolicy(1), seeds)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_array_equal(a.lengths, b.lengths)
    assert a.lengths.min() > 0 and a.returns.sum() > 0
    capped = run_episodes(env, RandomPolicy(6, 0), seeds, num_envs=3, max_steps=50)
    assert (capped.lengths == 50).all() and not capped.terminated.any()


def test_runner_on_single_envs_refills_them_and_never_steps_a_finished_game():
    """The SB3 agents' path: single gymnasium envs batched by GameBatch behave as the vector env's jobs."""
    from config import EnvConfig
    from utils.evaluation import ConstantPolicy
    from utils.runner import run_episodes
    from utils.wrappers import make_single_env

    class FramePolicy(ConstantPolicy):  # a deterministic function of the frame, so sticky actions matter
        def act(self, frames, envs=None):
            return frames.reshape(len(frames), -1).sum(1) // 7 % 6

    env = EnvConfig(max_episode_frames=600)
    made = []

    def make():
        made.append(make_single_env(env))
        steps = {"n": 0}
        real_step = made[-1].step

        def counted(action):
            steps["n"] += 1
            return real_step(action)

        made[-1].step, made[-1].steps = counted, steps
        return made[-1]

    seeds = [5, 6, 7, 8, 9]
    a = run_episodes(env, FramePolicy(0), seeds, num_envs=2, make_env=make)
    assert len(made) == 2 and sum(e.steps["n"] for e in made) == a.lengths.sum()  # no step of an idle env
    b = run_episodes(env, FramePolicy(0), seeds, make_env=make)
    np.testing.assert_array_equal(a.returns, b.returns)  # each game is its seed's, whichever env played it
    assert (a.lengths == 150).all()  # 600 frames / frameskip 4: every game is cut by the frame limit
    assert a.action_counts.sum() == a.lengths.sum() and not a.terminated.any()
    assert len(set(a.returns.tolist())) > 1  # the seeds (sticky actions) make the games differ


def test_cma_es_improves_a_toy_fitness(tmp_path):
    cfg = tiny_config(tmp_path, **{"controller.population_size": 12})
    target = np.linspace(-1, 1, 10)

    def fitness(X, gen):
        return -((X - target) ** 2).sum(1), np.ones(3)

    from utils.logger import RunLogger

    with RunLogger(cfg, "toy", tmp_path) as logger:
        hist, elites, mean = run_cma("toy", np.zeros(10), 0.5, cfg, 40, fitness, logger, progress=False)
    assert hist[-1]["best"] > 0.2 * hist[0]["best"]  # fitness is negative: closer to 0 is better
    assert ((mean - target) ** 2).sum() < 0.1 * (target ** 2).sum()
    assert len(elites) == 40


def test_cma_dampfac_speeds_up_the_step_size_on_a_fitness_without_signal(tmp_path):
    """``dampfac`` (controller.real_csa_dampfac) reaches pycma's CSA_dampfac: on pure noise in 294 dimensions with 32
    candidates, as a real phase near its start sees (294 searched weights by default: pycma adapts the step by CSA below
    300 dimensions, by TPA from 300, where CSA_dampfac does nothing), the default step falls only to ~0.85x in 12
    generations, with 0.3 to ~0.6x; dampfac 1.0 passes no option, so a run's candidates (and a resumed run's digests)
    are as before; with 300 or more searched weights it stops with one line."""
    from utils.logger import RunLogger

    cfg = tiny_config(tmp_path, **{"controller.population_size": 32})

    def noise(X, gen):
        return np.random.default_rng(gen).normal(size=len(X)), np.ones(3)

    sigmas, firsts = {}, {}
    for d in (1.0, 0.3):
        with RunLogger(cfg, f"d{d}", tmp_path / str(d)) as logger:
            hist, elites, _ = run_cma("real", np.zeros(294), 1.0, cfg, 12, noise, logger, progress=False, dampfac=d)
        sigmas[d], firsts[d] = hist[-1]["sigma"], elites[0][1]
    assert 0.8 < sigmas[1.0] < 0.95 and 0.45 < sigmas[0.3] < 0.7
    with RunLogger(cfg, "plain", tmp_path / "plain") as logger:
        _, elites, _ = run_cma("real", np.zeros(294), 1.0, cfg, 1, noise, logger, progress=False)
        with pytest.raises(UserError, match="by CMAAdaptSigmaTPA"):  # 300 weights: TPA, where it would do nothing
            run_cma("real", np.zeros(300), 1.0, cfg, 1, noise, logger, progress=False, dampfac=0.3)
    np.testing.assert_array_equal(elites[0][1], firsts[1.0])


def test_mirrored_cma_plays_pairs_through_the_mean_tells_each_pairs_winner_and_resumes(tmp_path):
    """``mirrored`` (controller.real_mirrored): each generation's candidates 2k and 2k+1 are mirror images through the
    same point (pycma's mean); pycma is told the better of each pair (pairwise selection), so on a linear fitness every
    told step points uphill and the mean moves uphill in the first generation whatever the draws; it closes in on a
    quadratic's target; a run resumed from generation 6's checkpoint ends identical; an odd population stops."""
    from utils.logger import RunLogger

    cfg = tiny_config(tmp_path, **{"controller.population_size": 12})
    target, g = np.linspace(-1, 1, 10), np.linspace(1, 2, 10)
    drawn, saved = [], {}

    def sphere(X, gen):
        drawn.append(X.copy())
        return -((X - target) ** 2).sum(1), np.ones(3)

    def checkpoint(progress):
        if len(progress["history"]) == 6:
            saved.update(progress)

    with RunLogger(cfg, "toy", tmp_path) as logger:
        hist, elites, mean = run_cma("toy", np.zeros(10), 0.5, cfg, 40, sphere, logger, progress=False, mirrored=True,
                                     checkpoint=checkpoint)
        res_hist, _, res_mean = run_cma("toy", np.zeros(10), 0.5, cfg, 40, sphere, logger, progress=False,
                                        mirrored=True, resume=saved)
        _, _, moved = run_cma("toy", np.zeros(10), 0.5, cfg, 1, lambda X, gen: (X @ g, np.ones(3)), logger,
                              progress=False, mirrored=True)
        with pytest.raises(UserError, match="population 11 must be even"):
            run_cma("toy", np.zeros(10), 0.5, cfg, 1, sphere, logger, progress=False, mirrored=True, popsize=11)
    assert all(X.shape == (12, 10) for X in drawn)
    for X in drawn[:40]:  # 6 pairs through one centre: the mean pycma sampled around
        np.testing.assert_allclose(X[0::2] + X[1::2], np.broadcast_to(X[0] + X[1], (6, 10)), atol=1e-12)
        assert np.abs(X[0] - X[1]).min() > 0
    np.testing.assert_allclose((drawn[0][0] + drawn[0][1]) / 2, np.zeros(10), atol=1e-12)  # the first centre is x0
    assert (((drawn[39][0] + drawn[39][1]) / 2 - target) ** 2).sum() < 0.2 * (target ** 2).sum()  # the centre moves
    assert moved @ g > 0.1  # pairwise selection: every told step has a positive projection on g
    assert ((mean - target) ** 2).sum() < 0.1 * (target ** 2).sum()
    np.testing.assert_array_equal(res_mean, mean)
    assert [h["best"] for h in res_hist] == [h["best"] for h in hist]


def test_elitist_search_moves_only_on_a_challenge_win_draws_around_the_incumbent_and_resumes(tmp_path):
    """run_elite on a toy problem: a noisy 2-game-like fitness ranks the draws, an exact challenge decides. Each
    generation's draws are the incumbent plus sigma times the generation's seeded normals; the incumbent moves to the
    best challenger exactly when it scores higher than the incumbent (so its challenge score never falls); it closes in
    on the target; a run resumed from generation 6's checkpoint ends identical; ``stop`` ends it early."""
    from utils.logger import RunLogger

    cfg = tiny_config(tmp_path, **{"controller.population_size": 8})
    target = np.linspace(-1, 1, 6)

    def truth(X):
        return -((X - target) ** 2).sum(1)

    drawn, around = [], []

    def fitness(X, gen):
        drawn.append(X.copy())
        return truth(X) + np.random.default_rng(gen).normal(0, 0.5, len(X)), np.ones(3)

    def challenge(X, gen):
        around.append(X[0].copy())
        return truth(X)

    saved = {}

    def checkpoint(progress):
        if len(progress["history"]) == 6:
            saved.update(progress)

    with RunLogger(cfg, "toy", tmp_path) as logger:
        hist, x = run_elite("toy", np.zeros(6), 0.3, cfg, 15, fitness, challenge, logger, checkpoint=checkpoint)
        for g, X in enumerate(drawn):  # the draws: around the incumbent challenged in the same generation
            want = around[g] + 0.3 * np.random.default_rng([cfg.seed, 104_729, g]).standard_normal((8, 6))
            np.testing.assert_allclose(X, want)
        for a, b in zip(hist, hist[1:]):  # the incumbent carried into the next generation is the winner
            assert b["incumbent"] == pytest.approx(max(a["incumbent"], a["challenger"]))
            assert a["moved"] == int(a["challenger"] > a["incumbent"])
        assert 3 <= sum(h["moved"] for h in hist) < 15
        assert truth(x[None])[0] == pytest.approx(max(hist[-1]["incumbent"], hist[-1]["challenger"]))
        assert truth(x[None])[0] > 0.3 * truth(np.zeros((1, 6)))[0]  # -4.4 at the start
        res_hist, res_x = run_elite("toy", np.zeros(6), 0.3, cfg, 15, fitness, challenge, logger, resume=saved)
        short, _ = run_elite("toy", np.zeros(6), 0.3, cfg, 15, fitness, challenge, logger, stop=lambda h: len(h) >= 4)
    np.testing.assert_array_equal(res_x, x)
    assert [h["best"] for h in res_hist] == [h["best"] for h in hist] and len(short) == 4


@pytest.mark.slow
def test_breakout_dry_run_uses_the_games_action_count(tmp_path):
    cfg = tiny_config(tmp_path, **{"env.env_id": "ALE/Breakout-v5", "controller.dream_epochs": 1, "controller.real_epochs": 1})
    summary = train_world_model.main(cfg)
    assert json.loads((cfg.run_path / "mdn_rnn/config.json").read_text())["action_dim"] == 4
    assert json.loads((cfg.run_path / "controller/config.json").read_text())["action_dim"] == 4
    assert summary["evaluate"]["episodes"] == cfg.eval.num_episodes


def test_missing_upstream_phase_is_a_clear_error(tmp_path):
    cfg = tiny_config(tmp_path)
    with pytest.raises(UserError, match="run train_vae.py first"):
        import train_mdn_rnn

        train_mdn_rnn.main(cfg)
    with pytest.raises(UserError, match="run train_vae.py and train_mdn_rnn.py first"):
        train_controller.main(cfg)


def test_evaluate_records_a_real_video(dry_run, tmp_path):
    import dataclasses
    import shutil

    cfg, _ = dry_run
    shutil.copytree(cfg.run_path, tmp_path / "run")  # the shared run's results stay those of the dry run
    cfg = dataclasses.replace(cfg, run_dir=str(tmp_path / "run"),
                              eval=dataclasses.replace(cfg.eval, record_video=True, num_episodes=1))
    results = evaluate.main(cfg)
    video = results["video"]
    path = cfg.run_path / "videos" / video["path"].split("/")[-1]
    assert path.suffix == ".mp4" and path.stat().st_size > 1000
    import subprocess

    import imageio_ffmpeg

    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(path), "-map", "0:v:0", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    n_frames = int(out.rsplit("frame=", 1)[1].split()[0])
    assert video["length"] > 10 and abs(n_frames - video["length"]) <= 1  # one frame per step (give or take the reset frame)


def test_calibrate_keeps_the_policy_and_sets_logit_scale():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(256, 9))
    x = rng.normal(size=(9 + 1) * 4) * 37.0
    x0, sigma = calibrate(x, feats, 2.0)
    def logits(p):
        return feats @ p[:36].reshape(4, 9).T + p[36:]
    np.testing.assert_array_equal(logits(x).argmax(1), logits(x0).argmax(1))  # same actions
    assert logits(x0).std() == pytest.approx(1.0)
    # A step of size sigma per weight moves each logit by about 2.0 on average.
    noise = rng.normal(size=(2000, len(x))) * sigma
    moved = np.stack([logits(x0 + n)[:8] - logits(x0)[:8] for n in noise[:200]])
    assert moved.std() == pytest.approx(2.0, rel=0.15)
    zero, sigma0 = calibrate(np.zeros_like(x), feats, 2.0)
    assert not zero.any() and sigma0 == pytest.approx(sigma)


def test_evaluate_plays_another_controller_and_rejects_a_wrong_one(dry_run, tmp_path):
    import shutil

    cfg, _ = dry_run
    dream_dir = cfg.run_path / "controller" / "dream"
    results = evaluate.main(cfg, evaluate.EvaluateOptions(output=str(tmp_path / "r.json"), controller=str(dream_dir)))
    assert results["controller"] == str(dream_dir) and (tmp_path / "r.json").is_file()
    wrong = tmp_path / "wrong"
    shutil.copytree(cfg.run_path / "vae", wrong)  # a VAE checkpoint where a controller is expected
    with pytest.raises(UserError, match="not a 'controller' one"):
        evaluate.main(cfg, evaluate.EvaluateOptions(output=str(tmp_path / "r2.json"), controller=str(wrong)))
    assert not (tmp_path / "r2.json").exists()


def test_evaluate_records_the_seed_the_run_was_trained_with(dry_run, tmp_path):
    """`evaluate.py --run-dir RUN` without --seed: the results name RUN's training seed (its config.json), not the
    evaluating command's default."""
    import copy

    cfg, _ = dry_run
    other = copy.deepcopy(cfg)
    other.seed = cfg.seed + 7
    results = evaluate.main(other, evaluate.EvaluateOptions(output=str(tmp_path / "r.json")))
    assert results["train_seed"] == cfg.seed == json.loads((cfg.run_path / "config.json").read_text())["seed"]
    assert json.loads((tmp_path / "r.json").read_text())["train_seed"] == cfg.seed


def test_real_game_selection_keeps_the_dream_candidate_that_plays_best(dry_run, tmp_path, monkeypatch):
    """--controller.select-candidates: the dream's finalists (here with an always-NOOP controller in front,
    which never scores) play seeded real games and the best real mean is kept; replaying the kept controller
    on those games gives its recorded score, and the frames are counted."""
    import shutil

    from utils.data import collection_frames
    from utils.es import dream_selection_seeds
    from utils.rollout import Candidates, Models, make_engine

    cfg, _ = dry_run
    sel = tiny_config(tmp_path, **{"controller.select_candidates": 3, "controller.select_games": 2,
                                   "controller.real_epochs": 0, "controller.dream_epochs": 4, "controller.real_max_steps": 200})
    for d in ("data", "vae", "mdn_rnn"):
        shutil.copytree(cfg.run_path / d, sel.run_path / d)
    pools, finalists = [], train_controller.finalists

    def with_noop(elites, mean, k):
        pool = finalists(elites, mean, k)
        noop = np.zeros_like(pool[0])
        noop[-6] = 1.0  # the bias of action 0 (NOOP) of six
        pools.append(np.concatenate([noop[None], pool]))
        return pools[-1]

    monkeypatch.setattr(train_controller, "finalists", with_noop)
    metrics = train_controller.main(sel)
    s, pool = metrics["select"], pools[0]
    assert s["candidates"] == 5 and s["scores"][0] == 0 and s["chosen"] == int(np.argmax(s["scores"])) > 0
    wm = WorldModel.load(sel.run_path, torch.device("cpu"))
    x = wm.controller.get_flat()
    np.testing.assert_array_equal(x, pool[s["chosen"]].astype(np.float32))
    engine = make_engine(sel, 2, Models(wm.vae, wm.mdn))
    kept = engine.play(Candidates(x[None], np.zeros(2, dtype=int)), dream_selection_seeds(sel),
                       max_steps=sel.controller.real_max_steps)
    engine.close()
    assert kept.returns.mean() == pytest.approx(s["scores"][s["chosen"]]) and kept.returns.mean() > 0
    assert metrics["env_frames"]["real"] == s["env_steps"] * sel.env.frameskip > 5 * 2 * sel.env.frameskip
    assert metrics["env_frames"]["total"] == collection_frames(sel) + metrics["env_frames"]["real"]


def test_real_finalists_sets_how_many_elites_the_real_phase_re_scores(dry_run, tmp_path):
    """--controller.real-finalists k: the k best generation elites (controller/real_elites.npz) and the CMA-ES mean
    play the 8 selection games; the kept controller is the best of them, and replaying them gives the scores logged."""

    from utils.es import selection_seeds
    from utils.rollout import Candidates, Models, make_engine

    cfg, _ = dry_run
    one = world_model_copy(cfg, tmp_path, **{
        "controller.real_epochs": 2, "controller.real_finalists": 1, "controller.dream_epochs": 1,
        "controller.real_max_steps": 200})
    metrics = train_controller.main(one)
    el = np.load(one.run_path / "controller/real_elites.npz")
    cands = train_controller.finalists(list(zip(el["scores"].tolist(), el["params"], strict=True)), el["mean"], 1)
    assert len(cands) == 2 == len(metrics["real"]["rescored"])  # the best of the 2 generations' elites and the mean
    wm = WorldModel.load(one.run_path, torch.device("cpu"))
    np.testing.assert_array_equal(wm.controller.get_flat(), cands[int(np.argmax(metrics["real"]["rescored"]))].astype(np.float32))
    seeds = selection_seeds(one)
    with make_engine(one, 8, Models(wm.vae, wm.mdn)) as engine:
        st = engine.play(Candidates(cands.astype(np.float32), np.repeat(np.arange(2), len(seeds))), np.tile(seeds, 2),
                         max_steps=one.controller.real_max_steps)
    np.testing.assert_allclose(st.returns.reshape(2, -1).mean(1), metrics["real"]["rescored"])
    assert max(metrics["real"]["rescored"]) > 0  # the games scored, so the replay compared real scores


def test_real_frames_stops_the_real_phase_before_the_budget(dry_run, tmp_path):
    """--controller.real-frames B: the real phase plays the generations of the uncapped run while one more and the
    final re-scoring fit in B, then stops; the run's real frames stay under B. Here B is one frame short of the
    uncapped 4-generation run's total, so exactly its last generation is dropped."""

    cfg, _ = dry_run

    def run(name: str, **kw) -> dict:
        c = world_model_copy(cfg, tmp_path / name, **{
            "controller.real_epochs": 4, "controller.real_finalists": 2, "controller.dream_epochs": 1, **kw})
        return train_controller.main(c)

    full = run("full")
    budget = full["env_frames"]["total"] - 1
    capped = run("capped", **{"controller.real_frames": budget})
    key = [(h["best"], h["mean"], h["env_frames"]) for h in full["real"]["history"]]
    assert [(h["best"], h["mean"], h["env_frames"]) for h in capped["real"]["history"]] == key[:3]
    assert capped["env_frames"]["total"] <= budget < full["env_frames"]["total"]
    assert capped["env_frames"]["total"] > full["real"]["history"][2]["env_frames"]  # the finalists were re-scored


def test_real_refine_searches_around_the_real_phase_pick_within_the_budget(dry_run, tmp_path, monkeypatch):
    """--controller.real-refine r: the main search plays the generations of a plain run while its share (1 - r) of
    controller.real_frames lasts, then CMA-ES starts again from its pick with its last step size times
    controller.real_refine_sigma, on the generations' next seeds, until the whole budget; the kept controller is the
    best of the refinement's finalists and that pick (replayed on the 8 selection games), and the frames stay under the
    budget."""
    from utils.es import selection_seeds
    from utils.rollout import Candidates, Models, make_engine

    cfg, _ = dry_run
    kw = {"controller.real_epochs": 6, "controller.real_finalists": 2, "controller.dream_epochs": 1,
          "controller.real_max_steps": 200}
    plain = train_controller.main(world_model_copy(cfg, tmp_path / "plain", **kw))
    budget = plain["env_frames"]["total"]
    starts: list = []
    real_run_cma = train_controller.run_cma

    def spy(name, x0, sigma, *a, **k):
        starts.append((name, x0.copy(), sigma))
        return real_run_cma(name, x0, sigma, *a, **k)

    monkeypatch.setattr(train_controller, "run_cma", spy)
    c = world_model_copy(cfg, tmp_path / "refine", **kw, **{"controller.real_frames": budget,
                                                             "controller.real_refine": 0.5, "controller.real_refine_sigma": 0.25})
    m = train_controller.main(c)
    main, ref = m["real"]["history"], m["real"]["refine"]["history"]
    assert 0 < len(main) < 6 and len(ref) > 0  # the half budget stopped the main search; the refinement played
    key = [(h["best"], h["mean"], h["env_frames"]) for h in plain["real"]["history"]]
    assert [(h["best"], h["mean"], h["env_frames"]) for h in main] == key[: len(main)]
    assert main[-1]["env_frames"] <= budget / 2 < ref[-1]["env_frames"] and m["env_frames"]["total"] <= budget
    assert [n for n, _, _ in starts] == ["dream", "real", "refine"]
    assert starts[2][2] == pytest.approx(main[-1]["sigma"] * 0.25) == m["real"]["refine"]["start_sigma"]
    t = train_controller.ControllerTraining(c, train_controller.RunPaths.of(c), torch.device("cpu"))
    el = np.load(c.run_path / "controller/real_elites.npz")  # the main search's elites and mean
    main_cands = train_controller.finalists(list(zip(el["scores"].tolist(), el["params"], strict=True)), el["mean"], 2)
    pick = main_cands[int(np.argmax(m["real"]["rescored"]))]
    np.testing.assert_allclose(t.full(starts[2][1]), pick)  # the refinement started at the main search's pick
    steps = [r["step"] for r in read_log(c.run_path / "logs" / "controller.jsonl")]
    assert steps == list(range(1, 2 + len(main) + len(ref)))  # dream, main, refinement: each generation logged once
    kept = WorldModel.load(c.run_path, torch.device("cpu")).controller.get_flat()
    seeds = selection_seeds(c)
    with make_engine(c, 8, Models(t.wm.vae, t.wm.mdn)) as engine:
        st = engine.play(Candidates(np.stack([kept, pick]).astype(np.float32), np.repeat(np.arange(2), len(seeds))),
                         np.tile(seeds, 2), max_steps=c.controller.real_max_steps)
    kept_score, pick_score = st.returns.reshape(2, -1).mean(1)
    assert pick_score == pytest.approx(max(m["real"]["rescored"]))
    assert kept_score == pytest.approx(max(max(m["real"]["refine"]["rescored"]), pick_score))
    assert (m["real"]["refine"]["kept"] == "main") == bool(np.array_equal(kept, pick.astype(np.float32)))


def test_elitist_refinement_keeps_its_last_incumbent_checked_on_fresh_games(dry_run, tmp_path, monkeypatch):
    """--controller.real-refine-search elite: after the same main search, every refinement generation's best 3 and
    the incumbent play 8 fresh games (challenge_seeds); the incumbent starts at the main search's pick, moves only on a
    win there, and the kept controller is the last incumbent (replayed on the last generation's challenge games it
    scores what was logged for it); no finalists are re-scored, and each generation is logged once."""
    from utils.es import challenge_seeds
    from utils.rollout import Candidates, Models, make_engine

    cfg, _ = dry_run
    kw = {"controller.real_epochs": 3, "controller.real_finalists": 2, "controller.dream_epochs": 1,
          "controller.real_max_steps": 200, "controller.real_refine": 0.5, "controller.real_frames": 10**9}
    c = world_model_copy(cfg, tmp_path / "elite", **kw, **{"controller.real_refine_search": "elite"})
    challenged: list = []
    real_challenge_seeds = train_controller.challenge_seeds

    def spy(cfg_, g, *a):
        challenged.append(g)
        return real_challenge_seeds(cfg_, g, *a)

    monkeypatch.setattr(train_controller, "challenge_seeds", spy)
    m = train_controller.main(c)
    main, ref = m["real"]["history"], m["real"]["refine"]["history"]
    assert len(main) == 3 and len(ref) == 3 and challenged == [0, 1, 2]
    assert m["real"]["refine"]["search"] == "elite" and "rescored" not in m["real"]["refine"]
    assert [h["moved"] for h in ref] == [int(h["challenger"] > h["incumbent"]) for h in ref]
    t = train_controller.ControllerTraining(c, train_controller.RunPaths.of(c), torch.device("cpu"))
    el = np.load(c.run_path / "controller/real_elites.npz")
    pick = train_controller.finalists(list(zip(el["scores"].tolist(), el["params"], strict=True)), el["mean"], 2)[
        int(np.argmax(m["real"]["rescored"]))]
    kept = WorldModel.load(c.run_path, torch.device("cpu")).controller.get_flat()
    with make_engine(c, 8, Models(t.wm.vae, t.wm.mdn)) as engine:
        def score(x, g):
            seeds = challenge_seeds(c, g)
            return float(engine.play(Candidates(x[None].astype(np.float32), np.zeros(8, dtype=np.int64)), np.array(seeds),
                                     max_steps=c.controller.real_max_steps).returns.mean())

        assert score(pick, 0) == pytest.approx(ref[0]["incumbent"])  # it starts at the main search's pick
        last = ref[-1]
        assert score(kept, 2) == pytest.approx(last["challenger"] if last["moved"] else last["incumbent"])
    assert (m["real"]["refine"]["moves"] == 0) == bool(np.array_equal(kept, pick.astype(np.float32)))
    steps = [r["step"] for r in read_log(c.run_path / "logs" / "controller.jsonl")]
    assert steps == list(range(1, 8))  # 1 dream, 3 main and 3 refinement generations


def test_a_z_only_controller_searches_its_z_weights_with_the_real_population_asked(dry_run, tmp_path, monkeypatch):
    """--controller.inputs z: CMA-ES searches the (Z + 1) x A weights that read z and the biases, in both phases; the
    saved controller's h weights are exactly 0 and its z weights moved. --controller.real-population P: every real
    generation scores P candidates (the dream keeps population_size)."""

    cfg, _ = dry_run
    c = world_model_copy(cfg, tmp_path, **{
        "controller.inputs": "z", "controller.real_population": 3, "controller.real_epochs": 2,
        "controller.dream_epochs": 2, "controller.real_finalists": 1})
    shapes: dict[str, list] = {"dream": [], "real": []}
    real_run_cma = train_controller.run_cma

    def spy(name, x0, sigma, cfg_, gens, fitness, *a, **kw):
        def recorded(X, g):
            shapes[name].append(X.shape)
            return fitness(X, g)
        return real_run_cma(name, x0, sigma, cfg_, gens, recorded, *a, **kw)

    monkeypatch.setattr(train_controller, "run_cma", spy)
    metrics = train_controller.main(c)
    wm = WorldModel.load(c.run_path, torch.device("cpu"))
    Z, A = wm.vae.latent_dim, wm.mdn.action_dim
    assert metrics["searched_params"] == (Z + 1) * A < metrics["num_params"]
    assert shapes == {"dream": [(c.controller.population_size, (Z + 1) * A)] * 2, "real": [(3, (Z + 1) * A)] * 2}
    W = wm.controller.fc.weight.detach()
    assert torch.count_nonzero(W[:, Z:]) == 0 and torch.count_nonzero(W[:, :Z]) == Z * A
    assert torch.count_nonzero(wm.controller.fc.bias) == A


def test_h_components_searches_h_through_its_principal_directions(dry_run, tmp_path):
    """--controller.h_components K: CMA-ES searches A x (Z + K) + A weights in both phases, and the saved controller's h
    weights are W_k P^T, so their rank is K (below A: searching all of h would give rank A). K must be below h's size."""

    cfg, _ = dry_run
    c = world_model_copy(cfg, tmp_path, **{
        "controller.h_components": 3, "controller.real_epochs": 2, "controller.dream_epochs": 2,
        "controller.real_finalists": 1})
    metrics = train_controller.main(c)
    wm = WorldModel.load(c.run_path, torch.device("cpu"))
    Z, H, A = wm.vae.latent_dim, wm.mdn.hidden_size, wm.mdn.action_dim
    assert A > 3 and metrics["searched_params"] == A * (Z + 3) + A
    W = wm.controller.fc.weight.detach().double()
    assert torch.linalg.matrix_rank(W[:, Z:], rtol=1e-5).item() == 3  # float32 weights
    assert torch.linalg.matrix_rank(W[:, :Z], rtol=1e-5).item() == A  # z's weights stay free
    c.controller.h_components, c.restart = H, True
    with pytest.raises(UserError, match=f"h_components must be below the MDN-RNN's hidden size {H}"):
        train_controller.main(c)
    assert torch.equal(WorldModel.load(c.run_path, torch.device("cpu")).controller.fc.weight.detach().double(), W)  # kept


def test_z_components_searches_z_through_the_principal_directions_of_the_vae_means(dry_run, tmp_path):
    """--controller.z_components K: z's weights are W_k P^T with P the first K principal directions of the VAE's means
    over the data, so CMA-ES searches A x (K + K_h) + A weights, the saved z weights have rank K and lie in P's span
    (the collapsed dimensions, whose means barely move, get none). K must be below z's size."""

    import numpy as np

    cfg, _ = dry_run
    c = world_model_copy(cfg, tmp_path, **{
        "controller.z_components": 2, "controller.h_components": 3, "controller.real_epochs": 2,
        "controller.dream_epochs": 2, "controller.real_finalists": 1})
    metrics = train_controller.main(c)
    wm = WorldModel.load(c.run_path, torch.device("cpu"))
    Z, A = wm.vae.latent_dim, wm.mdn.action_dim
    assert A > 3 and Z > 2 and metrics["searched_params"] == A * (2 + 3) + A
    W = wm.controller.fc.weight.detach().double()
    assert torch.linalg.matrix_rank(W[:, :Z], rtol=1e-5).item() == 2
    mu = np.load(c.run_path / "latents.npz")["mu"].astype(np.float64)
    P = np.linalg.svd(mu - mu.mean(0), full_matrices=False)[2][:2].T  # (Z, 2), computed here from the cached means
    Wz = W[:, :Z].numpy()
    np.testing.assert_allclose(Wz @ P @ P.T, Wz, atol=1e-5)  # no weight outside the means' first 2 directions
    assert np.abs(Wz).max() > 1e-3  # and some inside them
    c.controller.z_components, c.restart = Z, True
    with pytest.raises(UserError, match=f"z_components must be below the VAE's latent size {Z}"):
        train_controller.main(c)
    assert torch.equal(WorldModel.load(c.run_path, torch.device("cpu")).controller.fc.weight.detach().double(), W)  # kept


def test_real_standardize_searches_the_real_phase_on_unit_std_features(dry_run, tmp_path, monkeypatch):
    """--controller.real-standardize: the dream phase is the plain run's; the real phase starts from the same full
    weights, but CMA-ES moves weights W' on (f - m) / s, where f is what the searched weights read (the VAE's means in
    B_z, h in B_h) and (m, s) their mean and std over the data, with a step of real_sigma0 / sqrt(K + 1) (K features of
    unit std: a step moves a logit by real_sigma0). The full weights are W' / s and b' - W' m / s."""
    cfg, _ = dry_run
    kw = {"controller.h_components": 3, "controller.real_epochs": 2, "controller.dream_epochs": 2,
          "controller.real_finalists": 1}
    starts: dict = {}
    real_run_cma = train_controller.run_cma

    def spy(name, x0, sigma, *a, **k):
        starts.setdefault(run, []).append((name, x0.copy(), sigma))
        return real_run_cma(name, x0, sigma, *a, **k)

    monkeypatch.setattr(train_controller, "run_cma", spy)
    runs, metrics = {}, {}
    for run, std in (("plain", False), ("std", True)):
        runs[run] = world_model_copy(cfg, tmp_path / run, **kw, **{"controller.real_standardize": std})
        metrics[run] = train_controller.main(runs[run])
    (_, dream_p, sig_p), (_, real_p, rsig_p) = starts["plain"]
    (_, dream_s, sig_s), (_, real_s, rsig_s) = starts["std"]
    np.testing.assert_array_equal(dream_s, dream_p)
    def key(m, phase):
        return [(h["best"], h["mean"], h["sigma"]) for h in m[phase]["history"]]

    assert sig_s == sig_p and key(metrics["std"], "dream") == key(metrics["plain"], "dream")
    assert key(metrics["std"], "real") != key(metrics["plain"], "real")
    c = runs["std"]
    t = train_controller.ControllerTraining(c, train_controller.RunPaths.of(c), torch.device("cpu"))
    Z, K, A = t.ctrl.latent_dim, t.z_basis.shape[1] + 3, t.ctrl.action_dim
    assert rsig_s == pytest.approx(c.controller.real_sigma0 / np.sqrt(K + 1)) != pytest.approx(rsig_p)
    full_plain = t.full(real_p)
    t.norm = m, s = t.real_norm()
    fz = t.dream.mu.numpy().astype(np.float64) @ t.z_basis
    np.testing.assert_allclose((m[:Z], s[:Z]), (fz.mean(0), fz.std(0)), rtol=1e-6)
    assert s[Z:].min() > 0 and not np.allclose(s, 1.0)
    np.testing.assert_allclose(t.full(real_s), full_plain, atol=1e-9)  # the same start point
    np.testing.assert_allclose(t.full(t.searched(full_plain)), full_plain, atol=1e-9)
    y = np.random.default_rng(0).normal(size=real_s.shape)  # any searched point: logits = W' (f - m) / s + b'
    f = np.random.default_rng(1).normal(size=(5, Z + t.ctrl.hidden_size))
    x = t.full(y) - t.offset
    W, b = x[:-A].reshape(A, -1), x[-A:]
    feats = np.concatenate([f[:, :Z] @ t.z_basis, f[:, Z:] @ t.h_basis], axis=1)
    np.testing.assert_allclose(f @ W.T + b, ((feats - m) / s) @ y[:-A].reshape(A, K).T + y[-A:], atol=1e-9)

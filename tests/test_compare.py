"""compare_baselines.py end to end on tiny checkpoints: every file is written and holds what it should."""

from __future__ import annotations

import json
import shutil

import imageio_ffmpeg
import matplotlib.image as mpimg
import numpy as np
import pytest

import compare_baselines

TINY_FLAGS = ["--dry-run", "--env.max-episode-frames", "800", "--num-episodes", "2", "--baselines.eval-envs", "2",
              "--logging.progress", "false"]


def run_compare(run_dir, out_dir, *extra: str) -> int:
    return compare_baselines.cli([*TINY_FLAGS, "--run-dir", str(run_dir), "--output-dir", str(out_dir), *extra])


@pytest.fixture(scope="module")
def report(baseline_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "comparison_results"
    assert run_compare(baseline_run.run_path, out, "--equal-budget", "1280") == 0  # PPO ends its last 64-step rollout at 1,280
    return out, json.loads((out / "results.json").read_text())


def test_every_agent_is_scored_on_the_same_seeds(report):
    out, results = report
    assert list(results["agents"]) == ["world-models", "ddqn", "ppo", "sac", "random", "fire"]
    assert results["skipped"] == {}
    assert results["eval_seeds"] == [10_000, 10_001]
    for name, r in results["agents"].items():
        scores = [e["score"] for e in r["episodes"]]
        assert [e["seed"] for e in r["episodes"]] == results["eval_seeds"], name
        assert r["mean"] == pytest.approx(np.mean(scores)) and r["std"] == pytest.approx(np.std(scores))
        assert r["min"] == min(scores) and r["max"] == max(scores)
    assert results["agents"]["fire"]["top_action_share"] == 1.0
    # Training budgets come from the runs: baselines 1,200 frames, the world model more (flagged).
    for algo in ("ddqn", "ppo", "sac"):
        assert 1_200 <= results["agents"][algo]["train_env_frames"] < 1_600
        assert not results["agents"][algo].get("over_budget")
    assert results["agents"]["world-models"]["train_env_frames"] > 1_200
    assert results["agents"]["world-models"]["over_budget"] is True


@pytest.mark.slow
def test_scores_match_each_agents_own_evaluation(report, baseline_run):
    """The report's numbers are the ones `--mode eval` and evaluate.py give for the same seeds."""
    import evaluate
    from baselines.training import evaluate_checkpoint

    _, results = report
    for algo in ("ddqn", "ppo", "sac"):
        own = evaluate_checkpoint(baseline_run, algo, "best")["agent"]
        assert [e["score"] for e in own["episodes"]] == [e["score"] for e in results["agents"][algo]["episodes"]], algo
    wm = evaluate.main(baseline_run)["agent"]
    assert [e["score"] for e in wm["episodes"]] == [e["score"] for e in results["agents"]["world-models"]["episodes"]]


def test_charts_are_real_images(report):
    out, _ = report
    for name in ("bar_chart", "box_plot", "learning_curves"):
        img = mpimg.imread(out / f"{name}.png")
        assert img.shape[0] > 300 and img.shape[1] > 400, name
        assert img[..., :3].std() > 0.05, f"{name} is (nearly) one colour"


def test_summary_table_has_a_row_per_agent(report):
    out, results = report
    md = (out / "summary.md").read_text()
    for label, name in (("World Models", "world-models"), ("DDQN", "ddqn"), ("PPO", "ppo"), ("SAC", "sac"),
                        ("random", "random"), ("always FIRE", "fire")):
        row = next(line for line in md.splitlines() if line.startswith(f"| {label} |"))
        assert f"| {results['agents'][name]['mean']:.1f} |" in row
    assert "over budget" in md and "1k frames" in md


def test_one_video_per_agent_with_the_games_frames(report):
    out, results = report
    for name, r in results["agents"].items():
        path = out / "videos" / f"{name}.mp4"
        assert path.is_file(), name
        frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
        assert frames in (r["video"]["length"], r["video"]["length"] + 1), name  # one frame per step (+ the reset frame)


def test_learning_curves_cover_every_trained_agent(report):
    _, results = report
    assert set(results["curves_plotted"]) == {"world-models", "ddqn", "ppo", "sac"}


def test_missing_checkpoints_are_skipped_with_the_reason(baseline_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(baseline_run.run_path, run)
    (run / "baselines" / "sac" / "best_model.zip").unlink()
    shutil.rmtree(run / "controller")
    out = tmp_path / "cmp"
    assert run_compare(run, out, "--agents", "world-models", "sac", "ppo", "fire", "--no-video") == 0
    results = json.loads((out / "results.json").read_text())
    assert list(results["agents"]) == ["ppo", "fire"]
    assert "no checkpoint at" in results["skipped"]["sac"] and "best_model.zip" in results["skipped"]["sac"]
    assert "controller" in results["skipped"]["world-models"]
    assert "Skipped:" in (out / "summary.md").read_text()


def test_no_agent_at_all_is_an_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert run_compare(tmp_path / "empty", tmp_path / "cmp") == 1
    err = capsys.readouterr().err
    assert "no trained agent to compare" in err and len(err.strip().splitlines()) == 1


def test_unknown_agent_is_an_error(baseline_run, tmp_path, capsys):
    assert run_compare(baseline_run.run_path, tmp_path / "cmp", "--agents", "dqn") == 1
    assert "unknown agent(s) dqn" in capsys.readouterr().err

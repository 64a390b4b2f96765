"""Compare every trained agent of a run (World Models, DDQN, PPO, SAC) with random and always-FIRE play.

    python compare_baselines.py                                  # the default run, 30 games each
    python compare_baselines.py --agents world-models ppo --num-episodes 10
    python compare_baselines.py --equal-budget 400000            # the frame budget the report is about

Every agent plays the same seeded full games (seeds eval.seed + i, raw score, no clipping, no
life-loss resets, sticky actions 0.25), each through the preprocessing it was trained with: the
World Models agent sees 64x64 RGB frames from ale_py's vector env, the SB3 agents SB3's Atari
wrappers (no-op starts, max-pool, 84x84 grey, 4 stacked frames). Agents without a checkpoint are
listed as skipped with the reason. Writes to ``--output-dir`` (default ``comparison_results/``):
``bar_chart.png``, ``box_plot.png``, ``learning_curves.png``, ``summary.md``, ``results.json`` and
``videos/<agent>.mp4``.
"""

from __future__ import annotations

import os

# Before torch loads OpenMP (see evaluate.py).
os.environ.setdefault("GOMP_SPINCOUNT", "10000")

import argparse
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from config import Config
from utils.common import Timer, cli_main, resolve_device, seed_everything
from utils.io import UserError, atomic_write_json, atomic_write_text, check_writable_dir, read_json
from utils.logger import read_log
from utils.wrappers import action_meanings

AGENTS = ("world-models", "ddqn", "ppo", "sac", "random", "fire")
LABELS = {"world-models": "World Models", "ddqn": "DDQN", "ppo": "PPO", "sac": "SAC", "random": "random", "fire": "always FIRE"}
REFERENCES = ("random", "fire")
SMOOTH_GAMES = 20


@dataclass
class Agent:
    name: str
    policy: Any = None  # a runner Policy
    kind: str = ""  # "wm" (64x64 RGB vector env) or "sb3" (SB3 Atari wrappers)
    checkpoint: str = ""
    env_frames: int | None = None  # emulator frames used in training
    train_seconds: float | None = None
    curve: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- finding agents


def _sum_seconds(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else float(sum(values))  # type: ignore[arg-type]


def load_world_models(cfg: Config, device: Any) -> Agent:
    from utils.agent import CONTROLLER_DIR, MDN_DIR, VAE_DIR, WorldModel, WorldModelPolicy

    run = cfg.run_path
    missing = [d for d in (VAE_DIR, MDN_DIR, CONTROLLER_DIR) if not (run / d / "model.safetensors").exists()]
    if missing:
        raise FileNotFoundError(f"no trained {', '.join(missing)} in {run} (train with train_world_model.py)")
    wm = WorldModel.load(run, device, env=cfg.env)
    agent = Agent("world-models", WorldModelPolicy.from_world_model(wm), "wm", str(run / CONTROLLER_DIR))
    agent.extra["make_video_policy"] = lambda: WorldModelPolicy.from_world_model(wm)
    metrics = read_json(run / CONTROLLER_DIR / "metrics.json", "controller metrics")
    frames = metrics.get("env_frames", {})
    agent.env_frames = frames.get("total")
    seconds = [_get(run / "data" / "manifest.json", "collect_seconds"), _get(run / VAE_DIR / "metrics.json", "train_seconds"),
               _get(run / MDN_DIR / "metrics.json", "train_seconds"), metrics.get("train_seconds")]
    agent.train_seconds = _sum_seconds(*seconds)
    hist = metrics.get("real", {}).get("history", [])
    if hist and "env_frames" in hist[0]:
        agent.curve = {"x": [h["env_frames"] for h in hist], "y": [h["mean"] for h in hist], "band": [h["std"] for h in hist],
                       "label": "World Models (CMA-ES population mean, real phase)"}
    return agent


def _get(path: Path, key: str) -> Any:
    return read_json(path, str(path)).get(key) if path.exists() else None


def load_sb3_agent(cfg: Config, algo: str, which: str) -> Agent:
    from baselines.common import SB3Policy, algo_config, algo_dir, load_model

    out = algo_dir(cfg, algo)
    path = out / f"{which}_model.zip"
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path} (train with train_baselines.py --algorithms {algo})")
    model = load_model(algo, path)
    deterministic = algo_config(cfg, algo).deterministic_eval
    agent = Agent(algo, SB3Policy(model, deterministic), "sb3", str(path))
    agent.extra.update(model=model, deterministic=deterministic)
    if (out / "metrics.json").exists():
        m = read_json(out / "metrics.json", f"{algo} metrics")
        agent.env_frames, agent.train_seconds = m.get("env_frames"), m.get("train_seconds")
    evals = read_log(out / "logs" / "eval.jsonl")
    games = read_log(out / "logs" / "train.jsonl")
    if evals:
        raw = None
        if games:
            x = np.array([g["env_frames"] for g in games], dtype=float)
            y = np.array([g["episode_return"] for g in games], dtype=float)
            k = min(SMOOTH_GAMES, len(y))
            raw = (x[k - 1:], np.convolve(y, np.ones(k) / k, mode="valid"))
        agent.curve = {"x": [e["env_frames"] for e in evals], "y": [e["mean"] for e in evals], "band": [e["std"] for e in evals],
                       "label": f"{LABELS[algo]} (validation games; faint: training games, {SMOOTH_GAMES}-game mean)",
                       "raw": raw}
    return agent


def find_agents(cfg: Config, names: list[str], which: str) -> tuple[list[Agent], dict[str, str]]:
    from utils.agent import ConstantPolicy, RandomPolicy

    device = resolve_device(cfg.device)
    agents, skipped = [], {}
    meanings = action_meanings(cfg.env)
    for name in names:
        try:
            if name == "world-models":
                agents.append(load_world_models(cfg, device))
            elif name in ("ddqn", "ppo", "sac"):
                agents.append(load_sb3_agent(cfg, name, which))
            elif name == "random":
                agents.append(Agent("random", RandomPolicy(len(meanings), cfg.eval.seed), "wm", "uniform random actions"))
            elif name == "fire":
                if "FIRE" not in meanings:
                    raise FileNotFoundError(f"{cfg.env.env_id} has no FIRE action")
                agents.append(Agent("fire", ConstantPolicy(meanings.index("FIRE")), "wm", "constant action FIRE"))
        except FileNotFoundError as e:
            skipped[name] = str(e)
            print(f"[compare] skipping {LABELS[name]}: {e}")
    return agents, skipped


# --------------------------------------------------------------------------- evaluation


def evaluate_agent(cfg: Config, agent: Agent, seeds: list[int]) -> dict[str, Any]:
    from baselines.common import make_eval_game, play_games
    from evaluate import summarize
    from utils.runner import run_episodes

    t = Timer()
    if agent.kind == "wm":
        stats = run_episodes(cfg.env, agent.policy, seeds)
    else:
        stats = play_games(lambda: make_eval_game(cfg.env), agent.policy, seeds, cfg.baselines.eval_envs)
    res = summarize(stats.returns, stats.lengths, seeds)
    counts = stats.action_counts
    res["top_action_share"] = float(counts.max() / max(1, counts.sum()))
    res["action_share"] = (counts / max(1, counts.sum())).round(4).tolist()
    res["eval_seconds"] = t.seconds
    return res


def record_agent_video(cfg: Config, agent: Agent, seed: int, video_dir: Path) -> dict[str, Any]:
    from baselines.common import SB3Policy, make_eval_game
    from utils.agent import record_video

    tmp_dir = video_dir / f".{agent.name}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    if agent.kind == "sb3":
        policy, make_env = SB3Policy(agent.extra["model"], agent.extra["deterministic"]), lambda mode: make_eval_game(cfg.env, mode)
    else:
        policy = agent.extra["make_video_policy"]() if "make_video_policy" in agent.extra else agent.policy
        make_env = None
    path, score, length = record_video(cfg.env, policy, seed, tmp_dir, agent.name, make_env=make_env)
    final = video_dir / f"{agent.name}.mp4"
    path.replace(final)
    shutil.rmtree(tmp_dir, ignore_errors=True)
    return {"path": str(final), "seed": seed, "score": score, "length": length}


# --------------------------------------------------------------------------- report


def _fmt_frames(n: int | None) -> str:
    if n is None:
        return "n/a"
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.0f}k" if n >= 1e3 else str(n)


def _fmt_seconds(s: float | None) -> str:
    if s is None:
        return "n/a"
    return f"{s / 60:.1f} min" if s >= 60 else f"{s:.0f} s"


def summary_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, r in results["agents"].items():
        frames = r.get("train_env_frames")
        flag = " (over budget)" if r.get("over_budget") else ""
        rows.append([LABELS[name], f"{r['mean']:.1f}", f"{r['std']:.1f}", f"{r['median']:.1f}", f"{r['min']:.0f}",
                     f"{r['max']:.0f}", str(r["num_episodes"]), ("-" if name in REFERENCES else _fmt_frames(frames)) + flag,
                     "-" if name in REFERENCES else _fmt_seconds(r.get("train_seconds")),
                     f"{results['action_names'][int(np.argmax(r['action_share']))]} {r['top_action_share']:.0%}"])
    return rows


HEADER = ["agent", "mean", "std", "median", "min", "max", "games", "env frames (training)", "training wall time", "top action"]


def markdown_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(HEADER))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def console_table(rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADER)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join([fmt.format(*HEADER), fmt.format(*("-" * w for w in widths)), *(fmt.format(*r) for r in rows)])


def add_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("compare")
    g.add_argument("--agents", nargs="+", default=list(AGENTS), metavar="AGENT",
                   help=f"agents to compare, from {', '.join(AGENTS)} (default: all; random and fire are references)")
    g.add_argument("--equal-budget", type=int, default=None, metavar="FRAMES",
                   help="the training budget in emulator frames the report is about; agents trained on more are flagged")
    g.add_argument("--output-dir", default="comparison_results", help="where the report goes")
    g.add_argument("--checkpoint", choices=["best", "final"], default="best", help="which baseline checkpoint plays")
    g.add_argument("--no-video", action="store_true", help="skip the one-video-per-agent recordings")


def main(cfg: Config) -> dict:
    from utils import plots

    args = cfg._args  # type: ignore[attr-defined]
    unknown = [a for a in args.agents if a not in AGENTS]
    if unknown:
        raise UserError(f"unknown agent(s) {', '.join(unknown)} in --agents; choose from {', '.join(AGENTS)}")
    if args.equal_budget is not None and args.equal_budget <= 0:
        raise UserError(f"--equal-budget must be > 0 frames (got {args.equal_budget})")
    names = list(dict.fromkeys(args.agents))
    if not cfg.run_path.is_dir():
        raise UserError(f"run directory {cfg.run_path} does not exist; train first or pass --run-dir")
    out = Path(args.output_dir)
    check_writable_dir(out, "--output-dir")
    (out / "videos").mkdir(exist_ok=True)
    seed_everything(cfg.seed)
    agents, skipped = find_agents(cfg, names, args.checkpoint)
    if not [a for a in agents if a.name not in REFERENCES]:
        reasons = "; ".join(f"{LABELS[k]}: {v}" for k, v in skipped.items()) or "only reference policies were asked for"
        raise UserError(f"no trained agent to compare in {cfg.run_path} ({reasons})")

    seeds = [cfg.eval.seed + i for i in range(cfg.eval.num_episodes)]
    print(f"[compare] {len(agents)} agents x {len(seeds)} seeded full games (seeds {seeds[0]}..{seeds[-1]})")
    results: dict[str, Any] = {
        "env_id": cfg.env.env_id, "run_dir": str(cfg.run_path), "eval_seeds": seeds, "train_seed": cfg.seed,
        "protocol": "full games of ALE v5 (sticky actions 0.25, frameskip 4), raw score, no reward clipping, "
                    "no life-loss resets; each agent through its own training preprocessing",
        "checkpoint": args.checkpoint, "equal_budget_frames": args.equal_budget, "agents": {}, "skipped": skipped,
        "created": time.strftime("%Y-%m-%d %H:%M:%S"), "action_names": action_meanings(cfg.env),
    }
    for agent in agents:
        seed_everything(cfg.seed)  # as `--mode eval` / evaluate.py do: each agent's score is independent of the others
        res = evaluate_agent(cfg, agent, seeds)
        res.update(checkpoint=agent.checkpoint, train_env_frames=agent.env_frames, train_seconds=agent.train_seconds)
        if args.equal_budget and agent.env_frames and agent.env_frames > 1.05 * args.equal_budget:
            res["over_budget"] = True
        if not args.no_video:
            res["video"] = record_agent_video(cfg, agent, seeds[0], out / "videos")
        results["agents"][agent.name] = res
        print(f"[compare] {LABELS[agent.name]:<13} {res['mean']:7.1f} +/- {res['std']:6.1f}  ({res['eval_seconds']:.0f}s)")

    names_done = list(results["agents"])
    budget = f"budget stated: {_fmt_frames(args.equal_budget)} frames" if args.equal_budget else "training budgets differ, see table"
    title = f"{cfg.env.env_id}, {len(seeds)} seeded full games each ({budget})"
    r = results["agents"]
    labels = [LABELS[n] if n in REFERENCES else f"{LABELS[n]}\n{_fmt_frames(r[n]['train_env_frames'])} frames" for n in names_done]
    plots.bar_chart(labels, [r[n]["mean"] for n in names_done], [r[n]["std"] for n in names_done], out / "bar_chart.png", title)
    plots.box_plot(labels, [np.array([e["score"] for e in r[n]["episodes"]]) for n in names_done], out / "box_plot.png", title)
    curves = {LABELS[a.name]: a.curve for a in agents if a.curve}
    refs = {LABELS[n]: r[n]["mean"] for n in names_done if n in REFERENCES}
    plots.learning_curves(curves, refs, out / "learning_curves.png", f"{cfg.env.env_id}: score vs training frames")
    results["charts"] = {k: str(out / f"{k}.png") for k in ("bar_chart", "box_plot", "learning_curves")}
    results["curves_plotted"] = [a.name for a in agents if a.curve]

    rows = summary_rows(results)
    md = [f"# {cfg.env.env_id}: agent comparison", "", f"{results['protocol']}.", f"Seeds {seeds[0]}-{seeds[-1]}; "
          f"baselines play their {args.checkpoint} checkpoint. {budget[0].upper() + budget[1:]}.", "", markdown_table(rows)]
    if skipped:
        md += ["", "Skipped:", *[f"- {LABELS[k]}: {v}" for k, v in skipped.items()]]
    atomic_write_text(out / "summary.md", "\n".join(md) + "\n")
    atomic_write_json(out / "results.json", results)
    print("\n" + console_table(rows))
    for k, v in skipped.items():
        print(f"skipped {LABELS[k]}: {v}")
    if cfg.logging.wandb:
        log_to_wandb(cfg, out, results, rows)
    print(f"[compare] wrote {out}/ (bar_chart.png, box_plot.png, learning_curves.png, summary.md, results.json, videos/)")
    return results


def log_to_wandb(cfg: Config, out: Path, results: dict[str, Any], rows: list[list[str]]) -> None:
    from utils.logger import RunLogger

    logger = RunLogger(cfg, "compare", out, algo="comparison")
    try:
        import wandb

        metrics: dict[str, Any] = {f"eval/{n}_mean": r["mean"] for n, r in results["agents"].items()}
        metrics.update({f"charts/{k}": wandb.Image(str(out / f"{k}.png")) for k in ("bar_chart", "box_plot", "learning_curves")})
        metrics["charts/summary"] = wandb.Table(columns=HEADER, data=rows)
        for n, r in results["agents"].items():
            if "video" in r:
                metrics[f"videos/{n}"] = wandb.Video(r["video"]["path"], format="mp4")
        logger.log(metrics)
    finally:
        logger.close()


if __name__ == "__main__":
    sys.exit(cli_main(__doc__.splitlines()[0], main, extra_args=add_args))

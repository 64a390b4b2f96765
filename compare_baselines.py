"""Compare every trained agent of a run (World Models, DDQN, PPO, SAC) with random and always-FIRE play.

    python compare_baselines.py                                  # the default run, 30 games each
    python compare_baselines.py --agents world-models ppo --num-episodes 10
    python compare_baselines.py --equal-budget 400000            # the frame budget the report is about

Every agent plays the same seeded full games (seeds eval.seed + i, raw score, no clipping, no
life-loss resets, sticky actions 0.25), each through the preprocessing it was trained with: the
World Models agent sees 64x64 RGB frames from ale_py's vector env, the SB3 agents SB3's Atari
wrappers (no-op starts, max-pool, 84x84 grey, 4 stacked frames). The World Models agent's games go through the
rollout engine (``--rollout.backend ray`` plays them on Ray workers); the others play here. Agents without a checkpoint are
listed as skipped with the reason. Writes to ``--output-dir`` (default ``comparison_results/``):
``bar_chart.png``, ``box_plot.png``, ``learning_curves.png``, ``summary.md``, ``results.json`` and
``videos/<agent>.mp4``.
"""

from __future__ import annotations

import utils.omp  # noqa: F401  (first: sets GOMP_SPINCOUNT before torch loads OpenMP)

# isort: split

import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from config import Config
from utils.agents import AGENTS, LABELS, REFERENCES, Agent, find_agents
from utils.cli import run_cli
from utils.common import Timer, seed_everything
from utils.evaluation import describe_actions
from utils.io import UserError, atomic_write_json, atomic_write_text, check_writable_dir
from utils.wrappers import action_meanings

# The config sections this script reads (its --help shows them, with env, logging and the run's fields).
SECTIONS = ("eval", "baselines", "rollout")


@dataclass
class CompareOptions:
    agents: list[str] = field(default_factory=lambda: list(AGENTS), metadata={"metavar": "AGENT"})
    """Agents to compare, from world-models, ddqn, ppo, sac, random, fire (random and fire are references)."""
    equal_budget: int | None = field(default=None, metadata={"metavar": "FRAMES"})
    """The training budget in emulator frames the report is about; agents trained on more are flagged."""
    output_dir: str = "comparison_results"
    """Where the report goes."""
    checkpoint: Literal["best", "final"] = "best"
    """Which baseline checkpoint plays."""
    no_video: bool = False
    """Skip the one-video-per-agent recordings."""


# --------------------------------------------------------------------------- evaluation


def evaluate_agent(cfg: Config, agent: Agent, seeds: list[int]) -> dict[str, Any]:
    t = Timer()
    res = agent.play(cfg, seeds)
    res["eval_seconds"] = t.seconds
    return res


def record_agent_video(cfg: Config, agent: Agent, seed: int, video_dir: Path) -> dict[str, Any]:
    tmp_dir = video_dir / f".{agent.name}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    path, score, length = agent.record(cfg, seed, tmp_dir, agent.name)
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
                     describe_actions(r).removeprefix("top action ").removeprefix("mean action ")])
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


def main(cfg: Config, args: CompareOptions | None = None) -> dict:
    from utils import plots

    args = args or CompareOptions()
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

    seeds = cfg.eval.seeds()
    print(f"[compare] {len(agents)} agents x {len(seeds)} seeded full games (seeds {seeds[0]}..{seeds[-1]})")
    results: dict[str, Any] = {
        "env_id": cfg.env.env_id, "run_dir": str(cfg.run_path), "eval_seeds": seeds, "train_seed": cfg.seed,
        "protocol": f"{cfg.env.protocol()}; each agent through its own training preprocessing",
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


def cli(argv: list[str] | None = None) -> int:
    return run_cli(main, argv, __doc__.splitlines()[0], sections=SECTIONS, options=CompareOptions)


if __name__ == "__main__":
    sys.exit(cli())

"""Every trained agent of a run, loaded to play: its policy, the games it plays (``make_env``), its
checkpoint, training budget and learning curve. compare_baselines.py and publish_model.py read agents
through this module; the SB3 ones through :mod:`baselines`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from config import Config
from utils.common import resolve_device
from utils.evaluation import ConstantPolicy, RandomPolicy, evaluate_on, evaluate_policy, record_video
from utils.io import read_json
from utils.logger import read_log
from utils.run_paths import RunPaths
from utils.world_model import WorldModel, WorldModelPolicy
from utils.wrappers import action_meanings, action_space

AGENTS = ("world-models", "ddqn", "ppo", "sac", "random", "fire")
LABELS = {"world-models": "World Models", "ddqn": "DDQN", "ppo": "PPO", "sac": "SAC", "random": "random", "fire": "always FIRE"}
REFERENCES = ("random", "fire")
SMOOTH_GAMES = 20


@dataclass
class Agent:
    """A trained agent (or a reference policy) ready to play seeded games through its own preprocessing."""

    name: str
    policy: Any  # a utils.runner Policy
    checkpoint: str
    make_env: Callable[[str | None], Any] | None = None  # render_mode -> a single env (SB3 agents); None: the vector env
    num_envs: int | None = None  # games at once (None: all; World Models and references: eval.num_envs)
    video_policy: Callable[[], Any] | None = None  # a fresh policy for the recorded game (default: ``policy``)
    env_frames: int | None = None  # emulator frames used in training
    train_seconds: float | None = None
    curve: dict[str, Any] | None = None  # learning curve: x (env frames), y, band, label, raw
    spec: Any = None  # World Models: the rollout engine's spec (utils.rollout), so --rollout.backend ray plays its games
    models: Any = None  # ... and the VAE and MDN-RNN it plays with

    def play(self, cfg: Config, seeds: list[int]) -> dict[str, Any]:
        """One full game per seed: :func:`utils.evaluation.summarize`."""
        if self.spec is not None:
            from utils.rollout import make_engine

            with make_engine(cfg, self.num_envs, self.models) as engine:
                return evaluate_on(engine, self.spec, cfg.env, seeds)
        make = (lambda: self.make_env(None)) if self.make_env else None  # type: ignore[misc]
        return evaluate_policy(cfg.env, self.policy, seeds, make_env=make, num_envs=self.num_envs)

    def record(self, cfg: Config, seed: int, video_dir: Path, name: str) -> tuple[Path, float, int]:
        """One recorded game: (mp4 path, score, length)."""
        policy = self.video_policy() if self.video_policy else self.policy
        return record_video(cfg.env, policy, seed, video_dir, name, make_env=self.make_env)


def _sum_seconds(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else float(sum(values))  # type: ignore[arg-type]


def _get(path: Path, key: str) -> Any:
    return read_json(path, str(path)).get(key) if path.exists() else None


def _first_pass_seconds(paths: RunPaths) -> float | None:
    return _sum_seconds(_get(paths.manifest, "collect_seconds"), *(_get(paths.phase(p) / "metrics.json", "train_seconds")
                                                                   for p in ("vae", "mdn_rnn", "controller")))


def _world_models_agent(cfg: Config, wm: WorldModel, checkpoint: str) -> Agent:
    from utils.rollout import Models, controller_spec

    return Agent("world-models", WorldModelPolicy.from_world_model(wm), checkpoint, num_envs=cfg.eval.num_envs or None,
                 video_policy=lambda: WorldModelPolicy.from_world_model(wm), spec=controller_spec(wm),
                 models=Models(wm.vae, wm.mdn))


def load_world_models(cfg: Config, device: Any) -> Agent:
    """The run's World Models agent: the last finished round's when it trained iteratively (its frames are
    every round's real frames, its curve the rounds' validation score), else the first pass's."""
    from utils.iterate import read_curve, round_dir

    rounds = read_curve(RunPaths.of(cfg).root)
    if rounds and rounds[-1]["round"] > 0:
        last = rounds[-1]
        paths = RunPaths(round_dir(RunPaths.of(cfg).root, last["round"]))
        wm = WorldModel.load(paths.root, device, env=cfg.env)
        agent = _world_models_agent(cfg, wm, str(paths.controller))
        agent.env_frames = last["real_frames_total"]
        first = _first_pass_seconds(RunPaths.of(cfg))
        agent.train_seconds = None if first is None else first + sum(r["seconds"] for r in rounds)
        agent.curve = {"x": [r["real_frames_total"] for r in rounds], "y": [r["validation_mean"] for r in rounds],
                       "band": [r["validation_std"] for r in rounds],
                       "label": f"World Models (iterative rounds 0-{last['round']}, validation games)"}
        return agent
    paths = RunPaths.of(cfg)
    missing = [p.name for p in (paths.vae, paths.mdn_rnn, paths.controller) if not (p / "model.safetensors").exists()]
    if missing:
        raise FileNotFoundError(f"no trained {', '.join(missing)} in {paths.root} (train with train_world_model.py)")
    wm = WorldModel.load(paths.root, device, env=cfg.env)
    agent = _world_models_agent(cfg, wm, str(paths.controller))
    metrics = read_json(paths.controller / "metrics.json", "controller metrics")
    agent.env_frames = metrics.get("env_frames", {}).get("total")
    agent.train_seconds = _first_pass_seconds(paths)
    hist = metrics.get("real", {}).get("history", [])
    if hist and "env_frames" in hist[0]:
        agent.curve = {"x": [h["env_frames"] for h in hist], "y": [h["mean"] for h in hist], "band": [h["std"] for h in hist],
                       "label": "World Models (CMA-ES population mean, real phase)"}
    return agent


def load_sb3_agent(cfg: Config, algo: str, which: str) -> Agent:
    from baselines.checkpoints import load_model
    from baselines.envs import SB3Policy, frame_stack, make_eval_game

    out = RunPaths.of(cfg).baseline(algo)
    path = out / f"{which}_model.zip"
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path} (train with train_baselines.py --algorithms {algo})")
    model = load_model(algo, path)
    deterministic = getattr(cfg, algo).deterministic_eval
    stack = frame_stack(cfg.env)
    agent = Agent(algo, SB3Policy(model, deterministic, stack), str(path), make_env=lambda mode: make_eval_game(cfg.env, mode),
                  num_envs=cfg.baselines.eval_envs, video_policy=lambda: SB3Policy(model, deterministic, stack))
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


def reference_agent(cfg: Config, name: str) -> Agent:
    """``random`` (uniform random actions) or ``fire`` (always FIRE)."""
    meanings = action_meanings(cfg.env)
    if name == "random":
        box = action_space(cfg.env)
        return Agent("random", RandomPolicy(len(meanings), cfg.eval.seed, box),
                     "uniform random actions" + (" in the action box" if box else ""), num_envs=cfg.eval.num_envs or None)
    if "FIRE" not in meanings:
        raise FileNotFoundError(f"{cfg.env.env_id} has no FIRE action (evaluate.py --reference plays its constant actions)")
    return Agent("fire", ConstantPolicy(meanings.index("FIRE")), "constant action FIRE", num_envs=cfg.eval.num_envs or None)


def find_agents(cfg: Config, names: list[str], which: str) -> tuple[list[Agent], dict[str, str]]:
    """The agents of ``names`` that the run has; the others are skipped with the reason."""
    device = resolve_device(cfg.device)
    agents, skipped = [], {}
    for name in names:
        try:
            if name == "world-models":
                agents.append(load_world_models(cfg, device))
            elif name in REFERENCES:
                agents.append(reference_agent(cfg, name))
            else:
                agents.append(load_sb3_agent(cfg, name, which))
        except FileNotFoundError as e:
            skipped[name] = str(e)
            print(f"[compare] skipping {LABELS[name]}: {e}")
    return agents, skipped

"""Training and scoring a baseline: the budget, the training loop with its log, validation games and
checkpoints, and the seeded evaluation of a checkpoint.

A run of algorithm ``algo`` lives in ``<run_dir>/baselines/<algo>/``::

    config.json        resolved config
    final_model.zip    SB3 checkpoint at the end of training
    best_model.zip     the checkpoint that scored best on the validation games
    logs/train.jsonl   one line per finished training game: raw score vs env frames
    logs/eval.jsonl    one line per periodic evaluation: validation mean/std vs env frames
    metrics.json       budget used, wall time, best/final validation scores
    eval/results.json  seeded full games, raw score
    resume/            while training: the latest resume checkpoint (removed once metrics.json is written)

Training is resumable (see :mod:`baselines.resume`): rerunning the same command continues; ``--restart`` starts over.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from baselines.checkpoints import algo_module, load_model, save_checkpoint
from baselines.envs import SB3Policy, frame_stack, make_baseline_env, make_eval_game, preprocessing
from baselines.resume import RESUME_DIR, read_resume, restore_resume, save_resume
from config import AlgoConfig, Config, EnvConfig
from utils.common import Timer, finished_phase, prepare_run_dir, record_config, resolve_device, seed_everything
from utils.evaluation import evaluate_policy, record_video
from utils.io import UserError, atomic_write_json
from utils.logger import RunLogger
from utils.resume import phase_lock, trim_log
from utils.run_paths import RunPaths


def algo_config(cfg: Config, algo: str) -> AlgoConfig:
    return getattr(cfg, algo)


def total_timesteps(cfg: Config, algo: str) -> int:
    """Agent steps to train: the algorithm's own total_timesteps, else the shared frame budget."""
    ac = algo_config(cfg, algo)
    return ac.total_timesteps or max(1, cfg.baselines.frame_budget // cfg.env.frameskip)


def evaluate_model(model: BaseAlgorithm, env_cfg: EnvConfig, seeds: list[int], deterministic: bool,
                   num_envs: int = 8) -> dict[str, Any]:
    """Seeded full games (raw score, no life-loss resets) with the preprocessing the model trained on."""
    return evaluate_policy(env_cfg, SB3Policy(model, deterministic, frame_stack(env_cfg)), seeds,
                           make_env=lambda: make_eval_game(env_cfg), num_envs=num_envs)


class TrainingMonitor(BaseCallback):
    """Logs every finished training game (raw score from SB3's Monitor, under the life-loss and
    clipping wrappers), evaluates on validation games every ``eval_freq_frames``, keeps the best
    checkpoint, writes a resume checkpoint after each evaluation, and stops after ``max_episodes``
    games if asked."""

    STATE = ("episodes", "next_eval", "best_mean", "best_frames", "last_eval_frames", "history")

    def __init__(self, cfg: Config, algo: str, out: Path, logger: Any):
        super().__init__()
        self.cfg, self.algo, self.out, self.run_logger = cfg, algo, out, logger
        self.frameskip = cfg.env.frameskip
        self.max_episodes = algo_config(cfg, algo).num_episodes
        self.episodes = 0
        self.next_eval = cfg.baselines.eval_freq_frames
        self.best_mean = -math.inf
        self.best_frames = 0
        self.last_eval_frames = -1
        self.history: list[dict[str, float]] = []
        self.seeds = cfg.baselines.validation_seeds()
        self.checkpoint_due = False
        self.timer, self.seconds_before = Timer(), 0.0

    @property
    def frames(self) -> int:
        return self.num_timesteps * self.frameskip

    @property
    def seconds(self) -> float:
        """Training time so far, earlier runs of a resumed training included."""
        return self.seconds_before + self.timer.seconds

    def state(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.STATE} | {"train_seconds": self.seconds}

    def load_state(self, state: dict[str, Any]) -> None:
        for k in self.STATE:
            setattr(self, k, state[k])
        self.seconds_before = state["train_seconds"]

    def _on_rollout_start(self) -> None:
        # Between rollouts every collected step is stored (and PPO's rollout trained on): the clean point to save.
        if self.checkpoint_due:
            self.checkpoint_due = False
            save_resume(self)

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            ep = info.get("episode")
            if ep is not None:
                self.episodes += 1
                self.run_logger.log({"env_frames": self.frames, "episode": self.episodes,
                                     "episode_return": float(ep["r"]), "episode_frames": int(ep["l"])}, step=self.frames)
        if self.frames >= self.next_eval:
            self.evaluate()
            self.checkpoint_due = True
            while self.next_eval <= self.frames:
                self.next_eval += self.cfg.baselines.eval_freq_frames
        if self.max_episodes and self.episodes >= self.max_episodes:
            print(f"[{self.algo}] stopping after {self.episodes} training games (--num-episodes)")
            return False
        return True

    def evaluate(self) -> dict[str, Any]:
        res = evaluate_model(self.model, self.cfg.env, self.seeds, algo_config(self.cfg, self.algo).deterministic_eval,
                             self.cfg.baselines.eval_envs)
        self.last_eval_frames = self.frames
        rec = {"env_frames": self.frames, "mean": res["mean"], "std": res["std"], "min": res["min"],
               "max": res["max"], "episodes": self.episodes}
        self.history.append(rec)
        self.run_logger.log(rec, step=self.frames, stream="eval")
        improved = res["mean"] > self.best_mean
        if improved:
            self.best_mean, self.best_frames = res["mean"], self.frames
            save_checkpoint(self.model, self.out / "best_model.zip")
        print(f"[{self.algo}] {self.frames:,} frames: validation {res['mean']:.1f} +/- {res['std']:.1f} over "
              f"{len(self.seeds)} games{' (best so far, saved)' if improved else ''}")
        return res


def train(cfg: Config, algo: str) -> dict[str, Any]:
    """Train ``algo`` on the budget, leaving final_model.zip, best_model.zip and the logs.

    With a resume checkpoint from an unfinished run (and no ``--restart``) training continues from it;
    the logs keep their lines up to the checkpoint and go on from there.
    """
    module = algo_module(algo)
    if not cfg.env.atari and algo == "ddqn":
        raise UserError(f"DDQN needs discrete actions and {cfg.env.env_id} has continuous ones (steer, gas, brake): "
                        "use --algorithms ppo sac")
    out = RunPaths.of(cfg).baseline(algo)
    if (done := finished_phase(out, algo, cfg.restart)) is not None:  # metrics.json is written last
        shutil.rmtree(out / RESUME_DIR, ignore_errors=True)  # left by a kill just after metrics.json
        return done
    prepare_run_dir(cfg, out)
    with phase_lock(out, algo):  # one process per algorithm folder (save_resume clears leftovers in resume/)
        return _train(cfg, algo, module, out, read_resume(cfg, algo))


def _train(cfg: Config, algo: str, module: Any, out: Path, state: dict[str, Any] | None) -> dict[str, Any]:
    record_config(cfg, out)
    if state is None:
        shutil.rmtree(out / RESUME_DIR, ignore_errors=True)
        for name in ("train", "eval"):
            (out / "logs" / f"{name}.jsonl").unlink(missing_ok=True)
    else:
        for name in ("train", "eval"):  # lines are stepped by env frames
            trim_log(out / "logs" / f"{name}.jsonl", state["model"]["num_timesteps"] * cfg.env.frameskip)
    seed_everything(cfg.seed)
    device = resolve_device(cfg.device)
    ac = algo_config(cfg, algo)
    steps = total_timesteps(cfg, algo)
    env = make_baseline_env(cfg.env, ac.n_envs, cfg.seed, training=True)
    model = module.make_model(cfg, env, device)
    if state is not None:
        restore_resume(model, out / RESUME_DIR, state, cfg.seed)
    logger = RunLogger(cfg, "train", out, algo=algo, wandb_prefix="train")
    monitor = TrainingMonitor(cfg, algo, out, logger)
    if state is None:
        print(f"[{algo}] training for {steps:,} agent steps ({steps * cfg.env.frameskip:,} frames) on {ac.n_envs} "
              f"env(s), device {device}" + (f", at most {ac.num_episodes} games" if ac.num_episodes else ""))
    else:
        monitor.load_state(state["monitor"])
        print(f"[{algo}] resuming from {out / RESUME_DIR} at {model.num_timesteps * cfg.env.frameskip:,} frames "
              f"of {steps * cfg.env.frameskip:,}, with new games (pass --restart to start over)")
    try:
        # Without a reset SB3 adds the steps done: the total, and with it every schedule, is the budget.
        model.learn(total_timesteps=steps - model.num_timesteps, callback=monitor, progress_bar=False,
                    reset_num_timesteps=state is None)
        if monitor.last_eval_frames != monitor.frames:  # the end of training is always scored
            monitor.evaluate()
        seconds = monitor.seconds
        save_checkpoint(model, out / "final_model.zip")
        logger.log_artifact(out, algo, patterns=("final_model.zip", "best_model.zip"))
    finally:
        logger.close()
        env.close()
    final = monitor.history[-1]
    metrics = {
        "algorithm": algo, "env_id": cfg.env.env_id, "seed": cfg.seed,
        "agent_steps": int(model.num_timesteps), "env_frames": int(model.num_timesteps * cfg.env.frameskip),
        "training_games": monitor.episodes, "train_seconds": seconds,
        "steps_per_second": model.num_timesteps / max(seconds, 1e-9),
        "best": {"env_frames": monitor.best_frames, "validation_mean": monitor.best_mean},
        "final": {"env_frames": final["env_frames"], "validation_mean": final["mean"]},
        "validation_seeds": monitor.seeds, "deterministic_eval": ac.deterministic_eval,
        "hyperparameters": vars(ac) | {"frame_budget": cfg.baselines.frame_budget},
    }
    atomic_write_json(out / "metrics.json", metrics)
    shutil.rmtree(out / RESUME_DIR, ignore_errors=True)  # up to two replay buffers' worth of disk
    print(f"[{algo}] done: {metrics['agent_steps']:,} steps in {seconds:.0f}s ({metrics['steps_per_second']:.0f} steps/s), "
          f"{monitor.episodes} games; best validation {monitor.best_mean:.1f} at {monitor.best_frames:,} frames")
    return metrics


def evaluate_checkpoint(cfg: Config, algo: str, which: str = "best", video: bool = False) -> dict[str, Any]:
    """``--mode eval``: play eval.num_episodes seeded full games with a checkpoint; write eval/results.json."""
    out = RunPaths.of(cfg).baseline(algo)
    model = load_model(algo, out / f"{which}_model.zip")
    seed_everything(cfg.seed)
    seeds = cfg.eval.seeds()
    deterministic = algo_config(cfg, algo).deterministic_eval
    timer = Timer()
    res = evaluate_model(model, cfg.env, seeds, deterministic, cfg.baselines.eval_envs)
    res["seconds"] = timer.seconds
    results = {"env_id": cfg.env.env_id, "algorithm": algo, "checkpoint": str(out / f"{which}_model.zip"),
               "eval_seed": cfg.eval.seed, "train_seed": cfg.seed, "deterministic": deterministic,
               "protocol": f"{cfg.env.protocol()}; {preprocessing(cfg.env)}",
               "agent": res}
    print(f"[{algo}] {which} checkpoint: mean {res['mean']:.1f} +/- {res['std']:.1f} (min {res['min']:.0f}, "
          f"max {res['max']:.0f}) over {res['num_episodes']} games")
    if video:
        policy = SB3Policy(model, deterministic, frame_stack(cfg.env))
        path, score, length = record_video(cfg.env, policy, seeds[0], out / "videos", algo,
                                           make_env=lambda mode: make_eval_game(cfg.env, render_mode=mode))
        results["video"] = {"path": str(path), "seed": seeds[0], "score": score, "length": length}
        print(f"[{algo}] video: {path} (score {score:.0f}, {length} steps)")
    atomic_write_json(out / "eval" / "results.json", results)
    return results

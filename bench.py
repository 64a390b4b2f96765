"""Speed of every hot loop, in one run, with the model sizes of the chosen preset.

    python bench.py                    # default preset sizes, CPU or CUDA (--device)
    python bench.py --output bench.json
    python bench.py --num-generations 8 --around runs/X   # generations of candidates around a trained controller

Prints: raw vector-env steps/s, the real-env agent loop (whole population batched) steps/s, dream
latent steps/s, VAE train and encode frames/s, MDN-RNN train steps/s, and the ratios between them.
Models are freshly initialised (speed does not depend on training), unless --around names a run: then its models
play, and the real generations' candidates are its controller plus steps of its real phase's last size, so games last
as long as in a real phase after training (random controllers lose their games sooner). Figures vary with the machine.
"""

from __future__ import annotations

import utils.omp  # noqa: F401  (first: sets GOMP_SPINCOUNT before torch loads OpenMP)

# isort: split

import json
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from config import Config
from models.mdn_rnn import MDNRNN
from models.vae import ConvVAE
from utils.cli import run_cli
from utils.common import resolve_device, seed_everything
from utils.data import LatentData
from utils.dream import Dream
from utils.io import UserError, atomic_write_json, check_writable_dir
from utils.world_model import WorldModelPolicy
from utils.wrappers import make_vector_env, num_actions, squeeze_obs

# The config sections this script reads (its --help shows them, with env, logging and the run's fields).
SECTIONS = ("vae", "mdn_rnn", "controller", "rollout")


def timed(fn, min_seconds: float) -> tuple[int, float]:
    """Call fn() (returns work units) until min_seconds pass, after min_seconds / 2 of warm-up
    (allocator and oneDNN kernel caches settle); returns (units, seconds)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < min_seconds / 2:
        fn()
    units, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_seconds:
        units += fn()
    return units, time.perf_counter() - t0


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


@dataclass
class BenchOptions:
    duration: float = 5.0
    """Seconds per measurement."""
    num_envs: int = 0
    """Envs for the loops (0 = one per game)."""
    output: str | None = None
    """Also write the figures as JSON here."""
    generation: bool = True
    """Play real generations."""
    num_generations: int = 1
    """How many, in a row."""
    around: str | None = None
    """A trained run: its models and controller."""


def bench_env_and_agent_loop(cfg: Config, vae: ConvVAE, mdn: MDNRNN, n_envs: int, dur: float) -> dict:
    """Raw vector-env steps (random actions, no model), then the real-env agent loop: VAE encode ->
    batched controllers -> LSTM step, the whole population at once."""
    A, Z, H = mdn.action_dim, vae.latent_dim, mdn.hidden_size
    venv = make_vector_env(cfg.env, n_envs)
    venv.reset(seed=cfg.seed)
    rng = np.random.default_rng(0)

    def env_step() -> int:
        venv.step(rng.integers(A, size=n_envs))
        return n_envs

    out = {"env_steps_per_s": rate(*timed(env_step, dur))}
    policy = WorldModelPolicy(vae, mdn, torch.randn(n_envs, (Z + H + 1) * A) * 0.1, job_candidates=np.arange(n_envs))
    policy.reset(n_envs)
    policy.start(np.arange(n_envs), np.arange(n_envs))
    obs, _ = venv.reset(seed=cfg.seed)

    def agent_step() -> int:
        nonlocal obs
        obs, *_ = venv.step(policy.act(squeeze_obs(obs)).astype(np.int64))
        return n_envs

    out["agent_loop_steps_per_s"] = rate(*timed(agent_step, dur))
    venv.close()
    return out


def bench_real_generation(cfg: Config, vae: ConvVAE, mdn: MDNRNN, loop_rate: float, generations: int = 1,
                          around: tuple[np.ndarray, float] | None = None) -> dict:
    """Real CMA-ES generations as the real phase plays them: population x real_rollouts seeded games (capped at
    real_max_steps, each generation its own seeds) queued on the rollout engine (``--rollout.backend``; local:
    real_num_envs emulators, kept from one generation to the next), by random controllers (``around`` = (x, sigma):
    x plus N(0, sigma^2) steps, as CMA-ES samples around a trained controller), ``generations`` in a row.
    Whole-phase agent steps/s (every game's steps over the generations' summed time), its ratio to the agent
    loop's, and the emulators' utilization (the share of their steps that played a game, not an idle tail)."""
    from utils.es import generation_seeds
    from utils.rollout import Candidates, Models, make_engine

    cc, A, Z, H = cfg.controller, mdn.action_dim, vae.latent_dim, mdn.hidden_size
    P = cc.population_size
    x0, sigma = around if around is not None else (np.zeros((Z + H + 1) * A), 0.1)
    X = (x0 + np.random.default_rng(cfg.seed).normal(0, sigma, (P, (Z + H + 1) * A))).astype(np.float32)
    steps = env_steps = 0
    seconds = resets = 0.0
    lengths: list[int] = []
    with make_engine(cfg, cc.real_num_envs, Models(vae, mdn)) as engine:
        for g in range(generations):
            seeds = generation_seeds(cfg, g)
            stats = engine.play(Candidates(X, np.repeat(np.arange(P), len(seeds))), np.tile(seeds, P), max_steps=cc.real_max_steps)
            steps, env_steps = steps + int(stats.lengths.sum()), env_steps + stats.env_steps
            seconds, resets = seconds + stats.seconds, resets + stats.reset_seconds
            lengths.extend(stats.lengths.tolist())
    rate = steps / seconds
    return {"generation_steps_per_s": rate, "generation_utilization": steps / env_steps if env_steps else 0.0,
            "generation_reset_seconds": resets, "generation_seconds": seconds, "generations": generations,
            "generation_games": len(lengths) // generations, "generation_candidates": "random candidates" if around is None
            else f"candidates around a trained controller (step {around[1]:.4f})",
            "generation_mean_length": float(np.mean(lengths)), "generation_max_length": int(np.max(lengths)),
            "ratio_generation_to_agent_loop": rate / loop_rate,
            "generation_emulators": cc.real_num_envs if cfg.rollout.backend == "local"
            else cfg.rollout.workers * cfg.rollout.envs_per_worker, "backend": cfg.rollout.backend}


def bench_dream(cfg: Config, mdn: MDNRNN, device: torch.device, dur: float) -> dict:
    """Dream latent steps: P candidates x R rollouts per step, one tensor program, on random latents."""
    cc, A, Z = cfg.controller, mdn.action_dim, mdn.latent_dim
    F, rng = 20_000, np.random.default_rng(0)
    lat = LatentData(mu=np.random.randn(F, Z).astype(np.float32), logvar=np.full((F, Z), -2.0, np.float32),
                     actions=np.random.randint(0, A, F - 10).astype(np.uint8), rewards=np.zeros(F - 10, np.float32),
                     dones=np.zeros(F - 10, bool), lives=np.full(F, 3, np.uint8), lengths=np.full(10, F // 10 - 1))
    dream = Dream(mdn, lat, cc.warmup_steps, device)
    params = torch.randn(cc.population_size, (Z + mdn.hidden_size + 1) * A, device=device) * 0.1
    starts = dream.sample_starts(cc.dream_rollouts, rng)
    horizon = 50

    def dream_gen() -> int:
        dream.rollout(params, starts, horizon, cc.temperature)
        sync(device)
        return cc.population_size * cc.dream_rollouts * horizon

    return {"dream_latent_steps_per_s": rate(*timed(dream_gen, dur)), "dream_batch": cc.population_size * cc.dream_rollouts}


def bench_vae(cfg: Config, vae: ConvVAE, device: torch.device, dur: float) -> tuple[dict, torch.optim.Optimizer]:
    """VAE training frames/s (one Adam step per batch) and encoding frames/s (batches of 1,024)."""
    vae.train()
    opt = torch.optim.Adam(vae.parameters(), 1e-4)
    frames = torch.randint(0, 256, (cfg.vae.batch_size, 64, 64, 3), dtype=torch.uint8).to(device)

    def vae_train() -> int:
        loss, _ = vae.compute_loss(frames)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sync(device)
        return len(frames)

    out = {"vae_train_frames_per_s": rate(*timed(vae_train, dur))}
    big = torch.randint(0, 256, (1024, 64, 64, 3), dtype=torch.uint8).to(device)
    vae.eval()

    def vae_encode() -> int:
        vae.encode_frames(big)
        sync(device)
        return len(big)

    out["vae_encode_frames_per_s"] = rate(*timed(vae_encode, dur))
    return out, opt


def bench_mdn_rnn(cfg: Config, mdn: MDNRNN, device: torch.device, dur: float) -> dict:
    """MDN-RNN training steps/s on batch_size x seq_len sequences."""
    mc, A, Z = cfg.mdn_rnn, mdn.action_dim, mdn.latent_dim
    mdn.train()
    opt = torch.optim.Adam(mdn.parameters(), 1e-3)
    B, L = mc.batch_size, mc.seq_len
    batch = {"mu": torch.randn(B, L + 1, Z), "logvar": torch.full((B, L + 1, Z), -2.0), "actions": torch.randint(0, A, (B, L)),
             "rewards": torch.zeros(B, L), "dones": torch.zeros(B, L), "life_loss": torch.zeros(B, L), "mask": torch.ones(B, L)}
    batch = {k: v.to(device) for k, v in batch.items()}

    def mdn_train() -> int:
        loss, _ = mdn.compute_loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sync(device)
        return 1

    n, s = timed(mdn_train, dur)
    return {"mdn_rnn_train_steps_per_s": n / s, "mdn_rnn_train_seq_steps_per_s": n * B * L / s}


def bench_resume(cfg: Config, vae: ConvVAE, opt_vae: torch.optim.Optimizer, n_params: int, A: int) -> dict:
    """What resuming costs: the VAE's per-epoch resume state (weights + Adam moments + RNG), and
    rebuilding CMA-ES after a kill by replaying the saved fitness of cc.dream_epochs generations."""
    import tempfile
    import types

    from utils.es import run_cma
    from utils.resume import RESUME_NAME, save_epoch

    out, cc, rng = {}, cfg.controller, np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        save_epoch(Path(tmp), {}, vae, opt_vae, np.random.default_rng(0), 1, 1, [], 0.0)
        out["vae_resume_save_seconds"] = time.perf_counter() - t0
        out["vae_resume_megabytes"] = (Path(tmp) / RESUME_NAME).stat().st_size / 1e6
    saved: list[dict] = []
    quiet = types.SimpleNamespace(log=lambda *a, **k: None)
    run_cma("dream", np.zeros(n_params), 0.1, cfg, cc.dream_epochs, lambda X, g: (rng.normal(size=len(X)), np.ones(A)),
            quiet, progress=False, checkpoint=saved.append)  # what a killed controller run leaves in resume.pt
    t0 = time.perf_counter()
    run_cma("dream", np.zeros(n_params), 0.1, cfg, cc.dream_epochs, None, quiet, progress=False, resume=saved[-1])
    out["cma_rebuild_seconds"] = time.perf_counter() - t0
    out["cma_rebuild_generations"] = cc.dream_epochs
    return out


def rate(units: int, seconds: float) -> float:
    return units / seconds


def report(out: dict, cfg: Config) -> None:
    cc, mc = cfg.controller, cfg.mdn_rnn
    print(f"bench ({out['device']}, {out['torch_threads']} torch threads, preset {cfg.preset}, {out['num_envs']} envs, "
          f"z={out['latent_dim']}, LSTM {out['hidden_size']})")
    rows = [("raw vector env", out["env_steps_per_s"], "env steps/s"),
            ("agent loop (population batched)", out["agent_loop_steps_per_s"], "env steps/s"),
            (f"dream ({out['dream_batch']} rollouts/step)", out["dream_latent_steps_per_s"], "latent steps/s"),
            ("VAE train", out["vae_train_frames_per_s"], "frames/s"),
            ("VAE encode", out["vae_encode_frames_per_s"], "frames/s"),
            (f"MDN-RNN train ({mc.batch_size}x{mc.seq_len})", out["mdn_rnn_train_steps_per_s"], "steps/s"),
            ("MDN-RNN train", out["mdn_rnn_train_seq_steps_per_s"], "sequence steps/s")]
    for name, v, unit in rows:
        print(f"  {name:<36} {v:>12,.0f} {unit}")
    if "generation_steps_per_s" in out:
        print(f"  {'real generations, whole phase':<36} {out['generation_steps_per_s']:>12,.0f} env steps/s "
              f"({out['generations']} x {out['generation_games']} games of {out['generation_candidates']}, on {out['generation_emulators']} emulators, {out['backend']}; "
              f"emulators busy {out['generation_utilization']:.0%}; {out['generation_seconds']:.1f} s, "
              f"{out['generation_reset_seconds']:.1f} s of it seeded resets)")
    print(f"  {'agent loop / raw env':<36} {out['ratio_agent_loop_to_env']:>12.2f}")
    if "generation_steps_per_s" in out:
        print(f"  {'real generation / agent loop':<36} {out['ratio_generation_to_agent_loop']:>12.2f}")
    print(f"  {'dream / agent loop':<36} {out['ratio_dream_to_agent_loop']:>12.1f}")
    print(f"  {'VAE encode / train':<36} {out['ratio_vae_encode_to_train']:>12.1f}")
    print(f"  {'VAE resume state, per epoch':<36} {out['vae_resume_save_seconds']:>12.2f} s ({out['vae_resume_megabytes']:.0f} MB)")
    print(f"  {f'CMA-ES rebuilt after {cc.dream_epochs} generations':<36} {out['cma_rebuild_seconds']:>12.2f} s "
          f"({(out['latent_dim'] + out['hidden_size'] + 1) * out['num_actions']} parameters, population {cc.population_size})")


def main(cfg: Config, args: BenchOptions | None = None) -> dict:
    args = args or BenchOptions()
    if not args.duration > 0:
        raise UserError(f"--duration must be > 0 seconds (got {args.duration})")
    if args.num_generations < 1:
        raise UserError(f"--num-generations must be >= 1 (got {args.num_generations})")
    if args.num_envs < 0:
        raise UserError(f"--num-envs must be >= 0 (0 = population size; got {args.num_envs})")
    if args.output:
        check_writable_dir(Path(args.output).parent, "--output")  # before the minutes of measuring, not after
    seed_everything(cfg.seed)
    device = resolve_device(cfg.device)
    cc, mc = cfg.controller, cfg.mdn_rnn
    A, Z = num_actions(cfg.env), cfg.vae.latent_dim
    n_envs = args.num_envs or cc.population_size * cc.real_rollouts
    out: dict = {"device": str(device), "cpu": platform.processor() or platform.machine(), "torch_threads": torch.get_num_threads(),
                 "preset": cfg.preset, "num_envs": n_envs, "latent_dim": Z, "hidden_size": mc.hidden_size, "num_actions": A}
    around = None
    if args.around:  # a trained run: its models, and candidates around its controller with its real phase's last step
        from utils.world_model import WorldModel

        run = Path(args.around)
        metrics = run / "controller" / "metrics.json"
        if not metrics.is_file():
            raise UserError(f"--around {run}: no trained controller there ({metrics} is missing)")
        history = json.loads(metrics.read_text()).get("real", {}).get("history") or []
        if not history:
            raise UserError(f"--around {run}: its controller had no real phase, so there is no step size to sample with")
        wm = WorldModel.load(run, device, env=cfg.env)
        vae, mdn = wm.vae, wm.mdn
        around = (wm.controller.get_flat(), float(history[-1]["sigma"]))
        Z, out["latent_dim"], out["hidden_size"], out["around"] = vae.latent_dim, vae.latent_dim, mdn.hidden_size, str(run)
    else:  # freshly initialised: speed does not depend on training
        vae = ConvVAE(Z, cfg.env.frame_size).to(device).eval().to(memory_format=torch.channels_last)
        mdn = MDNRNN(Z, A, mc.hidden_size, mc.num_mixtures).to(device).eval()
    out.update(bench_env_and_agent_loop(cfg, vae, mdn, n_envs, args.duration))
    if args.generation:
        out.update(bench_real_generation(cfg, vae, mdn, out["agent_loop_steps_per_s"], args.num_generations, around))
    out.update(bench_dream(cfg, mdn, device, args.duration))
    vae_figures, opt_vae = bench_vae(cfg, vae, device, args.duration)
    out.update(vae_figures)
    out.update(bench_mdn_rnn(cfg, mdn, device, args.duration))
    out.update(bench_resume(cfg, vae, opt_vae, (Z + mdn.hidden_size + 1) * A, A))
    out["ratio_agent_loop_to_env"] = out["agent_loop_steps_per_s"] / out["env_steps_per_s"]
    out["ratio_dream_to_agent_loop"] = out["dream_latent_steps_per_s"] / out["agent_loop_steps_per_s"]
    out["ratio_vae_encode_to_train"] = out["vae_encode_frames_per_s"] / out["vae_train_frames_per_s"]
    report(out, cfg)
    if args.output:
        atomic_write_json(args.output, out)
    return out


def cli(argv: list[str] | None = None) -> int:
    return run_cli(main, argv, __doc__.splitlines()[0], sections=SECTIONS, options=BenchOptions)


if __name__ == "__main__":
    sys.exit(cli())

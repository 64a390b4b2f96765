"""What the world model learned, as files: ``python evaluate.py --run-dir RUN --visualize``.

Writes to ``<run>/visuals/``:
- ``recon_grid.png``: real frames (top) and the VAE's reconstructions (bottom);
- ``dream_vs_reality.mp4``: the controller plays a real game; from the same start the MDN-RNN dreams
  the game forward at temperature tau with the same actions, each dreamed z decoded; left real, right dream;
- ``mdn_horizon.png`` + ``mdn_quality.json``: next-z NLL, reward-sign and done accuracy (teacher
  forced) and the open-loop error of the predicted z against the horizon, beside "z stays the same";
- ``dream_quality.png`` + ``mdn_quality.json["dream"]``: whether the dream can teach (see
  :mod:`utils.dream_quality`): rank agreement of dream and real scores, dreamed vs real game length,
  reward/life/game-over events on held-out games, the VAE's error on moving pixels;
- ``latent_pca.png``: the first two principal components of z, coloured by time and by reward;
- ``training_curves.png``: every phase's curves (VAE, MDN-RNN, controller in the dream and the real game).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from config import Config
from utils.data import action_values
from utils.io import UserError, atomic_path, atomic_write_json, read_json
from utils.plots import plt, save_figure
from utils.world_model import WorldModel, WorldModelPolicy

SCALE = 4  # video pixels per frame pixel


def recon_grid(wm: WorldModel, frames: np.ndarray, path: Path) -> float:
    """Real frames over their reconstructions; returns the mean squared error per pixel."""
    with torch.no_grad():
        mu = wm.vae.encode_frames(torch.from_numpy(frames).to(wm.device))
        recon = wm.vae.decode(mu).permute(0, 2, 3, 1).cpu().numpy()
    real = frames.astype(np.float32) / 255.0
    fig, axes = plt.subplots(2, len(frames), figsize=(1.6 * len(frames), 3.6))
    for i in range(len(frames)):
        axes[0, i].imshow(real[i])
        axes[1, i].imshow(np.clip(recon[i], 0, 1))
        for ax in axes[:, i]:
            ax.axis("off")
    axes[0, 0].set_title("real", fontsize=8, loc="left")
    axes[1, 0].set_title("VAE reconstruction", fontsize=8, loc="left")
    save_figure(fig, path)
    return float(((recon - real) ** 2).mean())


def play_real(cfg: Config, wm: WorldModel, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The controller plays one seeded game in the single env: (T+1, 64, 64, 3) frames, (T,) actions."""
    from utils.wrappers import make_single_env

    env = make_single_env(cfg.env)
    policy = WorldModelPolicy.from_world_model(wm)
    policy.reset(1)
    policy.start(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))
    obs, _ = env.reset(seed=cfg.eval.seed)
    frames, actions = [obs], []
    for _ in range(steps):
        a = policy.act(obs[None])[0]
        a = a.copy() if wm.mdn.continuous else int(a)
        obs, _, term, trunc, _ = env.step(a)
        frames.append(obs)
        actions.append(a)
        if term or trunc:
            break
    env.close()
    return np.stack(frames), np.array(actions, dtype=np.float32 if wm.mdn.continuous else np.int64)


@torch.no_grad()
def dream_frames(wm: WorldModel, frames: np.ndarray, actions: np.ndarray, warmup: int, temperature: float,
                 seed: int) -> np.ndarray:
    """Warm the LSTM on ``warmup`` real steps, then dream with the real actions: decoded (D, 64, 64, 3) uint8."""
    gen = torch.Generator(device=wm.device).manual_seed(seed)
    z_real = wm.vae.encode_frames(torch.from_numpy(frames).to(wm.device))
    acts = torch.from_numpy(actions).to(wm.device)
    state = wm.mdn.initial_state(1, wm.device)
    for t in range(warmup):
        state = wm.mdn.step(z_real[t:t + 1], acts[t:t + 1], state)
    z, out = z_real[warmup:warmup + 1], []
    for t in range(warmup, len(actions)):
        state = wm.mdn.step(z, acts[t:t + 1], state)
        z = wm.mdn.sample(wm.mdn.predict(state[0]), temperature, gen)
        out.append(wm.vae.decode(z))
    dream = torch.cat(out).permute(0, 2, 3, 1).clamp(0, 1).mul(255).round().to(torch.uint8).cpu().numpy()
    return dream


def write_side_by_side(real: np.ndarray, dream: np.ndarray, path: Path, fps: int = 15) -> int:
    """An mp4 of real | dream pairs, upscaled; returns the number of video frames."""
    import imageio.v2 as imageio

    pairs = np.concatenate([real, np.full((len(real), real.shape[1], 2, 3), 255, np.uint8), dream], axis=2)
    pairs = pairs.repeat(SCALE, axis=1).repeat(SCALE, axis=2)
    pad = (-pairs.shape[2]) % 16  # codec-friendly width
    pairs = np.pad(pairs, ((0, 0), (0, 0), (0, pad), (0, 0)))
    with atomic_path(path) as tmp:
        writer = imageio.get_writer(str(tmp), format="FFMPEG", mode="I", fps=fps, codec="libx264", macro_block_size=1)
        for f in pairs:
            writer.append_data(f)
        writer.close()
    return len(pairs)


@torch.no_grad()
def mdn_quality(wm: WorldModel, latents: Any, max_episodes: int, horizon: int) -> dict[str, Any]:
    """Teacher-forced NLL / reward / done accuracy, and open-loop z error vs horizon (training episodes)."""
    from models.mdn_rnn import gmm_nll

    mdn, dev = wm.mdn, wm.device
    fs, ss = latents.frame_start, latents.step_start
    nll, rew_ok, rew_n, done_tp, done_fp, done_fn, done_ok, done_n = [], 0, 0, 0, 0, 0, 0, 0
    errors, persist = np.zeros(horizon), np.zeros(horizon)
    counts = np.zeros(horizon)
    for e in range(min(max_episodes, len(latents.lengths))):
        T = int(latents.lengths[e])
        if T < 2:
            continue
        z = torch.from_numpy(latents.mu[fs[e]:fs[e] + T + 1]).float().to(dev)
        a = torch.from_numpy(action_values(latents.actions[ss[e]:ss[e] + T])).to(dev)
        r = latents.rewards[ss[e]:ss[e] + T]
        d = latents.dones[ss[e]:ss[e] + T].astype(bool)
        pred, _ = mdn(z[None, :-1], a[None], z_next=z[None, 1:])
        nll.append(gmm_nll(z[None, 1:], pred["logit_pi"], pred["mu"], pred["log_sigma"]).mean().item())
        rew_pred = np.sign(np.round(pred["reward"][0].cpu().numpy()))
        rew_ok += int((rew_pred == np.sign(r)).sum())
        rew_n += T
        done_pred = pred["done_logit"][0].cpu().numpy() > 0
        done_ok += int((done_pred == d).sum())
        done_n += T
        done_tp += int((done_pred & d).sum())
        done_fp += int((done_pred & ~d).sum())
        done_fn += int((~done_pred & d).sum())
        # Open loop from every 10th step s: the LSTM state after the true steps before s, then the
        # mixture mean fed back with the true actions, all starts as one batch.
        states, state = [], mdn.initial_state(1, dev)
        for t in range(T):
            states.append(state)
            state = mdn.step(z[t:t + 1], a[t:t + 1], state)
        starts = np.arange(0, T - horizon, 10)
        if len(starts) == 0:
            continue
        h = torch.cat([states[s][0] for s in starts])
        c = torch.cat([states[s][1] for s in starts])
        zt, z0 = z[starts], z[starts]
        for k in range(horizon):
            h, c = mdn.step(zt, a[starts + k], (h, c))
            p = mdn.predict(h)
            zt = (torch.softmax(p["logit_pi"], -1) * p["mu"]).sum(-1)
            target = z[starts + k + 1]
            errors[k] += ((zt - target) ** 2).mean(-1).sum().item()
            persist[k] += ((z0 - target) ** 2).mean(-1).sum().item()
            counts[k] += len(starts)
    if not nll:
        raise UserError("no encoded episode long enough to measure the MDN-RNN on")
    n = np.maximum(counts, 1)
    return {
        "episodes": min(max_episodes, len(latents.lengths)), "data": "training episodes (latents.npz), not held out",
        "nll_per_dim": float(np.mean(nll)), "reward_sign_accuracy": rew_ok / rew_n, "done_accuracy": done_ok / done_n,
        "done_recall": done_tp / max(1, done_tp + done_fn), "done_precision": done_tp / max(1, done_tp + done_fp),
        "horizon_mse": (errors / n).tolist(), "persistence_mse": (persist / n).tolist(), "horizon_counts": counts.astype(int).tolist(),
    }


def dream_report(cfg: Config, wm: WorldModel, latents: Any, run: Path, path: Path) -> dict[str, Any]:
    """:func:`utils.dream_quality.dream_quality` of the dream-phase controller (the final one if there is
    none), and its picture."""
    from utils.dream import Dream
    from utils.dream_quality import dream_quality
    from utils.run_paths import RunPaths
    from utils.world_model import load_controller

    ctrl_dir = RunPaths(run).dream_controller
    if not (ctrl_dir / "config.json").exists():
        ctrl_dir = RunPaths(run).controller
    ctrl = load_controller(ctrl_dir, wm.device, wm.vae.latent_dim, wm.mdn.hidden_size, wm.mdn.action_dim)
    dream = Dream(wm.mdn, latents, cfg.controller.warmup_steps, wm.device)
    q = dream_quality(cfg, wm, dream, ctrl.get_flat().astype(np.float64))
    q["controller"] = str(ctrl_dir)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    rank = q["rank"]
    axes[0].scatter(rank["dream_fitness"], rank["real_score"], s=14)
    axes[0].scatter(rank["dream_fitness"][:1], rank["real_score"][:1], s=40, c="red", label="trained controller")
    axes[0].set_xlabel(f"dream fitness ({rank['dream_rollouts']} dream games)")
    axes[0].set_ylabel(f"real score (mean of {rank['real_games_each']} games)")
    axes[0].set_title(f"rank agreement: Spearman {rank['spearman']:.2f} over {rank['candidates']} candidates", fontsize=9)
    axes[0].legend(fontsize=8)
    ln = q["length"]
    axes[1].bar(["dream", "real"], [ln["dream_mean"], ln["real_mean"]], color=["tab:purple", "tab:green"])
    axes[1].set_ylabel("mean game length (agent steps)")
    axes[1].set_title(f"trained controller: dreamed (tau {ln['temperature']}) vs real games", fontsize=9)
    for ax in axes:
        ax.grid(alpha=0.3)
    save_figure(fig, path)
    return q


def dream_headline(q: dict[str, Any]) -> dict[str, Any]:
    """The few numbers of the dream report that the summary and the ablation table show."""
    h = q["heldout"]
    consts = q["rank"].get("constants", {})
    noop = consts.get("NOOP", {}).get("dream_fitness")
    return {"rank_spearman": q["rank"]["spearman"], "dream_length": q["length"]["dream_mean"],
            "constant_spearman": q["rank"].get("constant_spearman"),
            # always-NOOP's dream fitness over the trained controller's (Space Invaders: NOOP never scores)
            "noop_over_trained": noop / q["rank"]["dream_fitness"][0] if noop is not None and q["rank"]["dream_fitness"][0] else None,
            "real_length": q["length"]["real_mean"], "reward_precision": h["reward"]["precision"],
            "reward_recall": h["reward"]["recall"], "reward_window_corr": h["reward"].get("window_corr"), "life_recall": h.get("life", {}).get("recall_at_0.5"),
            "life_calibration": h.get("life", {}).get("calibration"), "done_recall": h.get("done", {}).get("recall_at_0.5"),
            "done_calibration": h.get("done", {}).get("calibration"), "vae_moving_pixel_se": h["vae"]["moving_pixel_se"],
            "vae_pixel_se": h["vae"]["pixel_se"]}


def latent_pca(latents: Any, path: Path, max_points: int = 5000, seed: int = 0) -> list[float]:
    """PCA of z coloured by time in the episode and by the reward of the step into the frame."""
    mu = latents.mu
    t = np.concatenate([np.arange(n + 1) for n in latents.lengths])
    reward = np.zeros(len(mu))
    fs, ss = latents.frame_start, latents.step_start
    for e, n in enumerate(latents.lengths):
        reward[fs[e] + 1:fs[e] + 1 + n] = latents.rewards[ss[e]:ss[e] + n]
    idx = np.random.default_rng(seed).permutation(len(mu))[:max_points]
    x = mu[idx] - mu[idx].mean(0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    pc = x @ vt[:2].T
    explained = (s[:2] ** 2 / (s**2).sum()).tolist()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, c, label in ((axes[0], t[idx], "step in episode"), (axes[1], reward[idx], "reward of the step")):
        order = np.argsort(c)  # rewarded points on top
        sc = ax.scatter(pc[order, 0], pc[order, 1], c=c[order], s=4, cmap="viridis", alpha=0.7)
        fig.colorbar(sc, ax=ax, label=label)
        ax.set_xlabel(f"PC1 ({explained[0]:.0%})")
        ax.set_ylabel(f"PC2 ({explained[1]:.0%})")
    fig.suptitle("VAE latent space (z = mu), first two principal components", fontsize=10)
    save_figure(fig, path)
    return explained


def training_curves(run: Path, path: Path) -> None:
    vae = read_json(run / "vae" / "metrics.json", "VAE metrics")["epochs"]
    mdn = read_json(run / "mdn_rnn" / "metrics.json", "MDN-RNN metrics")["epochs"]
    ctrl = read_json(run / "controller" / "metrics.json", "controller metrics")
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    ep = [e["epoch"] for e in vae]
    axes[0].plot(ep, [e["recon"] for e in vae], marker="o", label="reconstruction")
    axes[0].plot(ep, [e["kl"] for e in vae], marker="o", label="KL")
    axes[0].set_title("VAE (per frame)")
    axes[1].plot([e["epoch"] for e in mdn], [e["nll"] for e in mdn], marker="o")
    axes[1].set_title("MDN-RNN NLL per dim")
    for ax, phase in ((axes[2], "dream"), (axes[3], "real")):
        hist = ctrl.get(phase, {}).get("history", [])
        if hist:
            g = [h["generation"] for h in hist]
            ax.plot(g, [h["best"] for h in hist], label="best")
            ax.plot(g, [h["mean"] for h in hist], label="population mean")
            ax.fill_between(g, [h["mean"] - h["std"] for h in hist], [h["mean"] + h["std"] for h in hist], alpha=0.15)
        ax.set_title(f"CMA-ES in the {phase}{' (dream reward)' if phase == 'dream' else ' (game score)'}")
    for ax in axes:
        ax.set_xlabel("epoch" if ax in axes[:2] else "generation")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    save_figure(fig, path)


def visualize_run(cfg: Config, run: Path, device: torch.device, dream_steps: int = 200) -> dict[str, Any]:
    from utils.data import LatentData, complete_manifest, load_shard, shard_paths

    out = run / "visuals"
    out.mkdir(parents=True, exist_ok=True)
    wm = WorldModel.load(run, device)
    manifest = complete_manifest(cfg.data_path)
    frames = load_shard(shard_paths(cfg.data_path, manifest)[0], ("obs", "lengths"))["obs"]
    pick = frames[np.linspace(0, len(frames) - 1, 8).astype(int)]
    summary: dict[str, Any] = {"recon_mse_per_pixel": recon_grid(wm, pick, out / "recon_grid.png")}

    warmup = min(cfg.controller.warmup_steps, 8)
    real, actions = play_real(cfg, wm, warmup + dream_steps)
    if len(actions) <= warmup:
        raise UserError(f"the real game ended after {len(actions)} steps, too short to dream from")
    dream = dream_frames(wm, real, actions, warmup, cfg.controller.temperature, cfg.seed)
    n = write_side_by_side(real[warmup + 1:warmup + 1 + len(dream)], dream, out / "dream_vs_reality.mp4")
    summary["dream_video"] = {"frames": n, "warmup_steps": warmup, "temperature": cfg.controller.temperature,
                              "seed": cfg.eval.seed, "pixel_mse": float(((real[warmup + 1:].astype(np.float32)
                                                                          - dream.astype(np.float32)) ** 2).mean() / 255**2)}

    latents = LatentData.load(run / "latents.npz")
    quality = mdn_quality(wm, latents, max_episodes=16, horizon=30)
    quality["dream"] = dream_report(cfg, wm, latents, run, out / "dream_quality.png")
    atomic_write_json(out / "mdn_quality.json", quality)
    fig, ax = plt.subplots(figsize=(6, 4))
    k = np.arange(1, len(quality["horizon_mse"]) + 1)
    ax.plot(k, quality["horizon_mse"], marker="o", label="MDN-RNN (mixture mean, open loop)")
    ax.plot(k, quality["persistence_mse"], marker="s", label="z stays the same")
    ax.set_xlabel("steps ahead")
    ax.set_ylabel("MSE of z per dimension")
    ax.set_title(f"MDN-RNN prediction vs horizon (1-step NLL {quality['nll_per_dim']:.3f}/dim)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, out / "mdn_horizon.png")
    summary["mdn"] = {k: quality[k] for k in ("nll_per_dim", "reward_sign_accuracy", "done_accuracy", "done_recall")}
    summary["dream"] = dream_headline(quality["dream"])
    summary["pca_explained"] = latent_pca(latents, out / "latent_pca.png", seed=cfg.seed)
    training_curves(run, out / "training_curves.png")
    summary["files"] = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    atomic_write_json(out / "summary.json", summary)
    return summary

"""How well the dream stands in for the game: the numbers that say whether CMA-ES in the dream can learn.

``python evaluate.py --run-dir RUN --visualize`` writes them into ``visuals/mdn_quality.json`` (key
``dream``) and ``visuals/dream_quality.png``:

- **rank agreement**: Spearman correlation between the dream fitness and the real-game score of the same
  candidates (half drawn like a first CMA-ES generation, half around the trained controller), each
  scored on R dream starts and on a few real games; beside them every constant-action controller, whose
  dream fitness against its real score says whether the dream's reward depends on the actions at all; and
  the Spearman of the candidates' dream fitness with their dreamed share of each action (and of all firing
  actions together), which says what the dream's order follows (in Space Invaders: how often a candidate fires);
- **episode length**: the trained controller's dreamed games (from the start of real games, at the
  training temperature, up to a long horizon) against its real games;
- **reward events** on held-out games (fresh seeds, the collection's random policy, teacher forced):
  precision and recall of "this step pays" (predicted reward above half the smallest real reward),
  the predicted against the real total, and the correlation of predicted and real reward summed over
  16-step windows (when a shot lands is uncertain by a few steps: an MSE head spreads it out);
- **life loss and game over**: recall at p >= 0.5, and the sum of the calibrated probabilities against
  the number of events (1.0 = calibrated);
- **what the VAE keeps**: reconstruction error on the pixels that moved since the previous frame
  (cannon, shots, bombs, invaders) beside the whole-frame error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from config import Config
from utils.data import BrownianJobs, HeldRandomJobs, action_values, episode_seed, shift_events
from utils.dream import Dream
from utils.rollout import Candidates, Models, make_engine
from utils.runner import Episodes
from utils.world_model import WorldModel
from utils.wrappers import CONSTANT_ACTIONS, action_meanings, action_space, num_actions

HELDOUT_SEED = 777_777  # collection seed of the held-out games (training data uses cfg.seed)
RANK_SEED_BASE = 3_000_000  # real games of the rank-agreement candidates
REWARD_WINDOW = 16  # steps per window of the windowed reward correlation


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (ties get their average rank); nan if either side is constant."""
    def ranks(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        order = np.argsort(x, kind="stable")
        r = np.empty(len(x))
        r[order] = np.arange(len(x))
        for v in np.unique(x):  # average rank of ties
            tie = x == v
            r[tie] = r[tie].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def heldout_games(cfg: Config, engine: Any, n: int) -> list[dict[str, np.ndarray]]:
    """n games of the collection's random policy (held random actions; Brownian ones in a continuous game,
    uniform action preferences whatever ``data.action_alpha``) on seeds the training data never used."""
    dc, box, ids = cfg.data, action_space(cfg.env), np.arange(n)
    spec = (HeldRandomJobs(num_actions(cfg.env), dc.action_hold_min, dc.action_hold_max, HELDOUT_SEED, ids) if box is None
            else BrownianJobs(box[0], box[1], HELDOUT_SEED, ids))
    rec = Episodes()
    engine.play(spec, [episode_seed(HELDOUT_SEED, i) for i in range(n)], max_steps=dc.max_steps_per_rollout, recorder=rec)
    return [{k: np.asarray(v) for k, v in rec.eps[j].items()} for j in range(n)]


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pearson correlation; None if either side is constant."""
    return float(np.corrcoef(a, b)[0, 1]) if len(a) > 1 and a.std() > 0 and b.std() > 0 else None


@torch.no_grad()
def teacher_forced(wm: WorldModel, games: list[dict[str, np.ndarray]], pay_threshold: float) -> dict[str, Any]:
    """Reward, life-loss and game-over prediction on real games, the true z and actions fed in."""
    mdn, vae, dev = wm.mdn, wm.vae, wm.device
    tp = fp = fn = 0
    pred_total = real_total = 0.0
    win_hat: list[np.ndarray] = []
    win_real: list[np.ndarray] = []
    ev = {k: {"hits": 0, "events": 0, "prob_sum": 0.0, "prob_on_events": 0.0} for k in ("life", "done")}
    moving_se = moving_n = frame_se = frame_n = 0.0
    for g in games:
        frames = torch.from_numpy(g["obs"]).to(dev)
        z = vae.encode_frames(frames)
        pred, _ = mdn(z[None, :-1], torch.from_numpy(action_values(g["actions"])).to(dev)[None], z_next=z[None, 1:])
        r_hat = mdn.reward_value(pred)[0].cpu().numpy()
        r = g["rewards"].astype(np.float64)
        pays_hat, pays = r_hat > pay_threshold, r > 0
        tp += int((pays_hat & pays).sum())
        fp += int((pays_hat & ~pays).sum())
        fn += int((~pays_hat & pays).sum())
        pred_total += float(r_hat.sum())
        n = len(r) // REWARD_WINDOW * REWARD_WINDOW  # reward in windows: when a shot will land is uncertain by a few steps
        win_hat.append(r_hat[:n].reshape(-1, REWARD_WINDOW).sum(1))
        win_real.append(r[:n].reshape(-1, REWARD_WINDOW).sum(1))
        real_total += float(r.sum())
        probs = {k: v[0].cpu().numpy() for k, v in mdn.event_probs(pred).items()}
        drops = g["lives"][1:] < g["lives"][:-1]  # the head fires mdn.life_shift steps before the counter drops
        truth = {"life": shift_events(drops, np.array([len(drops)]), mdn.life_shift), "done": g["dones"].astype(bool)}
        for k, p in probs.items():
            e = ev[k]
            e["hits"] += int(((p >= 0.5) & truth[k]).sum())
            e["events"] += int(truth[k].sum())
            e["prob_sum"] += float(p.sum())
            e["prob_on_events"] += float(p[truth[k]].sum())
        # The VAE: squared error on the pixels that changed since the previous frame, and on all pixels.
        recon = vae.decode(z).permute(0, 2, 3, 1).cpu().numpy()
        x = g["obs"].astype(np.float32) / 255.0
        se = ((recon - x) ** 2).sum(-1)  # (F, H, W) per pixel, RGB summed
        moved = (g["obs"][1:] != g["obs"][:-1]).any(-1)  # (F-1, H, W)
        moving_se += float(se[1:][moved].sum())
        moving_n += float(moved.sum())
        frame_se += float(se.sum())
        frame_n += float(se.size)
    out: dict[str, Any] = {
        "games": len(games), "steps": int(sum(len(g["actions"]) for g in games)),
        "reward": {"pay_threshold": pay_threshold, "paying_steps": tp + fn, "precision": _rate(tp, tp + fp),
                   "recall": _rate(tp, tp + fn), "predicted_total": pred_total, "real_total": real_total,
                   "window": REWARD_WINDOW, "window_corr": _corr(np.concatenate(win_hat), np.concatenate(win_real))},
        "vae": {"moving_pixels_per_frame": moving_n / max(1, sum(len(g["actions"]) for g in games)),
                "moving_pixel_se": moving_se / max(1.0, moving_n), "pixel_se": frame_se / max(1.0, frame_n)},
    }
    for k, e in ev.items():
        if e["events"] or e["prob_sum"]:
            out[k] = {"events": e["events"], "recall_at_0.5": _rate(e["hits"], e["events"]),
                      "expected_events": e["prob_sum"], "calibration": _rate(e["prob_sum"], e["events"]),
                      "mean_prob_on_events": _rate(e["prob_on_events"], e["events"])}
    return out


def constant_controllers(x: np.ndarray, action_dim: int, box: tuple[list[float], list[float]] | None = None,
                         actions: list[list[float]] | None = None) -> np.ndarray:
    """(A, len(x)) flat controllers that always take action a: zero weights, bias one-hot a (the bias is
    the last A entries of the flat vector). A continuous game: one per vector of ``actions``, the bias the
    controller's tanh mapping inverted (clipped at +-0.999 before atanh, so a bound is reached to 0.1%)."""
    if box is None:
        X = np.zeros((action_dim, len(x)))
        X[:, len(x) - action_dim:] = np.eye(action_dim)
        return X
    lo, hi = np.asarray(box[0]), np.asarray(box[1])
    X = np.zeros((len(actions or []), len(x)))
    for i, a in enumerate(actions or []):
        X[i, len(x) - action_dim:] = np.arctanh(np.clip(2 * (np.asarray(a) - lo) / (hi - lo) - 1, -0.999, 0.999))
    return X


def candidates(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n controllers: half like a first CMA-ES generation (independent normal weights), half around x
    (noise of half x's weight spread); row 0 is x itself."""
    half = n // 2
    spread = float(x.std()) or 1.0
    around = x[None] + 0.5 * spread * rng.standard_normal((half - 1, len(x)))
    return np.concatenate([x[None], around, rng.standard_normal((n - half, len(x)))])


def order_follows(fitness: np.ndarray, counts: np.ndarray, names: list[str]) -> dict[str, Any]:
    """What a dream's order of candidates follows: Spearman of their dream fitness (P,) with each one's dreamed share of
    each action (counts (P, A): Dream.rollout's candidate_counts), and with its share of all firing actions together
    where the game has some (Space Invaders: the dream pays for firing, not for hitting)."""
    share = counts / np.maximum(1, counts.sum(1, keepdims=True))
    out: dict[str, Any] = {"dream_fitness_vs_action_share": {name: spearman(fitness, share[:, a]) for a, name in enumerate(names)}}
    if fire := [a for a, name in enumerate(names) if "FIRE" in name]:
        out["dream_fitness_vs_fire_share"] = spearman(fitness, share[:, fire].sum(1))
    return out


@torch.no_grad()
def rank_agreement(cfg: Config, wm: WorldModel, dream: Dream, engine: Any, x: np.ndarray, n: int, games: int,
                   rollouts: int) -> dict[str, Any]:
    """Spearman of dream fitness vs real score over n candidates; the constant-action controllers are
    scored beside them on the same starts and noise (they change none of the candidates' numbers): when
    always-NOOP, which never scores in Space Invaders, earns nearly as much in the dream as the trained
    controller, the dream's reward does not depend on what the agent does."""
    cc = cfg.controller
    rng = np.random.default_rng(cfg.seed + 11)
    box = action_space(cfg.env)
    const_names = action_meanings(cfg.env) if box is None else list(CONSTANT_ACTIONS[cfg.env.env_id])
    consts = constant_controllers(x, wm.mdn.action_dim, box, None if box is None else list(CONSTANT_ACTIONS[cfg.env.env_id].values()))
    X = np.concatenate([candidates(x, n, rng), consts])
    m = len(X)
    g = torch.Generator(device=wm.device).manual_seed(cfg.seed + 11)
    starts = dream.sample_starts(rollouts, rng, g)
    res = dream.rollout(torch.as_tensor(X, dtype=torch.float32, device=wm.device), starts, cc.dream_horizon, cc.temperature, g,
                        cc.alive_bonus)
    seeds = [RANK_SEED_BASE + cfg.seed * 1000 + i for i in range(games)]
    stats = engine.play(Candidates(X.astype(np.float32), np.repeat(np.arange(m), games)), np.tile(seeds, m),
                        max_steps=cc.real_max_steps)
    real = stats.returns.reshape(m, games).mean(1)
    dream_fit = res.fitness.cpu().numpy()
    names = const_names
    constants = {names[a]: {"dream_fitness": float(dream_fit[n + a]), "real_score": float(real[n + a])} for a in range(len(consts))}
    follows = order_follows(dream_fit[:n], res.candidate_counts[:n], names) if box is None else {}
    return {"candidates": n, "real_games_each": games, "dream_rollouts": rollouts, "spearman": spearman(dream_fit[:n], real[:n]),
            **follows,
            "dream_fitness": dream_fit[:n].tolist(), "real_score": real[:n].tolist(), "constants": constants,
            "constant_spearman": spearman(dream_fit[n:], real[n:]),
            "real_frames": int(stats.lengths.sum()) * cfg.env.frameskip}


@torch.no_grad()
def episode_lengths(cfg: Config, wm: WorldModel, dream: Dream, engine: Any, x: np.ndarray, games: int,
                    horizon: int = 3000) -> dict[str, Any]:
    """The controller's dreamed games from the start of real games (at the training temperature) against its real games."""
    cc = cfg.controller
    rng = np.random.default_rng(cfg.seed + 13)
    g = torch.Generator(device=wm.device).manual_seed(cfg.seed + 13)
    res = dream.rollout(torch.as_tensor(x[None], dtype=torch.float32, device=wm.device),
                        dream.sample_starts(64, rng, g, at_start=True), horizon, cc.temperature, g)
    lengths = res.lengths[0].cpu().numpy()
    stats = engine.play(Candidates(x[None].astype(np.float32)), [RANK_SEED_BASE + 500 + i for i in range(games)], max_steps=horizon)
    return {"temperature": cc.temperature, "horizon": horizon, "dream_mean": float(lengths.mean()),
            "dream_median": float(np.median(lengths)), "dream_reached_horizon": float((lengths >= horizon).mean()),
            "dream_fitness": float(res.fitness[0]), "real_mean": float(stats.lengths.mean()),
            "real_median": float(np.median(stats.lengths)), "real_score": float(stats.returns.mean()), "real_games": games}


def dream_quality(cfg: Config, wm: WorldModel, dream: Dream, x: np.ndarray, heldout: int = 8, candidates_n: int = 24,
                  games_each: int = 2, rollouts: int = 32) -> dict[str, Any]:
    """Every number of the module docstring for the controller x (flat weights) of a trained world model; the real
    games go through the rollout engine (``--rollout.backend``; local: ``controller.real_num_envs`` emulators)."""
    rewards = dream.data.rewards
    smallest = float(np.abs(rewards[rewards != 0]).min()) if (rewards != 0).any() else 1.0
    threshold = 0.5 if wm.mdn.reward_target == "sign" else 0.5 * smallest
    with make_engine(cfg, cfg.controller.real_num_envs, Models(wm.vae, wm.mdn)) as engine:
        out = {"heldout": teacher_forced(wm, heldout_games(cfg, engine, heldout), threshold)}
        out["length"] = episode_lengths(cfg, wm, dream, engine, x, games=8)
        out["rank"] = rank_agreement(cfg, wm, dream, engine, x, candidates_n, games_each, rollouts)
    return out

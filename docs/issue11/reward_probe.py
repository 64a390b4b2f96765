"""Issue 11: does the LSTM state know when a shot pays, or does the reward head's loss throw it away?

    python docs/issue11/reward_probe.py RUN CONTROLLER_DIR... [--json FILE]

The world model of RUN stays frozen. Its LSTM runs over training windows (the MDN-RNN's own sequence length, true
z = the VAE's mean, true actions); the reward column of its head is refitted by least squares on symlog(r) twice:
with every step weighted alike (which should reproduce the trained head) and with the paying steps weighted up to
half the total weight ("balanced"). On 8 held-out random games (the dream report's seeds, whole games from a zero
state as the dream report runs them) each head's AUC says how well it ranks the paying steps above the others
(0.5: not at all), whatever its threshold. Then the dream, with each head in turn, scores the given controllers and
the constant actions on the same 256 starts and random numbers (docs/dream_vs_real.py's score_in_dream): if the balanced head
separates the paying steps and still ranks the real-game controller below always-FIRE, the reward head's loss was
not what kept the dream from teaching.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dream_vs_real import score_in_dream  # noqa: E402
from event_probe import auc  # noqa: E402

from config import config_from_dict  # noqa: E402
from models.mdn_rnn import symexp, symlog  # noqa: E402
from utils.data import SequenceSampler, action_values  # noqa: E402
from utils.dream import Dream  # noqa: E402
from utils.dream_quality import constant_controllers, heldout_games  # noqa: E402
from utils.latents import encode_dataset  # noqa: E402
from utils.rollout import Models, make_engine  # noqa: E402
from utils.run_paths import RunPaths  # noqa: E402
from utils.world_model import WorldModel, load_controller  # noqa: E402
from utils.wrappers import action_meanings  # noqa: E402


def fit(h: np.ndarray, y: np.ndarray, w: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    """Weighted ridge least squares of y on [h, 1] -> (H + 1,) weights then bias."""
    x = np.concatenate([h, np.ones((len(h), 1))], 1)
    a = (x * w[:, None]).T @ x + ridge * np.eye(x.shape[1])
    return np.linalg.solve(a, (x * w[:, None]).T @ y)


def classifier_auc(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, hidden: int, seed: int,
                   epochs: int = 30) -> float:
    """Held-out AUC of a logistic regression (hidden=0) or a 2-layer ReLU MLP, class-balanced BCE, Adam."""
    torch.manual_seed(seed)
    mean, std = x.mean(0), x.std(0) + 1e-3
    xt, yt = torch.as_tensor((x - mean) / std, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    layers = [torch.nn.Linear(x.shape[1], 1)] if hidden == 0 else [
        torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, 1)]
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    pos_weight = torch.tensor((1 - y.mean()) / y.mean())
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(xt), generator=g).split(512):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(xt[idx])[:, 0], yt[idx], pos_weight=pos_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return auc(net(torch.as_tensor((x_test - mean) / std, dtype=torch.float32))[:, 0].numpy(), y_test.astype(bool))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("controllers", nargs="+")
    p.add_argument("--batches", type=int, default=200)
    p.add_argument("--json")
    args = p.parse_args()
    run = Path(args.run)
    cfg = config_from_dict(json.loads((run / "config.json").read_text()))
    cfg.run_dir = str(run)
    torch.manual_seed(cfg.seed)
    dev = torch.device("cpu")
    wm = WorldModel.load(run, dev)
    mdn = wm.mdn
    if mdn.events_see_z or mdn.reward_target != "symlog":
        sys.exit("reward_probe.py: needs a symlog reward head on h (no events_see_z)")
    latents = encode_dataset(cfg, RunPaths(run), dev, False)
    row = 3 * mdn.latent_dim * mdn.num_mixtures  # the reward column of the head

    @torch.no_grad()
    def hidden(z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return mdn.lstm(torch.cat([z, mdn.action_input(a, z.dtype)], -1))[0]

    sampler, rng = SequenceSampler(latents, cfg.mdn_rnn.seq_len), np.random.default_rng(cfg.seed)
    hs, zs, ys = [], [], []
    for _ in range(args.batches):
        b = sampler.sample(cfg.mdn_rnn.batch_size, rng)
        h = hidden(torch.from_numpy(b["mu"][:, :-1]), torch.from_numpy(b["actions"])).numpy()
        m = b["mask"] > 0
        hs.append(h[m])
        zs.append(b["mu"][:, 1:][m])
        ys.append(symlog(torch.from_numpy(b["rewards"][m].astype(np.float32))).numpy())
    h, y = np.concatenate(hs).astype(np.float64), np.concatenate(ys).astype(np.float64)
    hz = np.concatenate([h, np.concatenate(zs)], 1)
    pays = y > 0
    w_bal = np.where(pays, 0.5 / pays.mean(), 0.5 / (1 - pays.mean()))
    heads = {"trained": np.concatenate([mdn.head.weight[row].detach().numpy(), mdn.head.bias[row:row + 1].detach().numpy()]),
             "refit": fit(h, y, np.ones_like(y)), "balanced": fit(h, y, w_bal)}
    print(f"training windows: {len(y)} steps, {pays.mean():.2%} pay")

    with make_engine(cfg, cfg.controller.real_num_envs, Models(wm.vae, mdn)) as engine:
        games = heldout_games(cfg, engine, 8)
    gh, gz, gpay, gr = [], [], [], []
    for g in games:
        z = wm.vae.encode_frames(torch.from_numpy(g["obs"]).to(dev))
        gh.append(hidden(z[None, :-1], torch.from_numpy(action_values(g["actions"]))[None])[0].numpy())
        gz.append(z[1:].numpy())
        gpay.append(g["rewards"] > 0)
        gr.append(g["rewards"].astype(np.float64))
    gh_, gpay_, gr_ = np.concatenate(gh).astype(np.float64), np.concatenate(gpay), np.concatenate(gr)
    x_held = np.concatenate([gh_, np.ones((len(gh_), 1))], 1)
    # Reading the next latent as well (what --mdn_rnn.events_see_z gives a head): linear, then a small MLP (AUC only).
    ghz = np.concatenate([gh_, np.concatenate(gz)], 1)
    probes = {}
    for name, w in (("h+z_next linear", np.ones_like(y)), ("h+z_next linear balanced", w_bal)):
        beta = fit(hz, y, w)
        probes[name] = auc(np.concatenate([ghz, np.ones((len(ghz), 1))], 1) @ beta, gpay_)
    probes["h+z_next MLP (2x256, balanced BCE)"] = classifier_auc(hz, pays.astype(np.float32), ghz, gpay_, 256, cfg.seed, 5)
    probes["h MLP (2x256, balanced BCE)"] = classifier_auc(h, pays.astype(np.float32), gh_, gpay_, 256, cfg.seed, 5)
    for name, a in probes.items():
        print(f"[{name}] held-out AUC of paying steps {a:.3f}")

    ctrls = [load_controller(Path(c), dev, wm.vae.latent_dim, mdn.hidden_size, mdn.action_dim) for c in args.controllers]
    flats = [c.get_flat() for c in ctrls]
    flats += list(constant_controllers(flats[0], mdn.action_dim))
    names = list(args.controllers) + [f"always {n}" for n in action_meanings(cfg.env)]
    X = torch.as_tensor(np.stack(flats), dtype=torch.float32)
    out: dict = {"train_steps": len(y), "train_pay_share": float(pays.mean()), "heldout_steps": len(gr_),
                 "heldout_paying_steps": int(gpay_.sum()), "heldout_points": float(gr_.sum()), "probes_auc": probes,
                 "heads": {}}
    w0, b0 = mdn.head.weight.data[row].clone(), mdn.head.bias.data[row].clone()
    for name, beta in heads.items():
        pred = x_held @ beta
        mdn.head.weight.data[row] = torch.as_tensor(beta[:-1], dtype=torch.float32)
        mdn.head.bias.data[row] = float(beta[-1])
        dream = Dream(mdn, latents, cfg.controller.warmup_steps, dev)
        res = score_in_dream(cfg, dream, X)
        fit_ = {n: round(float(f), 3) for n, f in zip(names, res.fitness)}
        pts = symexp(torch.from_numpy(pred)).numpy()  # points
        out["heads"][name] = {"heldout_auc": auc(pred, gpay_), "heldout_points_predicted": float(pts.sum()),
                              "dream_fitness": fit_}
        print(f"[{name}] held-out AUC of paying steps {out['heads'][name]['heldout_auc']:.3f}, points predicted "
              f"{pts.sum():.0f} of {gr_.sum():.0f}")
        for n, f in fit_.items():
            print(f"    dream fitness {f:8.3f}  {n}")
    mdn.head.weight.data[row], mdn.head.bias.data[row] = w0, b0
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

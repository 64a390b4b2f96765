"""Where is a lost life visible: in the LSTM state before it happens, or in the next frame's z?

The dream samples a life loss from the life head, which reads h_t (everything up to frame t and action t). Its
recall on real life losses has been 0 in every arm. This asks where the information is, on the run's own data
(teacher forced: mu of every frame, the episode's actions), with linear probes fitted on the first 80% of the
episodes and scored on the rest as ROC AUC (0.5 = no information, 1 = perfect ranking of the steps that lose a life):

- ``head_auc``: the trained life head's own probability at step t (from h_t);
- ``h_auc``: a linear probe on h_t (could any head on h_t do better?);
- ``z_next_auc``: a linear probe on z_{t+1}, the frame the loss shows in (would a life head that reads the sampled
  next z, so that a dreamed death follows a dreamed frame, have something to read?);
- ``z_auc``: a linear probe on z_t (before the loss, from the frame alone).

    python docs/issue11/event_probe.py RUN [RUN ...] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import numpy as np  # noqa: E402
import torch  # noqa: E402

from utils.probes import teacher_forced_episodes  # noqa: E402
from utils.world_model import load_mdn_rnn, load_vae  # noqa: E402


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties averaged."""
    order = np.argsort(score, kind="stable")
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    for v in np.unique(score):  # average tied ranks
        tie = score == v
        if tie.sum() > 1:
            ranks[tie] = ranks[tie].mean()
    pos = label.astype(bool)
    n1, n0 = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)) if n1 and n0 else float("nan")


def probe_auc(x: np.ndarray, y: np.ndarray, train: np.ndarray, alpha: float = 1e-2) -> float:
    """A ridge regression of the 0/1 label on x, fitted on ``train``, its AUC on the rest."""
    xm, ym = x[train].mean(0), y[train].mean()
    a = x[train] - xm
    w = np.linalg.solve(a.T @ a + alpha * len(a) * np.eye(a.shape[1]), a.T @ (y[train] - ym))
    return auc((x[~train] - xm) @ w, y[~train])


def event_probe(run: Path) -> dict[str, float]:
    dev = torch.device("cpu")
    vae, mdn = load_vae(run / "vae", dev).eval(), load_mdn_rnn(run / "mdn_rnn", dev).eval()
    hs, zs, zn, head, lost, eps = [], [], [], [], [], []
    for e in teacher_forced_episodes(run / "data", vae, mdn):
        hs.append(e["h"][1:].numpy())  # the state after step t (what the life head reads for step t)
        zs.append(e["mu"][:-1].numpy())
        zn.append(e["mu"][1:].numpy())
        head.append(mdn.event_probs(e["pred"])["life"].numpy())
        lost.append((e["lives"][1:] < e["lives"][:-1]).astype(np.float64))
        eps.append(np.full(len(e["actions"]), e["id"]))
    h, z, z1, p, y, ep = (np.concatenate(a) for a in (hs, zs, zn, head, lost, eps))
    test_eps = np.unique(ep)[int(len(np.unique(ep)) * 0.8):]
    train = ~np.isin(ep, test_eps)
    return {"steps": int(len(y)), "life_losses": int(y.sum()), "test_life_losses": int(y[~train].sum()),
            "head_auc": auc(p[~train], y[~train]), "h_auc": probe_auc(h, y, train),
            "z_next_auc": probe_auc(z1, y, train), "z_auc": probe_auc(z, y, train)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--output", default="")
    args = parser.parse_args()
    rows = {}
    for run in args.runs:
        rows[run] = r = event_probe(Path(run))
        print(f"{run}: {r['life_losses']} life losses in {r['steps']} steps ({r['test_life_losses']} held out); AUC life head "
              f"{r['head_auc']:.3f}, probe on h_t {r['h_auc']:.3f}, on z_t {r['z_auc']:.3f}, on z_t+1 {r['z_next_auc']:.3f}", flush=True)
    if args.output:
        Path(args.output).write_text(json.dumps(rows, indent=1) + "\n")

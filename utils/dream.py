"""The dream: the MDN-RNN as a simulator, a whole CMA-ES generation as one batched tensor program.

Start states come from real data: a random real frame's encoding z_t, with the LSTM state warmed up
on the ``warmup_steps`` real (z, a) pairs before it. Every candidate of a generation is scored on
the same R start states (common random numbers), so differences in fitness come from the
controllers, not from luckier starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.controller import batched_logits
from models.mdn_rnn import MDNRNN, State
from utils.data import LatentData


@dataclass
class DreamStarts:
    z: torch.Tensor  # (R, Z)
    state: State  # (R, H) each


class Dream:
    def __init__(self, mdn: MDNRNN, latents: LatentData, warmup_steps: int, device: torch.device):
        self.mdn, self.data, self.device = mdn, latents, device
        self.warmup = warmup_steps
        self.mu = torch.from_numpy(latents.mu).to(device)
        self.logvar = torch.from_numpy(latents.logvar).to(device)
        self.actions = torch.from_numpy(latents.actions.astype(np.int64)).to(device)
        self.frame_start, self.step_start = latents.frame_start, latents.step_start

    @torch.no_grad()
    def sample_starts(self, n: int, rng: np.random.Generator, generator: torch.Generator | None = None) -> DreamStarts:
        """n start states: frame t of a random episode, LSTM warmed up on steps [t - W, t)."""
        lengths = self.data.lengths
        W = int(min(self.warmup, lengths.min()))
        ep = rng.integers(len(lengths), size=n)
        t = W + (rng.random(n) * (lengths[ep] + 1 - W)).astype(np.int64)  # frame index in [W, len]
        t = np.minimum(t, lengths[ep])
        frames = torch.from_numpy(self.frame_start[ep] + t)
        state = self.mdn.initial_state(n, self.device)
        for k in range(W, 0, -1):
            f = torch.from_numpy(self.frame_start[ep] + t - k)
            s = torch.from_numpy(self.step_start[ep] + t - k)
            state = self.mdn.step(self.mu[f], self.actions[s], state)
        eps = torch.randn(self.mu[frames].shape, generator=generator, device=self.device)
        z = self.mu[frames] + eps * (0.5 * self.logvar[frames]).exp()
        return DreamStarts(z, state)

    @torch.no_grad()
    def rollout(self, params: torch.Tensor, starts: DreamStarts, horizon: int, temperature: float,
                generator: torch.Generator | None = None, alive_bonus: float = 0.0) -> tuple[torch.Tensor, np.ndarray]:
        """Score P candidates on R shared starts.

        :param params: (P, n_params) flat controllers.
        :return: fitness (P,) = mean over R of the summed predicted reward (+ alive bonus) until the
            dream's sampled done, and the action histogram (A,) over all steps.
        """
        P, (R, Z) = params.shape[0], starts.z.shape
        A, mdn = self.mdn.action_dim, self.mdn
        N = P * R
        z = starts.z.repeat(P, 1)
        h, c = (s.repeat(P, 1) for s in starts.state)
        total = torch.zeros(N, device=self.device)
        alive = torch.ones(N, device=self.device)
        counts = torch.zeros(A, device=self.device)
        for _ in range(horizon):
            a = batched_logits(params, z.view(P, R, Z), h.view(P, R, -1), A).argmax(-1).view(N)
            counts += torch.bincount(a, minlength=A)
            h, c = mdn.step(z, a, (h, c))
            pred = mdn.predict(h)
            total += alive * (pred["reward"] + alive_bonus)
            u = torch.rand(N, generator=generator, device=self.device)
            alive = alive * (u >= torch.sigmoid(pred["done_logit"])).float()
            z = mdn.sample(pred, temperature, generator)
        return total.view(P, R).mean(1), counts.cpu().numpy()

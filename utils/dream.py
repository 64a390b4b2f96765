"""The dream: the MDN-RNN as a simulator, a whole CMA-ES generation as one batched tensor program.

Start states come from real data: a random real frame's encoding z_t (never an episode's last frame,
which may be the game-over screen), with the LSTM state warmed up on the ``warmup_steps`` real (z, a)
pairs before it, and the game's life counter at that frame. Every candidate of a generation is scored
on the same R start states with the same random numbers at every step (common random numbers: row
p*R + r uses start r's draws), so differences in fitness come from the controllers alone.

A dreamed game ends when the done head fires or, with a life head, when the sampled life losses use up
the lives the start frame had. Both are sampled from calibrated probabilities (see MDNRNN.event_probs). With an
MDN-RNN whose event heads read z_{t+1} (``events_see_z``), a step's reward and events come from the z_{t+1} the step
has drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.controller import batched_logits, to_actions
from models.mdn_rnn import MDNRNN, State
from utils.data import LatentData, action_values


@dataclass
class DreamStarts:
    z: torch.Tensor  # (R, Z)
    state: State  # (R, H) each
    lives: torch.Tensor | None = None  # (R,) life counter at the start frame (None: no life tracking)


@dataclass
class DreamResult:
    fitness: torch.Tensor  # (P,) mean over the R starts of the summed reward (+ alive bonus) while alive
    candidate_counts: np.ndarray  # (P, A) each candidate's actions on steps where its dreamed game was still on
    lengths: torch.Tensor  # (P, R) steps each dreamed game lasted (the horizon if it never ended)

    @property
    def action_counts(self) -> np.ndarray:
        """(A,) the whole population's actions (``candidate_counts`` summed)."""
        return self.candidate_counts.sum(0)


class Dream:
    def __init__(self, mdn: MDNRNN, latents: LatentData, warmup_steps: int, device: torch.device):
        self.mdn, self.data, self.device = mdn, latents, device
        self.warmup = warmup_steps
        self.mu = torch.from_numpy(latents.mu).to(device)
        self.logvar = torch.from_numpy(latents.logvar).to(device)
        self.actions = torch.from_numpy(action_values(latents.actions)).to(device)
        self.lives = torch.from_numpy(latents.lives.astype(np.float32)).to(device)
        self.frame_start, self.step_start = latents.frame_start, latents.step_start

    @torch.no_grad()
    def sample_starts(self, n: int, rng: np.random.Generator, generator: torch.Generator | None = None,
                      at_start: bool = False) -> DreamStarts:
        """n start states: frame t of a random episode, LSTM warmed up on steps [t - W, t).

        t is uniform in [W, len - 1] (``at_start``: t = W, the beginning of a game)."""
        lengths = self.data.lengths
        W = int(min(self.warmup, lengths.min() - 1))
        ep = rng.integers(len(lengths), size=n)
        t = W + (rng.random(n) * (lengths[ep] - W)).astype(np.int64)  # frame index in [W, len - 1]
        t = np.full(n, W) if at_start else np.minimum(t, lengths[ep] - 1)
        frames = torch.from_numpy(self.frame_start[ep] + t)
        state = self.mdn.initial_state(n, self.device)
        for k in range(W, 0, -1):
            f = torch.from_numpy(self.frame_start[ep] + t - k)
            s = torch.from_numpy(self.step_start[ep] + t - k)
            state = self.mdn.step(self.mu[f], self.actions[s], state)
        eps = torch.randn(self.mu[frames].shape, generator=generator, device=self.device)
        z = self.mu[frames] + (eps * (0.5 * self.logvar[frames]).exp() if self.mdn.z_target == "sample" else 0.0)
        # The lives the start has: the counter life_shift steps on (a life head trained on the hit, not on the counter's
        # drop, has already spent a life whose counter has not dropped yet). At least one: a game without a life
        # counter (always 0) then ends only by the done head.
        ahead = torch.from_numpy(self.frame_start[ep] + np.minimum(t + self.mdn.life_shift, lengths[ep]))
        return DreamStarts(z, state, self.lives[ahead].clamp(min=1.0) if self.mdn.life_head else None)

    @torch.no_grad()
    def rollout(self, params: torch.Tensor, starts: DreamStarts, horizon: int, temperature: float,
                generator: torch.Generator | None = None, alive_bonus: float = 0.0) -> DreamResult:
        """Score P candidates on R shared starts with shared per-step noise, for ``horizon`` steps.

        Each step draws, per start r: u_done (R,), u_life (R,), the mixture's Gumbel uniforms (R, Z, K)
        and normals (R, Z), in that order, and every candidate's row p*R + r uses start r's draws.
        """
        P, (R, Z) = params.shape[0], starts.z.shape
        A, K, mdn, dev = self.mdn.action_dim, self.mdn.num_mixtures, self.mdn, self.device
        N = P * R
        z = starts.z.repeat(P, 1)
        h, c = (s.repeat(P, 1) for s in starts.state)
        lives = starts.lives.repeat(P) if starts.lives is not None else None
        total = torch.zeros(N, device=dev)
        alive = torch.ones(N, device=dev)
        length = torch.zeros(N, device=dev)
        counts = torch.zeros(P * A, device=dev)  # candidate p's action k at p * A + k
        row_of = torch.arange(P, device=dev).repeat_interleave(R) * A  # row p * R + r belongs to candidate p
        for _ in range(horizon):
            out = batched_logits(params, z.view(P, R, Z), h.view(P, R, -1), A)
            if mdn.continuous:  # the action vector in the game's box; counts: the action sums while alive
                a = to_actions(out, mdn.action_low, mdn.action_high, mdn.action_clip).view(N, A)
                counts += (a * alive[:, None]).view(P, R, A).sum(1).view(-1)
            else:
                a = out.argmax(-1).view(N)
                counts += torch.bincount(row_of + a, weights=alive, minlength=P * A)
            length += alive
            h, c = mdn.step(z, a, (h, c))
            pred = mdn.predict(h)
            u_done = torch.rand(R, generator=generator, device=dev).repeat(P)
            u_life = torch.rand(R, generator=generator, device=dev).repeat(P)
            u_mix = torch.rand(R, Z, K, generator=generator, device=dev).repeat(P, 1, 1)
            eps = torch.randn(R, Z, generator=generator, device=dev).repeat(P, 1)
            z_next = mdn.sample(pred, temperature, noise=(u_mix, eps))
            if mdn.events_see_z:  # the step's reward and events follow the frame just drawn
                pred = {**pred, **mdn.predict_events(h, z_next)}
            total += alive * (mdn.reward_value(pred) + alive_bonus)
            probs = mdn.event_probs(pred)
            ended = u_done < probs["done"]
            if lives is not None:
                lives = lives - (u_life < probs["life"]).float() * alive
                ended = ended | (lives <= 0)
            alive = alive * (~ended).float()
            z = z_next
        per = counts.view(P, A).double().cpu().numpy() if mdn.continuous else counts.view(P, A).round().long().cpu().numpy()
        return DreamResult(total.view(P, R).mean(1), per, length.view(P, R))

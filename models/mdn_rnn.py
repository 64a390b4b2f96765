"""MDN-RNN of World Models: an LSTM over [z_t, a_t] predicting p(z_{t+1}) as a Gaussian mixture.

As in the paper, every latent dimension has its own mixture of ``num_mixtures`` Gaussians. Two
extra heads predict the (clipped) reward of step t and whether the episode ends after it.
``step()`` advances one timestep with the very same LSTM weights (no second copy), which is what
the dream and the real-game agent loop use.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)

State = tuple[torch.Tensor, torch.Tensor]


def gmm_nll(y: torch.Tensor, logit_pi: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of y under a per-dimension Gaussian mixture.

    :param y: (..., Z) target.  :param logit_pi, mu, log_sigma: (..., Z, K).
    :return: (..., Z) NLL per dimension (same as ``-MixtureSameFamily(...).log_prob(y)``).
    """
    y = y.unsqueeze(-1)
    log_n = -0.5 * ((y - mu) * torch.exp(-log_sigma)).pow(2) - log_sigma - LOG_SQRT_2PI
    return -torch.logsumexp(F.log_softmax(logit_pi, dim=-1) + log_n, dim=-1)


class MDNRNN(nn.Module, PyTorchModelHubMixin):
    """:param latent_dim: size of z.  :param action_dim: number of discrete actions.
    :param hidden_size: LSTM units.  :param num_mixtures: Gaussians per latent dimension."""

    def __init__(self, latent_dim: int = 32, action_dim: int = 6, hidden_size: int = 256, num_mixtures: int = 5):
        super().__init__()
        self.latent_dim, self.action_dim = latent_dim, action_dim
        self.hidden_size, self.num_mixtures = hidden_size, num_mixtures
        self.lstm = nn.LSTM(latent_dim + action_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 3 * latent_dim * num_mixtures + 2)

    def config(self) -> dict:
        return {"latent_dim": self.latent_dim, "action_dim": self.action_dim,
                "hidden_size": self.hidden_size, "num_mixtures": self.num_mixtures}

    def initial_state(self, batch: int, device: torch.device | str = "cpu") -> State:
        z = torch.zeros(batch, self.hidden_size, device=device)
        return z, z.clone()

    def _split(self, out: torch.Tensor) -> dict[str, torch.Tensor]:
        """Head output (..., 3ZK + 2) -> logit_pi, mu, log_sigma (..., Z, K), reward (...), done_logit (...)."""
        Z, K = self.latent_dim, self.num_mixtures
        mix = out[..., : 3 * Z * K].unflatten(-1, (3, Z, K))
        return {
            "logit_pi": mix[..., 0, :, :],
            "mu": mix[..., 1, :, :],
            "log_sigma": mix[..., 2, :, :].clamp(-7.0, 3.0),
            "reward": out[..., -2],
            "done_logit": out[..., -1],
        }

    def forward(self, z: torch.Tensor, actions: torch.Tensor, state: State | None = None) -> tuple[dict[str, torch.Tensor], State]:
        """z (B, T, Z), actions (B, T) int64 -> predictions for step t+1, each (B, T, ...)."""
        x = torch.cat([z, F.one_hot(actions, self.action_dim).to(z.dtype)], dim=-1)
        if state is not None:
            state = (state[0].unsqueeze(0), state[1].unsqueeze(0))
        h, (hn, cn) = self.lstm(x, state)
        return self._split(self.head(h)), (hn[0], cn[0])

    def step(self, z: torch.Tensor, actions: torch.Tensor, state: State) -> State:
        """One LSTM step with the LSTM's own weights. z (B, Z), actions (B,) int64, state (h, c) each (B, H)."""
        h, c = state
        w_ih, w_hh = self.lstm.weight_ih_l0, self.lstm.weight_hh_l0
        # [z, one_hot(a)] @ W_ih^T == z @ W_z^T + (column a of W_a): no one-hot matmul needed.
        gates = F.linear(z, w_ih[:, : self.latent_dim], self.lstm.bias_ih_l0 + self.lstm.bias_hh_l0)
        gates = gates + w_ih[:, self.latent_dim:].t()[actions] + F.linear(h, w_hh)
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c

    def predict(self, h: torch.Tensor) -> dict[str, torch.Tensor]:
        """Hidden state (B, H) after consuming (z_t, a_t) -> mixture over z_{t+1}, reward_t, done_logit_t."""
        return self._split(self.head(h))

    def sample(self, pred: dict[str, torch.Tensor], temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw z_{t+1} (B, Z): mixture weights softened by tau, sigmas scaled by sqrt(tau) (as the paper)."""
        logit_pi, mu, log_sigma = pred["logit_pi"], pred["mu"], pred["log_sigma"]
        u = torch.rand(logit_pi.shape, device=mu.device, generator=generator).clamp_(1e-9, 1 - 1e-9)
        k = torch.argmax(logit_pi / temperature - torch.log(-torch.log(u)), dim=-1, keepdim=True)  # Gumbel-max
        m = mu.gather(-1, k).squeeze(-1)
        s = log_sigma.gather(-1, k).squeeze(-1).exp()
        eps = torch.randn(m.shape, device=mu.device, generator=generator)
        return m + s * math.sqrt(temperature) * eps

    def compute_loss(self, batch: dict[str, torch.Tensor], reward_weight: float = 1.0, done_weight: float = 1.0,
                     done_pos_weight: float = 10.0) -> tuple[torch.Tensor, dict[str, float]]:
        """batch: mu/logvar (B, T+1, Z) from the VAE, actions/rewards/dones/mask (B, T).

        z is sampled from the VAE posterior (as the paper). The mixture NLL is averaged over latent
        dimensions (so it stays comparable across latent sizes), masked over padded steps.
        """
        z = batch["mu"] + torch.randn_like(batch["mu"]) * (0.5 * batch["logvar"]).exp()
        pred, _ = self(z[:, :-1], batch["actions"])
        mask = batch["mask"]
        denom = mask.sum().clamp(min=1.0)
        nll = (gmm_nll(z[:, 1:], pred["logit_pi"], pred["mu"], pred["log_sigma"]).mean(-1) * mask).sum() / denom
        reward_target = batch["rewards"].sign()
        reward_loss = (F.mse_loss(pred["reward"], reward_target, reduction="none") * mask).sum() / denom
        pos_weight = torch.tensor(done_pos_weight, device=z.device)
        done_loss = (F.binary_cross_entropy_with_logits(pred["done_logit"], batch["dones"], pos_weight=pos_weight,
                                                        reduction="none") * mask).sum() / denom
        loss = nll + reward_weight * reward_loss + done_weight * done_loss
        return loss, {"loss": loss.item(), "nll": nll.item(), "reward_mse": reward_loss.item(), "done_bce": done_loss.item()}

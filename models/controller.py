"""The linear controller of World Models: a_t = argmax(W [z_t, h_t] + b), or for a continuous action box
(CarRacing) a_t = low + (tanh(W [z_t, h_t] + b) + 1) / 2 * (high - low), as the paper's tanh controller.

The paper's controller is a single linear layer trained by CMA-ES; for a discrete action set it
outputs one logit per action, for a box one pre-activation per action dimension. CMA-ES sees it as one flat vector (W row-major, then b);
:func:`batched_logits` evaluates a whole population at once as one batched matmul.
"""

from __future__ import annotations

import numpy as np
import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn


class Controller(nn.Module, PyTorchModelHubMixin):
    """:param latent_dim: size of z.  :param hidden_size: LSTM hidden size.  :param action_dim: actions."""

    def __init__(self, latent_dim: int = 32, hidden_size: int = 256, action_dim: int = 6):
        super().__init__()
        self.latent_dim, self.hidden_size, self.action_dim = latent_dim, hidden_size, action_dim
        self.fc = nn.Linear(latent_dim + hidden_size, action_dim)

    def config(self) -> dict:
        return {"latent_dim": self.latent_dim, "hidden_size": self.hidden_size, "action_dim": self.action_dim}

    @property
    def num_params(self) -> int:
        return (self.latent_dim + self.hidden_size + 1) * self.action_dim

    def get_flat(self) -> np.ndarray:
        return torch.cat([self.fc.weight.detach().flatten(), self.fc.bias.detach()]).cpu().double().numpy()

    def set_flat(self, flat: np.ndarray) -> Controller:
        flat_t = torch.as_tensor(np.asarray(flat), dtype=self.fc.weight.dtype)
        if flat_t.numel() != self.num_params:
            raise ValueError(f"expected {self.num_params} controller parameters, got {flat_t.numel()}")
        n_w = self.fc.weight.numel()
        with torch.no_grad():
            self.fc.weight.copy_(flat_t[:n_w].view_as(self.fc.weight))
            self.fc.bias.copy_(flat_t[n_w:])
        return self

    def forward(self, z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """z (B, Z), h (B, H) -> logits (B, A)."""
        return self.fc(torch.cat([z, h], dim=-1))


def to_actions(logits: torch.Tensor, low: list[float] | None = None, high: list[float] | None = None,
               clip: list[bool] | None = None) -> torch.Tensor:
    """Controller outputs (..., A) -> actions: the argmax index (...,) for a discrete set (``low`` None), else
    the vector tanh-squashed into the box [low, high] (..., A): tanh's -1..1 stretched onto each range, or, where
    ``clip`` is True, tanh clipped into it. CarRacing as the paper: steer tanh, gas (tanh + 1) / 2, brake
    clip(tanh, 0, 1), so the zero controller steers straight at half gas without braking."""
    if low is None:
        return logits.argmax(-1)
    lo = torch.as_tensor(low, dtype=logits.dtype, device=logits.device)
    hi = torch.as_tensor(high, dtype=logits.dtype, device=logits.device)
    t = torch.tanh(logits)
    out = lo + (t + 1.0) * 0.5 * (hi - lo)
    if clip is None:
        return out
    return torch.where(torch.as_tensor(clip, device=logits.device), torch.clamp(t, lo, hi), out)


def batched_logits(params: torch.Tensor, z: torch.Tensor, h: torch.Tensor, action_dim: int) -> torch.Tensor:
    """Logits of P candidates at once.

    :param params: (P, n_params) flat controllers.  :param z: (P, N, Z).  :param h: (P, N, H).
    :return: (P, N, A) = [z, h] @ W_p^T + b_p for each candidate p, as one ``baddbmm``.
    """
    P = params.shape[0]
    feat = torch.cat([z, h], dim=-1)
    F_ = feat.shape[-1]
    W = params[:, : action_dim * F_].view(P, action_dim, F_)
    b = params[:, action_dim * F_:].view(P, 1, action_dim)
    return torch.baddbmm(b, feat, W.transpose(1, 2))

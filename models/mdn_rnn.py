"""MDN-RNN of World Models: an LSTM over [z_t, a_t] predicting p(z_{t+1}) as a Gaussian mixture.

As in the paper, every latent dimension has its own mixture of ``num_mixtures`` Gaussians. Extra
heads predict the reward of step t (``reward_target``: ``symlog`` regresses symlog(r), so a 200-point
mothership is worth more than a 5-point invader; ``twohot`` is a categorical over symlog bins trained on
two-hot targets (DreamerV3), whose expected value in points is unbiased where symexp of a regressed mean
of symlog(r) undershoots a rare reward; ``sign`` regresses sign(r), the seed-era target),
whether the game ends after it, and (``life_head``) whether it loses a life. The event heads train
with their positive class up-weighted by w = ``event_pos_weight``, which moves the optimal logit by
log(w); :meth:`MDNRNN.event_probs` takes that back off, so the probabilities the dream samples from are
calibrated (``event_pos_weight=1`` with no offset is the seed-era uncalibrated head when trained with 10).
``step()`` advances one timestep with the very same LSTM weights (no second copy), which is what
the dream and the real-game agent loop use.

With ``events_see_z`` the reward, done and life heads read the next latent as well as the LSTM state:
(h_t, z_{t+1}) instead of h_t, as DreamerV3's heads read the sampled state. Training feeds them the z_{t+1}
sampled from the VAE posterior; the dream feeds them the z_{t+1} it has just drawn from the mixture, so a dreamed
frame that shows the cannon hit can be the one that costs a life. The mixture head reads h_t either way.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
REWARD_TARGETS = ("symlog", "sign", "twohot")
# The two-hot head's bins, in symlog units: -2 .. 6 (-6.4 .. 402 points) in steps of 0.25.
TWOHOT_LOW, TWOHOT_HIGH, TWOHOT_BINS = -2.0, 6.0, 33


def symlog(x: torch.Tensor) -> torch.Tensor:
    return torch.sign(x) * torch.log1p(x.abs())


def symexp(x: torch.Tensor) -> torch.Tensor:
    return torch.sign(x) * torch.expm1(x.abs())

def twohot(y: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """y (...) -> (..., len(bins)): weight on the two bins around y (linear in the distance), y clipped to
    the bins' range; sum(out * bins) == y inside it."""
    y = y.clamp(float(bins[0]), float(bins[-1]))
    step = float(bins[1] - bins[0])
    lo = ((y - bins[0]) / step).floor().clamp(0, len(bins) - 2).long()
    w_hi = (y - bins[lo]) / step
    out = torch.zeros(*y.shape, len(bins), device=y.device, dtype=y.dtype)
    out.scatter_(-1, lo[..., None], (1 - w_hi)[..., None])
    out.scatter_add_(-1, lo[..., None] + 1, w_hi[..., None])
    return out


State = tuple[torch.Tensor, torch.Tensor]


def gmm_nll(y: torch.Tensor, logit_pi: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of y under a per-dimension Gaussian mixture.

    :param y: (..., Z) target.  :param logit_pi, mu, log_sigma: (..., Z, K).
    :return: (..., Z) NLL per dimension (same as ``-MixtureSameFamily(...).log_prob(y)``).
    """
    y = y.unsqueeze(-1)
    log_n = -0.5 * ((y - mu) * torch.exp(-log_sigma)).pow(2) - log_sigma - LOG_SQRT_2PI
    return -torch.logsumexp(F.log_softmax(logit_pi, dim=-1) + log_n, dim=-1)


def fit_logit_offset(logits: torch.Tensor, events: float, iters: int = 100) -> float:
    """The offset b with ``sum(sigmoid(logits - b)) == events`` (bisection: the sum falls as b grows).

    ``events`` is clamped to [0.5, len - 0.5]: a held-out set without any event still gets a finite,
    small rate (half an event), not minus infinity."""
    n = logits.numel()
    target = min(max(float(events), 0.5), n - 0.5)
    lo, hi = float(logits.min()) - 40.0, float(logits.max()) + 40.0
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if float(torch.sigmoid(logits - mid).sum()) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


class MDNRNN(nn.Module, PyTorchModelHubMixin):
    """:param latent_dim: size of z.  :param action_dim: number of discrete actions, or the size of a
        continuous action vector when ``action_low``/``action_high`` (the game's box, e.g. CarRacing's steer,
        gas, brake) are given: then the LSTM reads the action vector itself instead of a one-hot.
    :param hidden_size: LSTM units.  :param num_mixtures: Gaussians per latent dimension.
    :param reward_target: ``symlog``, ``twohot`` or ``sign`` (what the reward head predicts).
    :param life_head: also predict life loss.  :param event_logit_offset: subtracted from the done logit by
        :meth:`event_probs`: the log of the positive-class weight the event heads trained with, or an offset
        fitted on held-out episodes (0 = no correction).  :param life_logit_offset: the same for the life
        head (None: ``event_logit_offset``).  :param events_see_z: the reward/done/life heads read (h_t, z_{t+1}),
        not h_t alone (module docstring); they then need ``z_next`` in :meth:`forward` and :meth:`predict`.
    :param life_shift: the life head was trained to fire this many steps before the lives counter drops (on the
        hit, not on the counter; see LatentData.life_loss_at); the dream and the dream report read it from here.
    :param z_target: ``sample`` (the paper: trained on z sampled from the VAE's posterior, so the dream draws z as a
        sample) or ``mean`` (trained on the VAE's means, what real play feeds the controller and the LSTM; the dream's
        starts are then means too).
    :param action_clip: per action component, True where the controller's tanh output is clipped into the box
        instead of stretched onto it (CarRacing's brake, as the paper's controller: ``clip(tanh, 0, 1)``), so the
        zero controller does not brake (:func:`models.controller.to_actions`); None: stretched everywhere.

    The defaults of reward_target, life_head, the offsets, events_see_z and life_shift are the seed-era model's, so
    checkpoints saved before they existed load as they were."""

    def __init__(self, latent_dim: int = 32, action_dim: int = 6, hidden_size: int = 256, num_mixtures: int = 5,
                 reward_target: str = "sign", life_head: bool = False, event_logit_offset: float = 0.0,
                 life_logit_offset: float | None = None, action_low: list[float] | None = None,
                 action_high: list[float] | None = None, events_see_z: bool = False, life_shift: int = 0,
                 action_clip: list[bool] | None = None, z_target: str = "sample"):
        super().__init__()
        if z_target not in ("sample", "mean"):
            raise ValueError(f"z_target must be sample or mean, got {z_target!r}")
        self.z_target = z_target
        if (action_low is None) != (action_high is None) or (action_low is not None and not
                                                              len(action_low) == len(action_high) == action_dim):
            raise ValueError(f"action_low/action_high must both be given with {action_dim} values, or neither")
        self.action_low = None if action_low is None else [float(v) for v in action_low]
        self.action_high = None if action_high is None else [float(v) for v in action_high]
        if action_clip is not None and (action_low is None or len(action_clip) != action_dim):
            raise ValueError(f"action_clip needs the action box and {action_dim} values")
        self.action_clip = None if action_clip is None or not any(action_clip) else [bool(v) for v in action_clip]
        if reward_target not in REWARD_TARGETS:
            raise ValueError(f"reward_target must be one of {REWARD_TARGETS}, got {reward_target!r}")
        self.latent_dim, self.action_dim = latent_dim, action_dim
        self.hidden_size, self.num_mixtures = hidden_size, num_mixtures
        self.reward_target, self.life_head, self.event_logit_offset = reward_target, life_head, float(event_logit_offset)
        self.life_logit_offset = self.event_logit_offset if life_logit_offset is None else float(life_logit_offset)
        self.lstm = nn.LSTM(latent_dim + action_dim, hidden_size, batch_first=True)
        self.reward_width = TWOHOT_BINS if reward_target == "twohot" else 1
        self.events_see_z = bool(events_see_z)
        self.life_shift = int(life_shift)  # the life head's target: the counter's drop this many steps later
        event_width = self.reward_width + 1 + int(life_head)
        mixture_width = 3 * latent_dim * num_mixtures
        if self.events_see_z:  # the mixture from h; the events from (h, z_next)
            self.head = nn.Linear(hidden_size, mixture_width)
            self.event_head = nn.Linear(hidden_size + latent_dim, event_width)
        else:  # one head over h (the layout of every checkpoint saved before events_see_z)
            self.head = nn.Linear(hidden_size, mixture_width + event_width)
        self.register_buffer("bins", torch.linspace(TWOHOT_LOW, TWOHOT_HIGH, TWOHOT_BINS), persistent=False)

    def config(self) -> dict:
        return {"latent_dim": self.latent_dim, "action_dim": self.action_dim,
                "hidden_size": self.hidden_size, "num_mixtures": self.num_mixtures, "reward_target": self.reward_target,
                "life_head": self.life_head, "event_logit_offset": self.event_logit_offset,
                "life_logit_offset": self.life_logit_offset, **({"events_see_z": True} if self.events_see_z else {}),
                **({"life_shift": self.life_shift} if self.life_shift else {}),
                **({"action_low": self.action_low, "action_high": self.action_high} if self.continuous else {}),
                **({"action_clip": self.action_clip} if self.action_clip else {}),
                **({"z_target": self.z_target} if self.z_target != "sample" else {})}

    @property
    def continuous(self) -> bool:
        """True when actions are vectors in a box (CarRacing), False for a discrete action set (Atari)."""
        return self.action_low is not None

    def action_input(self, actions: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """What the LSTM reads for the action: the one-hot of an index (..,) or the vector itself (.., A)."""
        return actions.to(dtype) if self.continuous else F.one_hot(actions, self.action_dim).to(dtype)

    def initial_state(self, batch: int, device: torch.device | str = "cpu") -> State:
        z = torch.zeros(batch, self.hidden_size, device=device)
        return z, z.clone()

    def _split(self, out: torch.Tensor) -> dict[str, torch.Tensor]:
        """Head output (..., 3ZK [+ events]) -> logit_pi, mu, log_sigma (..., Z, K), then the events (see
        :meth:`_split_events`) when the output carries them."""
        Z, K = self.latent_dim, self.num_mixtures
        mix = out[..., : 3 * Z * K].unflatten(-1, (3, Z, K))
        pred = {
            "logit_pi": mix[..., 0, :, :],
            "mu": mix[..., 1, :, :],
            "log_sigma": mix[..., 2, :, :].clamp(-7.0, 3.0),
        }
        if out.shape[-1] > 3 * Z * K:
            pred.update(self._split_events(out[..., 3 * Z * K:]))
        return pred

    def _split_events(self, rest: torch.Tensor) -> dict[str, torch.Tensor]:
        """Event output (..., R + 1 [+ 1]) -> reward (...) (the head's raw output: symlog(r) or sign(r)),
        done_logit (...) [, life_logit (...)]."""
        pred = {"done_logit": rest[..., self.reward_width]}
        if self.reward_target == "twohot":
            pred["reward_logits"] = rest[..., :TWOHOT_BINS]
            pred["reward"] = (pred["reward_logits"].softmax(-1) * self.bins).sum(-1)  # expected symlog(r)
        else:
            pred["reward"] = rest[..., 0]
        if self.life_head:
            pred["life_logit"] = rest[..., self.reward_width + 1]
        return pred

    def predict_events(self, h: torch.Tensor, z_next: torch.Tensor) -> dict[str, torch.Tensor]:
        """With ``events_see_z``: reward, done_logit [, life_logit] of the step whose LSTM state is h (..., H) and
        whose next latent is z_next (..., Z)."""
        return self._split_events(self.event_head(torch.cat([h, z_next], dim=-1)))

    def reward_value(self, pred: dict[str, torch.Tensor]) -> torch.Tensor:
        """The predicted reward in game points (symlog head; two-hot: the expectation over the bins) or in
        clipped units (sign head)."""
        if self.reward_target == "twohot":
            return (pred["reward_logits"].softmax(-1) * symexp(self.bins)).sum(-1)
        return symexp(pred["reward"]) if self.reward_target == "symlog" else pred["reward"]

    def event_probs(self, pred: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Calibrated per-step probabilities of ``done`` and (with the life head) ``life`` loss."""
        out = {"done": torch.sigmoid(pred["done_logit"] - self.event_logit_offset)}
        if "life_logit" in pred:
            out["life"] = torch.sigmoid(pred["life_logit"] - self.life_logit_offset)
        return out

    def forward(self, z: torch.Tensor, actions: torch.Tensor, state: State | None = None,
                z_next: torch.Tensor | None = None) -> tuple[dict[str, torch.Tensor], State]:
        """z (B, T, Z), actions (B, T) int64 (or (B, T, A) float when continuous) -> predictions for step t+1,
        each (B, T, ...). With ``events_see_z``, z_next (B, T, Z) (the latents of frames 1..T) is required."""
        x = torch.cat([z, self.action_input(actions, z.dtype)], dim=-1)
        if state is not None:
            state = (state[0].unsqueeze(0), state[1].unsqueeze(0))
        h, (hn, cn) = self.lstm(x, state)
        if self.events_see_z and z_next is None:
            raise ValueError("this MDN-RNN's event heads read z_{t+1}: pass z_next")
        return self.predict(h, z_next), (hn[0], cn[0])

    def step(self, z: torch.Tensor, actions: torch.Tensor, state: State) -> State:
        """One LSTM step with the LSTM's own weights. z (B, Z), actions (B,) int64 (or (B, A) float when
        continuous), state (h, c) each (B, H)."""
        h, c = state
        w_ih, w_hh = self.lstm.weight_ih_l0, self.lstm.weight_hh_l0
        # [z, one_hot(a)] @ W_ih^T == z @ W_z^T + (column a of W_a): no one-hot matmul needed.
        gates = F.linear(z, w_ih[:, : self.latent_dim], self.lstm.bias_ih_l0 + self.lstm.bias_hh_l0)
        w_a = w_ih[:, self.latent_dim:]
        gates = gates + (F.linear(actions.to(z.dtype), w_a) if self.continuous else w_a.t()[actions]) + F.linear(h, w_hh)
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c

    def predict(self, h: torch.Tensor, z_next: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Hidden state (..., H) after consuming (z_t, a_t) -> mixture over z_{t+1}, reward_t, done_logit_t
        [, life_logit_t]. With ``events_see_z`` the events come only with z_next (..., Z) (without it: the mixture
        alone, e.g. for the dream to draw z_{t+1} from before it asks :meth:`predict_events`)."""
        pred = self._split(self.head(h))
        if self.events_see_z and z_next is not None:
            pred.update(self.predict_events(h, z_next))
        return pred

    def sample(self, pred: dict[str, torch.Tensor], temperature: float = 1.0, generator: torch.Generator | None = None,
               noise: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """Draw z_{t+1} (B, Z): mixture weights softened by tau, sigmas scaled by sqrt(tau) (as the paper).

        ``noise`` = (u (B, Z, K) uniform, eps (B, Z) normal) replaces the draws (the dream shares them across candidates)."""
        logit_pi, mu, log_sigma = pred["logit_pi"], pred["mu"], pred["log_sigma"]
        if noise is None:
            u = torch.rand(logit_pi.shape, device=mu.device, generator=generator)
            eps = torch.randn(logit_pi.shape[:-1], device=mu.device, generator=generator)
        else:
            u, eps = noise
        u = u.clamp(1e-9, 1 - 1e-9)
        k = torch.argmax(logit_pi / temperature - torch.log(-torch.log(u)), dim=-1, keepdim=True)  # Gumbel-max
        m = mu.gather(-1, k).squeeze(-1)
        s = log_sigma.gather(-1, k).squeeze(-1).exp()
        return m + s * math.sqrt(temperature) * eps

    def compute_loss(self, batch: dict[str, torch.Tensor], reward_weight: float = 1.0, done_weight: float = 1.0,
                     done_pos_weight: float = 10.0) -> tuple[torch.Tensor, dict[str, float]]:
        """batch: mu/logvar (B, T+1, Z) from the VAE, actions/rewards/dones/mask (B, T) (and life_loss (B, T)
        with the life head).

        z is sampled from the VAE posterior (as the paper), or is its mean with ``z_target`` mean. The mixture NLL is averaged over latent
        dimensions (so it stays comparable across latent sizes), masked over padded steps. The life
        head's loss is weighted like the done head's (``done_weight``, ``done_pos_weight``).
        """
        z = batch["mu"]
        if self.z_target == "sample":
            z = z + torch.randn_like(z) * (0.5 * batch["logvar"]).exp()
        pred, _ = self(z[:, :-1], batch["actions"], z_next=z[:, 1:])
        mask = batch["mask"]
        denom = mask.sum().clamp(min=1.0)
        nll = (gmm_nll(z[:, 1:], pred["logit_pi"], pred["mu"], pred["log_sigma"]).mean(-1) * mask).sum() / denom
        reward_target = batch["rewards"].sign() if self.reward_target == "sign" else symlog(batch["rewards"])
        reward_loss = (F.mse_loss(pred["reward"], reward_target, reduction="none") * mask).sum() / denom
        reward_mse = reward_loss
        if self.reward_target == "twohot":  # cross-entropy to the two-hot target; reward_mse stays a diagnostic
            target = twohot(reward_target, self.bins)
            reward_loss = (-(target * pred["reward_logits"].log_softmax(-1)).sum(-1) * mask).sum() / denom
        pos_weight = torch.tensor(done_pos_weight, device=z.device)

        def bce(logit: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            return (F.binary_cross_entropy_with_logits(logit, target, pos_weight=pos_weight, reduction="none") * mask).sum() / denom

        done_loss = bce(pred["done_logit"], batch["dones"])
        loss = nll + reward_weight * reward_loss + done_weight * done_loss
        stats = {"nll": nll.item(), "reward_mse": reward_mse.item(), "done_bce": done_loss.item()}
        if self.reward_target == "twohot":
            stats["reward_ce"] = reward_loss.item()
        if self.life_head:
            life_loss = bce(pred["life_logit"], batch["life_loss"])
            loss = loss + done_weight * life_loss
            stats["life_bce"] = life_loss.item()
        return loss, {"loss": loss.item(), **stats}

"""The convolutional VAE of World Models (Ha & Schmidhuber, 2018, appendix A.1).

Encoder: four 4x4 stride-2 convolutions (32, 64, 128, 256 channels, ReLU) -> 2x2x256 -> mu, logvar.
Decoder: z -> 1024 -> four transposed convolutions (5, 5, 6, 6 kernels; 128, 64, 32, 3 channels)
-> 64x64x3 in [0, 1]. Loss: per-image summed squared error + KL, the KL held at or above
``kl_tolerance * latent_dim`` nats (the paper's free bits), so the latent is not over-regularised.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

PAY_POS_WEIGHT = 10.0  # the pay head's paying class (about 2% of random-play steps) counts this many times
FOREGROUND_THRESHOLD = 0.1  # summed |RGB - background| in [0, 1] units above which a pixel is foreground


class ConvVAE(nn.Module, PyTorchModelHubMixin):
    """:param latent_dim: size of z.  :param frame_size: input height/width (64)."""

    def __init__(self, latent_dim: int = 32, frame_size: int = 64):
        super().__init__()
        if frame_size != 64:
            raise ValueError("ConvVAE is built for 64x64 frames (the paper's architecture)")
        self.latent_dim, self.frame_size = latent_dim, frame_size
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 32, 4, 2), nn.ReLU(),
            nn.Conv2d(32, 64, 4, 2), nn.ReLU(),
            nn.Conv2d(64, 128, 4, 2), nn.ReLU(),
            nn.Conv2d(128, 256, 4, 2), nn.ReLU(),
            nn.Flatten(),
        )
        self.fc_mu = nn.Linear(1024, latent_dim)
        self.fc_logvar = nn.Linear(1024, latent_dim)
        self.fc_dec = nn.Linear(latent_dim, 1024)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(1024, 128, 5, 2), nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 5, 2), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 6, 2), nn.ReLU(),
            nn.ConvTranspose2d(32, 3, 6, 2),
        )
        # Per-pixel logit offset of the output, set to logit(mean training frame) before training.
        # Atari frames are mostly black with small sprites: started from zero, the decoder settles on
        # "black screen + ground" (worse than the mean frame) and never learns the sprites.
        self.register_buffer("pixel_bias", torch.zeros(3, frame_size, frame_size))

    @torch.no_grad()
    def set_pixel_bias(self, mean_frame: torch.Tensor) -> None:
        """mean_frame: (H, W, 3) in [0, 1]; the untrained decoder then outputs about this frame."""
        p = mean_frame.permute(2, 0, 1).clamp(1e-3, 1 - 1e-3)
        self.pixel_bias.copy_(torch.log(p / (1 - p)))

    def config(self) -> dict:
        return {"latent_dim": self.latent_dim, "frame_size": self.frame_size}

    @staticmethod
    def to_input(frames: torch.Tensor) -> torch.Tensor:
        """uint8 (B, H, W, 3) -> float (B, 3, H, W) in [0, 1], channels-last in memory (faster convs on CPU)."""
        return frames.permute(0, 3, 1, 2).float().div_(255.0).contiguous(memory_format=torch.channels_last)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, 3, 64, 64) in [0, 1] -> mu, logvar (B, Z)."""
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h).clamp(-10.0, 5.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, Z) -> reconstruction (B, 3, 64, 64) in [0, 1]."""
        return torch.sigmoid(self.decoder(self.fc_dec(z)[:, :, None, None]) + self.pixel_bias)

    @staticmethod
    def sample(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """The reparameterised z = mu + eps * sigma the decoder is trained on."""
        return mu + torch.randn_like(mu) * (0.5 * logvar).exp()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        return self.decode(self.sample(mu, logvar)), mu, logvar

    @torch.no_grad()
    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 (B, H, W, 3) -> mu (B, Z): the deterministic code used by the controller."""
        return self.encode(self.to_input(frames))[0]

    def compute_loss(self, frames: torch.Tensor, kl_tolerance: float = 0.5, kl_weight: float = 1.0,
                     background: torch.Tensor | None = None, foreground_weight: float = 0.0,
                     previous: torch.Tensor | None = None, motion_weight: float = 0.0,
                     near_pay: torch.Tensor | None = None, hit_weight: float = 0.0,
                     pay_head: nn.Module | None = None, pays: torch.Tensor | None = None,
                     pay_weight: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
        """frames: uint8 (B, H, W, 3). Returns the loss and {recon, kl, loss} (per image, in nats / squared error).

        With ``background`` (3, H, W) in [0, 1] and ``foreground_weight`` w > 0, the squared error of a
        foreground pixel (its RGB differs from the background's by more than FOREGROUND_THRESHOLD in all)
        counts 1 + w times in the loss, so a few pixels of shots and bombs are not lost to the large static
        screen; ``recon`` stays the plain error (comparable across settings), ``recon_weighted`` is the loss term.
        With ``previous`` (B, H, W, 3) uint8, the frame before each one in its episode, and ``motion_weight`` m > 0,
        a pixel that changed since that frame (by more than FOREGROUND_THRESHOLD) counts 1 + m times, and one that
        is both foreground and moving 1 + w + m: shots, bombs and the moving cannon, not the whole invader block.
        With ``near_pay`` (B,) bool, the frames next to a paying step, and ``hit_weight`` h > 0, a pixel of such a frame
        that changed since the previous frame counts h more (the invader hit, its explosion and the shot).
        With ``pay_head`` (Z -> K logits), ``pays`` (B, K) bool and ``pay_weight`` p > 0, the loss adds p times the
        head's binary cross-entropy (summed over the K labels, paying class up-weighted by PAY_POS_WEIGHT) on the
        sampled z the decoder saw: the encoder is trained to keep what tells a paying step (``pay_bce`` in the stats).
        """
        x = self.to_input(frames)
        mu, logvar = self.encode(x)
        z = self.sample(mu, logvar)  # not self(x): the pay head reads the same z
        recon = self.decode(z)
        se = F.mse_loss(recon, x, reduction="none")
        rec = se.sum(dim=(1, 2, 3)).mean()
        kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)).mean()
        kl_term = torch.clamp(kl, min=kl_tolerance * self.latent_dim) if kl_tolerance > 0 else kl
        stats = {"recon": rec.item(), "kl": kl.item()}
        rec_term = rec
        weight = None
        if background is not None and foreground_weight > 0:
            fg = ((x - background.to(x)).abs().sum(dim=1, keepdim=True) > FOREGROUND_THRESHOLD).to(x.dtype)  # (B, 1, H, W)
            weight = 1.0 + foreground_weight * fg
        if previous is not None and (motion_weight > 0 or (near_pay is not None and hit_weight > 0)):
            moved = ((x - self.to_input(previous)).abs().sum(dim=1, keepdim=True) > FOREGROUND_THRESHOLD).to(x.dtype)
            weight = (1.0 if weight is None else weight) + motion_weight * moved
            if near_pay is not None and hit_weight > 0:
                weight = weight + hit_weight * moved * near_pay.to(x.dtype).view(-1, 1, 1, 1)
        if weight is not None:
            rec_term = (weight * se).sum(dim=(1, 2, 3)).mean()
            stats["recon_weighted"] = rec_term.item()
        loss = rec_term + kl_weight * kl_term
        if pay_head is not None and pays is not None and pay_weight > 0:
            target = pays.to(z.dtype)
            bce = F.binary_cross_entropy_with_logits(pay_head(z), target, reduction="none",
                                                     pos_weight=torch.full_like(target[0], PAY_POS_WEIGHT)).sum(1).mean()
            loss = loss + pay_weight * bce
            stats["pay_bce"] = bce.item()
        return loss, {"loss": loss.item(), **stats}

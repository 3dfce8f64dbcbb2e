"""A small frame autoencoder: 4x spatial compression into 4 latent channels.

The large video models diffuse in the latent space of a learned autoencoder
rather than on pixels; that is what makes our transformer's token count small
enough for a CPU. It works frame by frame (temporal compression is left to the
transformer's patches), so a conditioning image is encoded exactly like any
frame of a clip, and any frame count works.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class AEConfig:
    """Sizes of the frame autoencoder."""

    channels: tuple[int, ...] = (32, 64, 128)
    latent: int = 4
    downsample: int = 4  # 2 ** (len(channels) - 1)


class ResBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(8, c)
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.norm2 = nn.GroupNorm(8, c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        return x + self.conv2(F.silu(self.norm2(h)))


class FrameAutoencoder(nn.Module):
    """Pixels (N, 3, H, W) in [-1, 1] <-> latents (N, latent, H/4, W/4).

    A trial at 8x and 8 channels (24x compression) still blurred stars and
    squares into blobs after 900 steps; 4x and 4 channels (12x) keeps the
    shapes, and the transformer's (2, 4, 4) patches keep its token count at 120.
    """

    def __init__(self, cfg: AEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        enc: list[nn.Module] = [nn.Conv2d(3, c[0], 3, padding=1), ResBlock(c[0])]
        for a, b in zip(c[:-1], c[1:]):
            enc += [nn.Conv2d(a, b, 4, stride=2, padding=1), ResBlock(b)]
        enc += [nn.GroupNorm(8, c[-1]), nn.SiLU(), nn.Conv2d(c[-1], cfg.latent, 1)]
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [nn.Conv2d(cfg.latent, c[-1], 3, padding=1), ResBlock(c[-1])]
        for a, b in zip(c[::-1][:-1], c[::-1][1:]):
            dec += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(a, b, 3, padding=1), ResBlock(b)]
        dec += [nn.GroupNorm(8, c[0]), nn.SiLU(), nn.Conv2d(c[0], 3, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)
        # per-channel latent statistics, set after training so the flow sees unit-variance latents
        self.register_buffer("latent_mean", torch.zeros(cfg.latent))
        self.register_buffer("latent_std", torch.ones(cfg.latent))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> raw latents (N, latent, H/4, W/4)."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent, h, w) raw latents -> (N, 3, 4h, 4w) pixels, roughly in [-1, 1]."""
        return self.decoder(z)

    def normalize(self, z: torch.Tensor) -> torch.Tensor:
        """Raw -> unit-variance latents; channel axis is dim 1."""
        shape = (1, -1) + (1,) * (z.dim() - 2)
        return (z - self.latent_mean.view(shape)) / self.latent_std.view(shape)

    def denormalize(self, z: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (z.dim() - 2)
        return z * self.latent_std.view(shape) + self.latent_mean.view(shape)

    def encode_video(self, video: torch.Tensor) -> torch.Tensor:
        """(B, T, H, W, 3) uint8 -> normalised latents (B, C, T, h, w)."""
        b, t, h, w, _ = video.shape
        x = video.reshape(b * t, h, w, 3).permute(0, 3, 1, 2).float() / 127.5 - 1.0  # (BT, 3, H, W)
        z = self.normalize(self.encode(x))  # (BT, C, h, w)
        return z.reshape(b, t, *z.shape[1:]).permute(0, 2, 1, 3, 4).contiguous()

    def decode_video(self, z: torch.Tensor) -> torch.Tensor:
        """(B, C, T, h, w) normalised latents -> (B, T, H, W, 3) uint8."""
        b, c, t, h, w = z.shape
        zz = z.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        x = self.decode(self.denormalize(zz))  # (BT, 3, H, W)
        x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return x.permute(0, 2, 3, 1).reshape(b, t, x.shape[2], x.shape[3], 3)

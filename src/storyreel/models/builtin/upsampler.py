"""The built-in model's super-resolution stage: native frames to 4x their size (48x80 -> 192x320).

A cascade, as Imagen Video's and LTX's latent upsampler are: the base model
draws the clip small and fast, and a small convolutional net trained on the
world (where the renderer draws the same scene exactly at any size, so training
pairs are free) redraws it 4x larger. It sees each frame with its two
neighbours, so that an edge is placed from three looks at it rather than one and
does not shimmer from frame to frame; it predicts a residual over a bicubic
upscale, through a sub-pixel (pixel-shuffle) output, as ESPCN and EDSR do.

It runs on native frames, before the edit resamples them in time: its cost
grows with the number of generations, not with the output's frame count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class UpsamplerConfig:
    """Sizes of the upsampler; stored in the weights' config.json."""

    factor: int = 4
    channels: int = 32
    blocks: int = 4
    context: int = 1  # neighbour frames on each side it looks at


class _Res(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)
        nn.init.zeros_(self.b.weight)
        nn.init.zeros_(self.b.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(F.relu(self.a(x)))


class Upsampler(nn.Module):
    """(N, 3 * (2 * context + 1), h, w) frames with neighbours in [-1, 1] -> (N, 3, h * f, w * f) in [-1, 1]."""

    def __init__(self, cfg: UpsamplerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c, f = cfg.channels, cfg.factor
        self.head = nn.Conv2d(3 * (2 * cfg.context + 1), c, 3, padding=1)
        self.body = nn.Sequential(*[_Res(c) for _ in range(cfg.blocks)])
        self.tail = nn.Conv2d(c, 3 * f * f, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.cfg.context
        centre = x[:, 3 * k : 3 * k + 3]  # (N, 3, h, w)
        base = F.interpolate(centre, scale_factor=self.cfg.factor, mode="bicubic", align_corners=False)
        h = self.head(x)
        residual = F.pixel_shuffle(self.tail(self.body(h) + h), self.cfg.factor)  # (N, 3, h*f, w*f)
        return base + residual

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def with_neighbours(frames: torch.Tensor, context: int) -> torch.Tensor:
    """(T, 3, h, w) -> (T, 3 * (2 * context + 1), h, w): each frame stacked with its neighbours (ends repeated)."""
    t = frames.shape[0]
    idx = torch.arange(t)[:, None] + torch.arange(-context, context + 1)[None]  # (T, 2k+1)
    return frames[idx.clamp(0, t - 1)].flatten(1, 2)


def to_unit(frames: np.ndarray) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (T, 3, H, W) float in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """(T, 3, H, W) in [-1, 1] -> (T, H, W, 3) uint8."""
    return ((x.clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy()


@torch.no_grad()
def upsample(net: Upsampler, frames: np.ndarray, chunk: int = 8) -> np.ndarray:
    """(T, H, W, 3) uint8 -> (T, H * factor, W * factor, 3) uint8, a few frames at a time."""
    x = with_neighbours(to_unit(frames), net.cfg.context)
    return np.concatenate([to_uint8(net(x[i : i + chunk])) for i in range(0, len(x), chunk)])

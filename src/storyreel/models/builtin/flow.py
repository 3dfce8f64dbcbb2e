"""Rectified flow: the training loss and the guided Euler sampler.

Convention (as in minRF and SD3): x_t = (1 - t) * x0 + t * noise, t = 1 is pure
noise, the model predicts the velocity v = noise - x0, and sampling walks t from
1 to 0. Training t is logit-normal, which spends effort on the middle of the
path where the prediction is hardest.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from torch import nn


@dataclass
class Conditioning:
    """Given latent frames: values (B, C, T, h, w) and which frames are given (B, T)."""

    latents: torch.Tensor
    mask: torch.Tensor

    @staticmethod
    def none_like(x: torch.Tensor) -> "Conditioning":
        return Conditioning(torch.zeros_like(x), torch.zeros(x.shape[0], x.shape[2], device=x.device))


def random_cond_mask(b: int, t: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Training masks (B, T): none, first frame, first k frames, first+last, last, or random frames.

    This mixture is what lets one model do text-to-video, image-to-video,
    extension, connecting and loops.
    """
    mask = torch.zeros(b, t)
    kind = torch.rand(b, generator=generator)
    for i in range(b):
        k = float(kind[i])
        if k < 0.40:
            continue
        if k < 0.60:
            mask[i, 0] = 1
        elif k < 0.72:
            n = int(torch.randint(2, t // 2 + 1, (1,), generator=generator))
            mask[i, :n] = 1
        elif k < 0.90:
            mask[i, 0] = 1
            mask[i, -1] = 1
        elif k < 0.95:
            mask[i, -1] = 1
        else:
            mask[i] = (torch.rand(t, generator=generator) < 0.25).float()
    return mask


def flow_loss(
    model: nn.Module,
    x0: torch.Tensor,  # (B, C, T, h, w) clean normalised latents
    text: torch.Tensor,
    text_mask: torch.Tensor,
    pooled: torch.Tensor,
    cond_mask: torch.Tensor,  # (B, T)
    drop_text: torch.Tensor,  # (B,) bool: caption dropped, for classifier-free guidance
    weight: torch.Tensor | None = None,  # (B, T, h, w) per latent cell, e.g. objects weighing more
    progress: torch.Tensor | None = None,  # (B, T) each frame's place in its clip, for snippets (U-Net only)
    layout=None,  # layout.LayoutInput: object tracks and ids (layout-guided U-Net only)
) -> torch.Tensor:
    """Mean squared velocity error over the frames that are not given (weighted per cell if asked)."""
    b = x0.shape[0]
    t = torch.sigmoid(torch.randn(b, device=x0.device))  # logit-normal
    noise = torch.randn_like(x0)
    tb = t.view(b, 1, 1, 1, 1)
    xt = (1 - tb) * x0 + tb * noise
    m = cond_mask[:, None, :, None, None]
    xt = xt * (1 - m) + x0 * m  # given frames are clean in the input, as at sampling time
    if drop_text.any():
        nt, nm, npool = model.null_text(b)
        L = text.shape[1]
        nt = torch.cat([nt, nt.new_zeros(b, L - 1, nt.shape[-1])], 1)
        nm = torch.cat([nm, nm.new_zeros(b, L - 1)], 1)
        d = drop_text.view(b, 1, 1)
        text = torch.where(d, nt, text)
        text_mask = torch.where(drop_text.view(b, 1), nm, text_mask)
        pooled = torch.where(drop_text.view(b, 1), npool, pooled)
    extra = {} if progress is None else {"progress": progress}
    if layout is not None:
        extra["layout"] = layout
    v = model(xt, t, x0, cond_mask, text, text_mask, pooled, **extra)
    keep = (1 - m) if weight is None else (1 - m) * weight[:, None]  # (B, 1, T, h, w)
    err = (v.float() - (noise - x0)) ** 2 * keep
    denom = keep.expand_as(err).sum().clamp(min=1.0)
    return err.sum() / denom


@torch.no_grad()
def sample(
    model: nn.Module,
    noise: torch.Tensor,  # (B, C, T, h, w)
    text: torch.Tensor,
    text_mask: torch.Tensor,
    pooled: torch.Tensor,
    cond: Conditioning | None = None,
    *,
    steps: int = 12,
    guidance: float = 4.0,
    start_t: float = 1.0,
    shift: float = 1.0,
    x_start: torch.Tensor | None = None,
    callback=None,
    layout=None,
) -> torch.Tensor:
    """Euler ODE from t=start_t to 0 with classifier-free guidance; deterministic given the noise.

    start_t < 1 with x_start is SDEdit (video-to-video restyle): the source is
    noised to start_t and integrated from there.
    shift > 1 spends more steps at high noise (SD3's timestep shift).
    A layout (layout.LayoutInput, layout-guided U-Net only) keeps its tracks in both guidance branches and its
    colour and shape ids only in the conditional one (training drops the ids with the caption): guidance pushes
    towards what the caption and the ids say, not towards where the objects are, which the tracks fix in both.
    """
    b = noise.shape[0]
    cond = cond or Conditioning.none_like(noise)
    m = cond.mask[:, None, :, None, None].to(noise.dtype)
    x = noise if x_start is None else (1 - start_t) * x_start + start_t * noise
    ts = torch.linspace(start_t, 0.0, steps + 1)
    ts = shift * ts / (1 + (shift - 1) * ts)
    nt, nm, npool = model.null_text(b)
    use_cfg = guidance != 1.0
    extra, extra2 = {}, {}
    if layout is not None:
        extra["layout"] = layout
        unnamed = layout.unnamed()
        extra2["layout"] = type(layout)(torch.cat([layout.tracks, unnamed.tracks]), torch.cat([layout.ids, unnamed.ids]))
    for i in range(steps):
        t, t_next = float(ts[i]), float(ts[i + 1])
        x = x * (1 - m) + cond.latents * m
        tt = torch.full((b,), t)
        if use_cfg:
            L = text.shape[1]
            nt_p = torch.cat([nt, nt.new_zeros(b, L - 1, nt.shape[-1])], 1)
            nm_p = torch.cat([nm, nm.new_zeros(b, L - 1)], 1)
            v_both = model(
                torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([cond.latents, cond.latents]),
                torch.cat([cond.mask, cond.mask]), torch.cat([text, nt_p]), torch.cat([text_mask, nm_p]),
                torch.cat([pooled, npool]), **extra2,
            )
            v_c, v_u = v_both.float().chunk(2)
            v = v_u + guidance * (v_c - v_u)
        else:
            v = model(x, tt, cond.latents, cond.mask, text, text_mask, pooled, **extra).float()
        x = x + (t_next - t) * v
        if callback is not None:
            callback(i + 1, steps)
    return x * (1 - m) + cond.latents * m

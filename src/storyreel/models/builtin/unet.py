"""A (2+1)D U-Net over video latents: the built-in model's denoiser since v2.

Why a U-Net and not the DiT it replaces (dit.py): at this size and on a CPU,
convolutions share their weights across positions, so a shape learned in one
place is learned everywhere, and their receptive field sees an object's
outline at the full latent resolution. The DiT's 16x16-pixel tokens covered a
whole object each and it drew blobs after 11,000 steps; the U-Net draws one
coherent object on a clean setting within minutes (docs/builtin-recipe.md).

The video design is the one of the video diffusion models before DiTs (VDM,
Make-A-Video, AnimateDiff): 2D convolutions per frame, a temporal convolution
after each of them, and spatial, temporal and text cross-attention at the
coarse levels. Two latent frames are stacked in the channels (t_patch), which
halves the cost per clip. Each frame pair also gets its clip progress (0 at
the first frame, 1 at the last) in its FiLM vector, so that a short snippet
cut from a clip, as cheap to train on as a still image, still teaches where an
object is at that moment of its motion (joint image and video training).

The call signature and frame conditioning are the DiT's (flow.py trains and
samples both): beside the noisy latent the net sees, per frame, a clean
conditioning latent and a 0/1 mask saying which frames are given.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .dit import Denoiser, apply_rope, rope_3d, timestep_embedding
from .layout import NO_COLOUR, NO_SHAPE, LayoutInput
from .text import TEXT_DIM


@dataclass
class UNetConfig:
    """Sizes of the U-Net; stored in the weights' config.json."""

    latent_channels: int = 4
    channels: tuple[int, ...] = (32, 64, 128)  # per level; each level halves the latent's height and width
    blocks: int = 1  # residual blocks per level
    attn_from: int = 1  # levels >= this have self- and temporal attention
    t_patch: int = 2  # latent frames stacked in the channels
    head_dim: int = 32
    cond_dim: int = 128
    text_dim: int = TEXT_DIM
    layout_dim: int = 0  # width of each object's colour + shape embedding in the layout input; 0: no layout input
    layout_coords: bool = False  # the layout input also carries each object's own coordinates (layout.maps)
    arch: str = "unet"


def _group_norm(ch: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, ch // 4), ch, eps=1e-5)


def _zero(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock(nn.Module):
    """Two 3x3 convolutions with FiLM from the frame's conditioning vector, then a zero-init temporal convolution."""

    def __init__(self, cin: int, cout: int, cond_dim: int) -> None:
        super().__init__()
        self.norm1, self.conv1 = _group_norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.film = nn.Linear(cond_dim, 2 * cout)
        self.norm2, self.conv2 = _group_norm(cout), _zero(nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.temporal = _zero(nn.Conv1d(cout, cout, 3, padding=1))

    def forward(self, x: torch.Tensor, c: torch.Tensor, frames: int) -> torch.Tensor:
        # x: (B*T, C, h, w), c: (B*T, cond_dim)
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(c)[:, :, None, None].chunk(2, dim=1)
        h = self.conv2(F.silu(self.norm2(h) * (1 + scale) + shift))
        x = self.skip(x) + h
        if frames > 1:
            bt, ch, hh, ww = x.shape
            seq = x.view(bt // frames, frames, ch, hh * ww).permute(0, 3, 2, 1).reshape(-1, ch, frames)  # (B*h*w, C, T)
            mix = self.temporal(seq).view(bt // frames, hh * ww, ch, frames).permute(0, 3, 2, 1)  # (B, T, C, h*w)
            x = x + mix.reshape(bt, ch, hh, ww)
        return x


class Attention(nn.Module):
    """Multi-head attention with RMS-normed queries and keys; optional rotary positions; zero-init output."""

    def __init__(self, dim: int, head_dim: int, context_dim: int | None = None) -> None:
        super().__init__()
        self.heads = max(1, dim // head_dim)
        self.norm = nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(context_dim or dim, 2 * dim)
        self.q_norm, self.k_norm = nn.RMSNorm(dim // self.heads), nn.RMSNorm(dim // self.heads)
        self.out = _zero(nn.Linear(dim, dim))

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                rope: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        b, n, d = x.shape  # (B, N, D)
        h = self.norm(x)
        ctx = h if context is None else context
        q = self.q(h).view(b, n, self.heads, -1).transpose(1, 2)  # (B, heads, N, hd)
        k, v = self.kv(ctx).view(b, ctx.shape[1], 2, self.heads, -1).permute(2, 0, 3, 1, 4)  # (B, heads, L, hd)
        q, k = self.q_norm(q), self.k_norm(k)
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        attn_mask = None if mask is None else mask[:, None, None, :]
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return x + self.out(y.transpose(1, 2).reshape(b, n, d))


class AttnBlock(nn.Module):
    """Spatial self-attention (per frame), temporal self-attention (per position) and text cross-attention."""

    def __init__(self, ch: int, cfg: UNetConfig, self_attention: bool) -> None:
        super().__init__()
        self.spatial = Attention(ch, cfg.head_dim) if self_attention else None
        self.temporal = Attention(ch, cfg.head_dim) if self_attention else None
        self.cross = Attention(ch, cfg.head_dim, context_dim=cfg.text_dim)
        self.head_dim = max(1, ch // max(1, ch // cfg.head_dim))

    def forward(self, x: torch.Tensor, frames: int, text: torch.Tensor, text_mask: torch.Tensor) -> torch.Tensor:
        bt, ch, hh, ww = x.shape
        b = bt // frames
        seq = x.flatten(2).transpose(1, 2)  # (B*T, h*w, C)
        if self.spatial is not None:
            seq = self.spatial(seq, rope=rope_3d((1, hh, ww), self.head_dim, x.device))
        seq = self.cross(seq, text.repeat_interleave(frames, 0), text_mask.repeat_interleave(frames, 0))
        if self.temporal is not None and frames > 1:
            tseq = seq.view(b, frames, hh * ww, ch).transpose(1, 2).reshape(b * hh * ww, frames, ch)  # (B*h*w, T, C)
            tseq = self.temporal(tseq, rope=rope_3d((frames, 1, 1), self.head_dim, x.device))
            seq = tseq.view(b, hh * ww, frames, ch).transpose(1, 2).reshape(bt, hh * ww, ch)
        return seq.transpose(1, 2).reshape(bt, ch, hh, ww)


class VideoUNet(Denoiser):
    """Velocity model v(x_t, t | text, conditioning frames, clip progress) over (B, C, T, h, w) latents."""

    def __init__(self, cfg: UNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        ch, d, tp = cfg.channels, cfg.cond_dim, cfg.t_patch
        self.t_mlp = nn.Sequential(nn.Linear(256, d), nn.SiLU(), nn.Linear(d, d))
        self.progress_mlp = nn.Sequential(nn.Linear(256, d), nn.SiLU(), nn.Linear(d, d))
        self.pooled_mlp = nn.Sequential(nn.Linear(cfg.text_dim, d), nn.SiLU(), nn.Linear(d, d))
        self.text_proj = nn.Sequential(nn.LayerNorm(cfg.text_dim), nn.Linear(cfg.text_dim, cfg.text_dim))
        self.null_tokens = nn.Parameter(torch.randn(1, 1, cfg.text_dim) * 0.02)
        self.null_pooled = nn.Parameter(torch.randn(1, cfg.text_dim) * 0.02)
        # occupancy, what is there, and (layout_coords) where in its object a cell is
        self.layout_channels = cfg.layout_dim + 1 + 2 * cfg.layout_coords if cfg.layout_dim else 0
        if cfg.layout_dim:
            self.colour_emb = nn.Embedding(NO_COLOUR + 1, cfg.layout_dim)
            self.shape_emb = nn.Embedding(NO_SHAPE + 1, cfg.layout_dim)
        self.stem = nn.Conv2d((2 * cfg.latent_channels + 1 + self.layout_channels) * tp, ch[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        skips, cur = [], ch[0]
        for level, c in enumerate(ch):
            blocks = nn.ModuleList()
            for _ in range(cfg.blocks):
                blocks.append(nn.ModuleList([ResBlock(cur, c, d), AttnBlock(c, cfg, level >= cfg.attn_from)]))
                cur = c
                skips.append(c)
            self.down.append(blocks)
            self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1) if level < len(ch) - 1 else nn.Identity())
        self.mid = nn.ModuleList([ResBlock(cur, cur, d), AttnBlock(cur, cfg, True), ResBlock(cur, cur, d)])
        self.up = nn.ModuleList()
        for level, c in reversed(list(enumerate(ch))):
            blocks = nn.ModuleList()
            for _ in range(cfg.blocks):
                blocks.append(nn.ModuleList([ResBlock(cur + skips.pop(), c, d), AttnBlock(c, cfg, level >= cfg.attn_from)]))
                cur = c
            self.up.append(blocks)
        self.out_norm = _group_norm(cur)
        self.out = _zero(nn.Conv2d(cur, cfg.latent_channels * tp, 3, padding=1))

    def forward(
        self,
        x: torch.Tensor,  # (B, C, T, h, w) noisy latents
        t: torch.Tensor,  # (B,) flow time, 1 = noise
        cond: torch.Tensor,  # (B, C, T, h, w) clean conditioning latents (zeros where not given)
        cond_mask: torch.Tensor,  # (B, T) 1 where a frame is given
        text: torch.Tensor,  # (B, L, text_dim)
        text_mask: torch.Tensor,  # (B, L) bool
        pooled: torch.Tensor,  # (B, text_dim)
        progress: torch.Tensor | None = None,  # (B, T) each frame's place in its clip, 0..1; default: a whole clip
        layout: LayoutInput | None = None,  # object tracks and ids (layout.py); None: no layout
    ) -> torch.Tensor:
        b, c, frames, hh, ww = x.shape
        tp = self.cfg.t_patch
        tt = frames // tp
        if progress is None:
            progress = torch.linspace(0, 1, frames, device=x.device).expand(b, frames)
        m = cond_mask[:, None, :, None, None].to(x.dtype).expand(b, 1, frames, hh, ww)
        parts = [x, cond * m, m]
        if self.layout_channels:
            parts.append(self._layout_map(layout, b, frames, hh, ww).to(x.dtype))
        inp = torch.cat(parts, dim=1)  # (B, 2C+1 [+ layout_dim+1], T, h, w)
        inp = inp.view(b, -1, tt, tp, hh, ww).permute(0, 2, 1, 3, 4, 5).reshape(b * tt, -1, hh, ww)  # (B*T', Cin*tp, h, w)
        vec = self.t_mlp(timestep_embedding(t, 256)) + self.pooled_mlp(pooled)  # (B, D)
        prog = progress.view(b, tt, tp).mean(-1).reshape(-1)  # (B*T',) the pair's mean progress
        cvec = vec.repeat_interleave(tt, 0) + self.progress_mlp(timestep_embedding(prog, 256))  # (B*T', D)
        text = self.text_proj(text)
        h = self.stem(inp)
        skips = []
        for blocks, down in zip(self.down, self.downsample):
            for res, attn in blocks:
                h = attn(res(h, cvec, tt), tt, text, text_mask)
                skips.append(h)
            h = down(h)
        h = self.mid[0](h, cvec, tt)
        h = self.mid[1](h, tt, text, text_mask)
        h = self.mid[2](h, cvec, tt)
        for blocks in self.up:
            for res, attn in blocks:
                skip = skips.pop()
                if h.shape[-2:] != skip.shape[-2:]:
                    h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")
                h = attn(res(torch.cat([h, skip], 1), cvec, tt), tt, text, text_mask)
        out = self.out(F.silu(self.out_norm(h)))  # (B*T', C*tp, h, w)
        return out.view(b, tt, c, tp, hh, ww).permute(0, 2, 1, 3, 4, 5).reshape(b, c, frames, hh, ww)

    def _layout_map(self, layout: LayoutInput | None, b: int, frames: int, hh: int, ww: int) -> torch.Tensor:
        """(B, layout_channels, T, h, w): occupancy, each disc painted with its object's colour + shape embedding,
        and (layout_coords) each object's own coordinates where it is."""
        if layout is None:
            layout = LayoutInput.empty(b, frames).to(self.stem.weight.device)
        d, coords = layout.maps(hh, ww)  # (B, K, T, h, w), (B, K, 2, T, h, w)
        e = self.colour_emb(layout.ids[..., 0]) + self.shape_emb(layout.ids[..., 1])  # (B, K, E)
        what = torch.einsum("bkthw,bke->bethw", d, e)  # (B, E, T, h, w)
        parts = [d.sum(1, keepdim=True).clamp(max=1.0), what]
        if self.cfg.layout_coords:
            parts.append(coords.sum(1))  # (B, 2, T, h, w); objects rarely overlap, and then both are seen
        return torch.cat(parts, dim=1)

    def widen_for_layout(self, layout_dim: int, coords: bool = True) -> "VideoUNet":
        """This net with a (wider) layout input, the new stem weights zero: it computes what it did before.

        From no layout input, or from one without object coordinates (run u2) to one with them; the old input
        channels come first in the stem's (channel, frame of pair) order, so their weights stay where they are.
        """
        if self.cfg.layout_dim and self.cfg.layout_dim != layout_dim:
            raise ValueError(f"cannot change the layout embedding width {self.cfg.layout_dim} -> {layout_dim}")
        cfg = UNetConfig(**{**self.cfg.__dict__, "layout_dim": layout_dim, "layout_coords": coords})
        net = VideoUNet(cfg)
        state = net.state_dict()
        for k, v in self.state_dict().items():
            if k == "stem.weight":
                state[k].zero_()
                state[k][:, : v.shape[1]] = v  # old input channels come first: (channel, frame of pair) order
            else:
                state[k] = v
        net.load_state_dict(state)
        return net

"""A diffusion transformer over spacetime patches of video latents.

The family of the large text-to-video systems, at CPU size: latents are cut
into (t, h, w) patches, each patch is a token, tokens get 3D rotary positions
(so any frame count and aspect ratio works), blocks use adaLN-Zero for the
timestep and pooled text, and cross-attention to the text tokens so that each
object keeps its own colour and shape.

Frame conditioning: beside the noisy latent the model sees, per latent frame,
a clean conditioning latent and a 0/1 mask saying which frames are given.
One set of weights thus does text-to-video (mask all 0), image-to-video
(first frame), extension (first k frames), connecting (first and last) and
loops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .text import TEXT_DIM


@dataclass
class DiTConfig:
    """Transformer sizes; one config object is passed to every module."""

    latent_channels: int = 4
    patch: tuple[int, int, int] = (2, 4, 4)  # (t, h, w) in latent cells: 2 frames x 16x16 pixels
    dim: int = 256
    depth: int = 8
    heads: int = 4
    mlp_ratio: float = 4.0
    text_dim: int = TEXT_DIM

    @property
    def in_per_token(self) -> int:
        pt, ph, pw = self.patch
        return (2 * self.latent_channels + 1) * pt * ph * pw

    @property
    def out_per_token(self) -> int:
        pt, ph, pw = self.patch
        return self.latent_channels * pt * ph * pw


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of t in [0, 1] (scaled to 0..1000 like DiT). (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = (t.float() * 1000.0)[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def rope_3d(grid: tuple[int, int, int], head_dim: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Cos/sin tables (N, head_dim/2) for factorised 3D rotary positions over a (t, h, w) token grid.

    The head dimension is split between the axes (a quarter to time, the rest
    shared by height and width), each axis rotating its own pairs.
    """
    gt, gh, gw = grid
    dt = (head_dim // 4) // 2 * 2
    dh = ((head_dim - dt) // 2) // 2 * 2
    dw = head_dim - dt - dh
    tt, hh, ww = torch.meshgrid(
        torch.arange(gt, device=device), torch.arange(gh, device=device), torch.arange(gw, device=device), indexing="ij"
    )
    angles = []
    for pos, d in ((tt, dt), (hh, dh), (ww, dw)):
        freqs = 1.0 / (100.0 ** (torch.arange(0, d, 2, device=device).float() / d))  # (d/2,)
        angles.append(pos.reshape(-1, 1).float() * freqs[None])  # (N, d/2)
    ang = torch.cat(angles, dim=1)  # (N, head_dim/2)
    return ang.cos(), ang.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs of channels. x: (B, heads, N, head_dim)."""
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
    return out.flatten(-2)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class SelfAttention(nn.Module):
    def __init__(self, cfg: DiTConfig) -> None:
        super().__init__()
        self.heads = cfg.heads
        self.qkv = nn.Linear(cfg.dim, 3 * cfg.dim)
        self.proj = nn.Linear(cfg.dim, cfg.dim)
        self.q_norm = nn.RMSNorm(cfg.dim // cfg.heads)
        self.k_norm = nn.RMSNorm(cfg.dim // cfg.heads)

    def forward(self, x: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)  # each (B, h, N, hd)
        q, k = apply_rope(self.q_norm(q), *rope), apply_rope(self.k_norm(k), *rope)
        y = F.scaled_dot_product_attention(q, k, v)  # (B, h, N, hd)
        return self.proj(y.transpose(1, 2).reshape(b, n, d))


class CrossAttention(nn.Module):
    def __init__(self, cfg: DiTConfig) -> None:
        super().__init__()
        self.heads = cfg.heads
        self.q = nn.Linear(cfg.dim, cfg.dim)
        self.kv = nn.Linear(cfg.text_dim, 2 * cfg.dim)
        self.proj = nn.Linear(cfg.dim, cfg.dim)

    def forward(self, x: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q = self.q(x).view(b, n, self.heads, -1).transpose(1, 2)  # (B, h, N, hd)
        k, v = self.kv(text).view(b, text.shape[1], 2, self.heads, -1).permute(2, 0, 3, 1, 4)  # (B, h, L, hd)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=text_mask[:, None, None, :])
        return self.proj(y.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """Self-attention, cross-attention, MLP; adaLN-Zero gates on self-attention and MLP."""

    def __init__(self, cfg: DiTConfig) -> None:
        super().__init__()
        d = cfg.dim
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.attn = SelfAttention(cfg)
        self.norm_x = nn.LayerNorm(d, eps=1e-6)
        self.cross = CrossAttention(cfg)
        self.norm2 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        hidden = int(d * cfg.mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, d))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d))

    def forward(self, x, c, text, text_mask, rope):
        s1, sc1, g1, s2, sc2, g2 = self.ada(c).chunk(6, dim=-1)  # each (B, D)
        x = x + g1.unsqueeze(1) * self.attn(modulate(self.norm1(x), s1, sc1), rope)
        x = x + self.cross(self.norm_x(x), text, text_mask)
        x = x + g2.unsqueeze(1) * self.mlp(modulate(self.norm2(x), s2, sc2))
        return x


class FinalLayer(nn.Module):
    def __init__(self, cfg: DiTConfig) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(cfg.dim, elementwise_affine=False, eps=1e-6)
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(cfg.dim, 2 * cfg.dim))
        self.linear = nn.Linear(cfg.dim, cfg.out_per_token)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shift, scale = self.ada(c).chunk(2, dim=-1)
        return self.linear(modulate(self.norm(x), shift, scale))


class Denoiser(nn.Module):
    """What the sampler and trainer need of either denoiser (VideoDiT, unet.VideoUNet) beyond its forward call.

    A subclass defines the learnt "no caption" embedding as `null_tokens` (1, 1, text_dim) and `null_pooled`
    (1, text_dim).
    """

    null_tokens: nn.Parameter
    null_pooled: nn.Parameter

    def null_text(self, b: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Unconditional text inputs for a batch of b."""
        tokens = self.null_tokens.expand(b, 1, -1)
        mask = torch.ones(b, 1, dtype=torch.bool, device=tokens.device)
        return tokens, mask, self.null_pooled.expand(b, -1)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


class VideoDiT(Denoiser):
    """Velocity model v(x_t, t | text, conditioning frames) over (B, C, T, h, w) latents."""

    def __init__(self, cfg: DiTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.dim
        self.embed = nn.Linear(cfg.in_per_token, d)
        self.t_mlp = nn.Sequential(nn.Linear(256, d), nn.SiLU(), nn.Linear(d, d))
        self.pooled_mlp = nn.Sequential(nn.Linear(cfg.text_dim, d), nn.SiLU(), nn.Linear(d, d))
        self.text_proj = nn.Sequential(nn.LayerNorm(cfg.text_dim), nn.Linear(cfg.text_dim, cfg.text_dim))
        # the "no caption" embedding used for classifier-free guidance
        self.null_tokens = nn.Parameter(torch.zeros(1, 1, cfg.text_dim))
        self.null_pooled = nn.Parameter(torch.zeros(1, cfg.text_dim))
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.depth)])
        self.final = FinalLayer(cfg)
        self.initialize_weights()

    def initialize_weights(self) -> None:
        """DiT's recipe: Xavier linears; adaLN and output zeroed so every block starts as identity
        and the model starts by predicting zero velocity, which keeps early training stable."""

        def _basic(m: nn.Module) -> None:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

        self.apply(_basic)
        nn.init.normal_(self.t_mlp[0].weight, std=0.02)
        nn.init.normal_(self.t_mlp[2].weight, std=0.02)
        nn.init.normal_(self.null_tokens, std=0.02)
        nn.init.normal_(self.null_pooled, std=0.02)
        for block in self.blocks:
            nn.init.zeros_(block.ada[-1].weight)
            nn.init.zeros_(block.ada[-1].bias)
            # cross-attention has no gate: zero its output projection instead
            nn.init.zeros_(block.cross.proj.weight)
        nn.init.zeros_(self.final.ada[-1].weight)
        nn.init.zeros_(self.final.ada[-1].bias)
        nn.init.zeros_(self.final.linear.weight)
        nn.init.zeros_(self.final.linear.bias)

    def patchify(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, h, w) -> (B, N, C*pt*ph*pw)."""
        b, c, t, h, w = x.shape
        pt, ph, pw = self.cfg.patch
        x = x.view(b, c, t // pt, pt, h // ph, ph, w // pw, pw)
        x = x.permute(0, 2, 4, 6, 1, 3, 5, 7)  # (B, gt, gh, gw, C, pt, ph, pw)
        return x.reshape(b, (t // pt) * (h // ph) * (w // pw), c * pt * ph * pw)

    def unpatchify(self, x: torch.Tensor, grid: tuple[int, int, int]) -> torch.Tensor:
        """(B, N, C*pt*ph*pw) -> (B, C, T, h, w)."""
        b = x.shape[0]
        gt, gh, gw = grid
        pt, ph, pw = self.cfg.patch
        c = self.cfg.latent_channels
        x = x.view(b, gt, gh, gw, c, pt, ph, pw).permute(0, 4, 1, 5, 2, 6, 3, 7)  # (B, C, gt, pt, gh, ph, gw, pw)
        return x.reshape(b, c, gt * pt, gh * ph, gw * pw)

    def forward(
        self,
        x: torch.Tensor,  # (B, C, T, h, w) noisy latents
        t: torch.Tensor,  # (B,) flow time, 1 = noise
        cond: torch.Tensor,  # (B, C, T, h, w) clean conditioning latents (zeros where not given)
        cond_mask: torch.Tensor,  # (B, T) 1 where a frame is given
        text: torch.Tensor,  # (B, L, text_dim) token embeddings
        text_mask: torch.Tensor,  # (B, L) bool
        pooled: torch.Tensor,  # (B, text_dim)
    ) -> torch.Tensor:
        b, c, tt, h, w = x.shape
        pt, ph, pw = self.cfg.patch
        grid = (tt // pt, h // ph, w // pw)
        m = cond_mask[:, None, :, None, None].to(x.dtype).expand(b, 1, tt, h, w)
        tokens = self.embed(self.patchify(torch.cat([x, cond * m, m], dim=1)))  # (B, N, D)
        c_vec = self.t_mlp(timestep_embedding(t, 256)) + self.pooled_mlp(pooled)  # (B, D)
        text = self.text_proj(text)
        rope = rope_3d(grid, self.cfg.dim // self.cfg.heads, x.device)
        for block in self.blocks:
            tokens = block(tokens, c_vec, text, text_mask, rope)
        return self.unpatchify(self.final(tokens, c_vec), grid)  # (B, C, T, h, w)


    def flops_per_forward(self, tokens: int, text_tokens: int = 20) -> float:
        """Approximate FLOPs of one forward pass for one sample (2 per multiply-add)."""
        d, depth = self.cfg.dim, self.cfg.depth
        hidden = int(d * self.cfg.mlp_ratio)
        per_block = tokens * (4 * d * d + 2 * d * d + 2 * d * hidden + 6 * d)  # qkv+proj, q+proj (cross), mlp, ada
        per_block += 2 * tokens * tokens * d + 2 * tokens * text_tokens * d  # attention scores and values
        per_block += text_tokens * self.cfg.text_dim * 2 * d  # cross-attention keys and values
        return 2.0 * (depth * per_block + tokens * (self.cfg.in_per_token + self.cfg.out_per_token) * d)

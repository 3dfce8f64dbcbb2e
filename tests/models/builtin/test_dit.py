"""The transformer and the flow: shapes, any aspect and length, determinism, learning."""

import torch

from storyreel.models.builtin.dit import DiTConfig, VideoDiT, rope_3d
from storyreel.models.builtin.flow import Conditioning, flow_loss, random_cond_mask, sample

TINY = DiTConfig(latent_channels=4, dim=32, depth=2, heads=2, text_dim=16)


def _text(b, length=5):
    return torch.randn(b, length, 16), torch.ones(b, length, dtype=torch.bool), torch.randn(b, 16)


def test_output_shape_matches_input_for_any_aspect_and_length():
    torch.manual_seed(0)
    model = VideoDiT(TINY)
    for t, h, w in [(16, 12, 20), (8, 12, 12), (16, 20, 12), (24, 8, 16)]:
        x = torch.randn(2, 4, t, h, w)
        v = model(x, torch.rand(2), torch.zeros_like(x), torch.zeros(2, t), *_text(2))
        assert v.shape == x.shape


def test_adaln_zero_starts_at_zero_velocity():
    model = VideoDiT(TINY)
    x = torch.randn(1, 4, 4, 4, 4)
    v = model(x, torch.rand(1), torch.zeros_like(x), torch.zeros(1, 4), *_text(1))
    assert torch.count_nonzero(v) == 0


def test_rope_positions_differ_along_every_axis():
    cos, sin = rope_3d((2, 2, 2), 16, torch.device("cpu"))
    assert cos.shape == (8, 8)
    rows = {tuple(r.round(decimals=5).tolist()) for r in torch.cat([cos, sin], 1)}
    assert len(rows) == 8


def test_sampler_is_deterministic_for_the_same_noise():
    torch.manual_seed(0)
    model = VideoDiT(TINY)
    for p in model.final.parameters():  # make the output non-trivial
        torch.nn.init.normal_(p, std=0.1)
    noise = torch.randn(1, 4, 4, 4, 4, generator=torch.Generator().manual_seed(3))
    text = _text(1)
    a = sample(model, noise, *text, steps=3, guidance=2.0)
    b = sample(model, noise.clone(), *text, steps=3, guidance=2.0)
    assert torch.equal(a, b)


def test_conditioned_frames_are_kept_exactly():
    torch.manual_seed(0)
    model = VideoDiT(TINY)
    noise = torch.randn(1, 4, 4, 4, 4)
    cond = Conditioning(torch.randn(1, 4, 4, 4, 4), torch.tensor([[1.0, 0.0, 0.0, 1.0]]))
    out = sample(model, noise, *_text(1), cond, steps=2)
    assert torch.equal(out[:, :, 0], cond.latents[:, :, 0]) and torch.equal(out[:, :, 3], cond.latents[:, :, 3])


def test_random_masks_cover_every_conditioning_mode():
    m = random_cond_mask(400, 16, torch.Generator().manual_seed(0))
    rows = {tuple(r.tolist()) for r in m}
    first = tuple([1.0] + [0.0] * 15)
    ends = tuple([1.0] + [0.0] * 14 + [1.0])
    assert tuple([0.0] * 16) in rows and first in rows and ends in rows
    assert any(r[:2] == (1.0, 1.0) and sum(r) < 16 for r in rows)  # extension: first k frames


def test_flow_loss_decreases_when_overfitting_one_batch():
    torch.manual_seed(0)
    model = VideoDiT(TINY)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    x0 = torch.randn(4, 4, 4, 4, 4)
    text = _text(4)
    losses = []
    for step in range(60):
        torch.manual_seed(step % 4)  # a few fixed (t, noise) draws, so the batch can be memorised
        loss = flow_loss(model, x0, *text, torch.zeros(4, 4), torch.zeros(4, dtype=torch.bool))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert sum(losses[-8:]) / 8 < 0.6 * sum(losses[:8]) / 8

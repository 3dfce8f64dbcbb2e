"""The v2 denoiser: shapes, frame conditioning, clip progress, and that it learns (tiny configs, seconds)."""

from __future__ import annotations

import torch

from storyreel.models.builtin.flow import Conditioning, flow_loss, sample
from storyreel.models.builtin.layout import NO_COLOUR, NO_SHAPE, SLOTS, LayoutInput
from storyreel.models.builtin.unet import UNetConfig, VideoUNet

TINY = UNetConfig(channels=(8, 16), blocks=1, head_dim=8, cond_dim=16, text_dim=12)


def _inputs(b: int = 2, frames: int = 4, h: int = 12, w: int = 20):
    x = torch.randn(b, 4, frames, h, w)
    text = (torch.randn(b, 3, 12), torch.ones(b, 3, dtype=torch.bool), torch.randn(b, 12))
    return x, text


def _perturb(model: torch.nn.Module) -> None:
    """Zero-initialised outputs make a new net predict 0 everywhere; give every weight a value to test wiring."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))


def test_velocity_has_the_latent_shape_for_every_aspect():
    model = VideoUNet(TINY)
    for h, w in ((12, 20), (12, 12), (20, 12)):
        x, text = _inputs(h=h, w=w)
        v = model(x, torch.rand(2), x, torch.zeros(2, 4), *text)
        assert v.shape == x.shape


def test_a_new_net_predicts_zero_velocity():
    x, text = _inputs()
    v = VideoUNet(TINY)(x, torch.rand(2), x, torch.zeros(2, 4), *text)
    assert v.abs().max().item() == 0.0


def test_frames_interact_through_time_but_batch_items_do_not():
    torch.manual_seed(0)
    model = VideoUNet(TINY)
    _perturb(model)
    x, text = _inputs()
    base = model(x, torch.full((2,), 0.5), x, torch.zeros(2, 4), *text)
    x2 = x.clone()
    x2[0, :, 3] += 1.0  # change the last frame pair of the first clip only
    moved = model(x2, torch.full((2,), 0.5), x2, torch.zeros(2, 4), *text)
    assert (moved[0, :, :2] - base[0, :, :2]).abs().max() > 1e-4  # the first frame pair sees it (temporal layers)
    assert torch.allclose(moved[1], base[1], atol=1e-5)  # the other clip does not


def test_clip_progress_changes_the_prediction():
    torch.manual_seed(0)
    model = VideoUNet(TINY)
    _perturb(model)
    x, text = _inputs(frames=2)
    early = model(x, torch.full((2,), 0.5), x, torch.zeros(2, 2), *text, progress=torch.zeros(2, 2))
    late = model(x, torch.full((2,), 0.5), x, torch.zeros(2, 2), *text, progress=torch.ones(2, 2))
    assert (early - late).abs().max() > 1e-4


def test_given_frames_come_back_exactly_from_the_sampler():
    torch.manual_seed(0)
    model = VideoUNet(TINY)
    _perturb(model)
    x, (tok, mask, pooled) = _inputs(b=1)
    cond = Conditioning.none_like(x)
    cond.latents[:, :, 0] = 0.7
    cond.mask[:, 0] = 1.0
    out = sample(model, torch.randn_like(x), tok, mask, pooled, cond, steps=2, guidance=2.0)
    assert torch.allclose(out[:, :, 0], torch.full_like(out[:, :, 0], 0.7))


def test_a_tiny_unet_overfits_one_clip():
    torch.manual_seed(0)
    model = VideoUNet(TINY)
    x, text = _inputs(b=2)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    args = (model, x, *text, torch.zeros(2, 4), torch.zeros(2, dtype=torch.bool))
    first = None
    for _ in range(60):
        torch.manual_seed(1)  # the same noise and flow time each step: a pure fit of one example
        loss = flow_loss(*args)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.manual_seed(1)
    assert flow_loss(*args).item() < 0.5 * first


def _layout(b: int, frames: int, h: int, w: int, colour: int = 0, shape: int = 0) -> LayoutInput:
    tracks = torch.full((b, SLOTS, frames, 3), float("nan"))
    tracks[:, 0] = torch.tensor([0.3, 0.3, 0.2])  # one object near the top-left corner, in short-side units
    ids = torch.tensor([[colour, shape], [NO_COLOUR, NO_SHAPE]]).expand(b, SLOTS, 2)
    return LayoutInput(tracks, ids)


def test_the_layout_and_its_ids_change_the_prediction_and_a_widened_net_computes_what_it_did():
    torch.manual_seed(0)
    old = VideoUNet(TINY)
    _perturb(old)
    x, text = _inputs()
    args = (x, torch.full((2,), 0.5), x, torch.zeros(2, 4), *text)
    net = old.widen_for_layout(4, coords=False)
    assert net.cfg.layout_dim == 4 and not net.cfg.layout_coords
    assert torch.allclose(net(*args), old(*args), atol=1e-6)  # new stem weights are zero
    assert torch.allclose(net(*args, layout=_layout(2, 4, 12, 20)), old(*args), atol=1e-6)
    _perturb(net)
    star, heart = net(*args, layout=_layout(2, 4, 12, 20, shape=3)), net(*args, layout=_layout(2, 4, 12, 20, shape=4))
    assert (star - heart).abs().max() > 1e-4  # the shape id reaches the output
    assert (star - net(*args)).abs().max() > 1e-4  # and so does having a layout at all
    wider = net.widen_for_layout(4, coords=True)  # u2 -> u3: object coordinates added, outputs unchanged
    assert wider.layout_channels == net.layout_channels + 2
    assert torch.allclose(wider(*args, layout=_layout(2, 4, 12, 20, shape=3)), star, atol=1e-6)


def test_the_sampler_gives_the_layout_to_both_guidance_branches_with_ids_only_in_the_conditional_one():
    seen = []

    class Spy(VideoUNet):
        def forward(self, *a, layout=None, **k):
            seen.append(layout)
            return super().forward(*a, layout=layout, **k)

    model = Spy(UNetConfig(**{**TINY.__dict__, "layout_dim": 4}))
    x, (tok, mask, pooled) = _inputs(b=1)
    sample(model, torch.randn_like(x), tok, mask, pooled, steps=1, guidance=3.0, layout=_layout(1, 4, 12, 20, 2, 1))
    lay = seen[0]
    assert lay.tracks.shape[0] == 2 and torch.equal(lay.tracks[0, 0], lay.tracks[1, 0])
    assert lay.ids[0, 0].tolist() == [2, 1] and lay.ids[1, 0].tolist() == [NO_COLOUR, NO_SHAPE]

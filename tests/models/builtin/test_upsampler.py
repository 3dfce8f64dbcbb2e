"""The super-resolution stage: 4x frames, a new net is bicubic, neighbours at the ends, and it learns (tiny)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from storyreel.models.builtin import upsampler as U

TINY = U.UpsamplerConfig(channels=8, blocks=1)


def test_a_new_net_is_a_bicubic_upscale_of_the_middle_frame():
    net = U.Upsampler(TINY)
    frames = torch.rand(3, 9, 6, 10) * 2 - 1
    out = net(frames)
    assert out.shape == (3, 3, 24, 40)
    assert torch.allclose(out, F.interpolate(frames[:, 3:6], scale_factor=4, mode="bicubic"), atol=1e-6)


def test_each_frame_is_stacked_with_its_neighbours_and_the_ends_repeat():
    frames = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 3, 2, 2)
    stacked = U.with_neighbours(frames, 1)
    assert stacked.shape == (4, 9, 2, 2)
    assert stacked[:, ::3, 0, 0].tolist() == [[0, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 3]]


def test_upsample_maps_uint8_frames_to_four_times_their_size():
    frames = np.random.default_rng(0).integers(0, 256, (5, 8, 12, 3), dtype=np.uint8)
    out = U.upsample(U.Upsampler(TINY), frames, chunk=2)
    assert out.shape == (5, 32, 48, 3) and out.dtype == np.uint8


def test_a_tiny_upsampler_overfits_one_pair():
    torch.manual_seed(0)
    net = U.Upsampler(TINY)
    large = torch.rand(2, 3, 32, 32) * 2 - 1
    small = F.avg_pool2d(large, 4)
    x = torch.cat([small, small, small], 1)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    first = None
    for _ in range(80):
        loss = F.l1_loss(net(x), large)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert F.l1_loss(net(x), large).item() < 0.8 * first

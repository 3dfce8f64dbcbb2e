"""The U-Net trainer: snippets cut from clips, checkpoint and resume, export to shipped weights (tiny configs)."""

from __future__ import annotations

import json

import numpy as np
import torch

from storyreel.models.builtin import train_unet
from storyreel.models.builtin.model import BuiltinModel
from storyreel.models.builtin.unet import UNetConfig
from storyreel.models.base import GenerationRequest

TINY = UNetConfig(channels=(8, 16), blocks=1, head_dim=8, cond_dim=16)


def test_snippets_are_two_frame_slices_that_know_their_place_in_the_clip():
    z = torch.arange(16.0).view(1, 1, 16, 1, 1).expand(3, 4, 16, 2, 2).contiguous()
    w = torch.arange(16.0).view(1, 16, 1, 1).expand(3, 16, 2, 2).contiguous()
    zs, _, _, _, ws, prog = train_unet.snippets_of([z, None, None, None, w], np.random.default_rng(0))
    assert zs.shape == (3, 4, 2, 2, 2) and ws.shape == (3, 2, 2, 2)
    first = zs[:, 0, 0, 0, 0]
    assert torch.all(first % 2 == 0)  # even offsets: the U-Net's frame pairs are never split
    assert torch.equal(zs[:, 0, 1, 0, 0], first + 1) and torch.equal(ws[:, 0, 0, 0], first)
    assert torch.allclose(prog[:, 0], first / 15) and torch.allclose(prog[:, 1], (first + 1) / 15)


def test_snippets_cut_the_same_frames_of_the_object_tracks():
    z = torch.arange(16.0).view(1, 1, 16, 1, 1).expand(3, 4, 16, 2, 2).contiguous()
    w = torch.zeros(3, 16, 2, 2)
    tracks = torch.arange(16.0).view(1, 1, 16, 1).expand(3, 2, 16, 3).contiguous()
    out = train_unet.snippets_of([z, None, None, None, w], np.random.default_rng(1), tracks=tracks)
    zs, tr = out[0], out[6]
    assert tr.shape == (3, 2, 2, 3) and torch.equal(tr[:, 0, :, 0], zs[:, 0, :, 0, 0])


def test_training_layouts_drop_ids_with_the_caption_and_sometimes_drop_the_layout():
    tracks, ids = torch.full((400, 2, 2, 3), 0.3), torch.zeros(400, 2, 2, dtype=torch.long)
    drop_text = torch.arange(400) < 100
    cfg = train_unet.UNetTrainConfig(layout_drop=0.25)
    lay = train_unet._layout(tracks, ids, drop_text, cfg)
    no_layout = torch.isnan(lay.tracks).flatten(1).all(1)
    assert 0.15 < no_layout.float().mean() < 0.35
    named = lay.ids[:, 0, 0] == 0
    assert not named[:100].any() and named[100:][~no_layout[100:]].all()


def test_training_checkpoints_resumes_and_exports_weights_the_model_loads(tmp_path):
    cfg = train_unet.UNetTrainConfig(steps=2, clips=1, snippets=2, buffer_clips=8, checkpoint_every_s=1e9)
    lines: list[str] = []
    train_unet.train_unet(cfg, tmp_path, TINY, log=lines.append, progress_dir=tmp_path / "none")
    assert torch.load(tmp_path / "unet.pt", weights_only=False)["step"] == 2
    cfg3 = train_unet.UNetTrainConfig(steps=3, clips=1, snippets=2, buffer_clips=8, checkpoint_every_s=1e9)
    train_unet.train_unet(cfg3, tmp_path, TINY, log=lines.append, progress_dir=tmp_path / "none")
    assert any("resumed u-net at step 2" in s for s in lines)
    assert torch.load(tmp_path / "unet.pt", weights_only=False)["step"] == 3

    out = train_unet.export_unet(tmp_path, tmp_path / "weights")
    config = json.loads((out / "config.json").read_text())
    assert config["unet_steps"] == 3 and config["unet"]["channels"] == [8, 16]
    assert not (out / "dit.safetensors").exists()
    config["sample_steps"] = 6  # chosen for these weights: a re-export keeps it
    (out / "config.json").write_text(json.dumps(config))
    assert json.loads((train_unet.export_unet(tmp_path, out) / "config.json").read_text())["sample_steps"] == 6
    clip = BuiltinModel(out).generate(GenerationRequest(prompt="a red star moves right", seed=0, height=48, width=80,
                                                        frames=4, steps=2))
    assert clip.frames.shape == (4, 48, 80, 3)

    # a new machine: no run checkpoint, but committed progress weights -> it continues from their step
    cfg4 = train_unet.UNetTrainConfig(steps=4, clips=1, snippets=2, buffer_clips=8, checkpoint_every_s=1e9)
    fresh_run = tmp_path / "new-machine"
    train_unet.train_unet(cfg4, fresh_run, log=lines.append, progress_dir=out)
    assert any("progress weights at step 3" in s for s in lines)
    assert any("widened the progress weights for a layout input" in s for s in lines)
    state = torch.load(fresh_run / "unet.pt", weights_only=False)
    assert state["step"] == 4 and state["unet_cfg"]["layout_dim"] == cfg4.layout_dim and state["unet_cfg"]["layout_coords"]

    # the widened, layout-guided net exports and generates with the planned layout
    guided = train_unet.export_unet(fresh_run, tmp_path / "guided")
    clip = BuiltinModel(guided).generate(GenerationRequest(prompt="a red star moves right", seed=0, height=48,
                                                           width=80, frames=4, steps=2))
    assert clip.frames.shape == (4, 48, 80, 3)

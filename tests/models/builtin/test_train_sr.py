"""The upsampler's trainer: degraded pairs of one scene, crops, checkpoint/resume, and shipped weights the model uses."""

from __future__ import annotations

import shutil

import numpy as np
import torch

from storyreel.models.builtin import train_sr
from storyreel.models.builtin.model import BuiltinModel
from storyreel.models.builtin.upsampler import UpsamplerConfig
from storyreel.models.builtin.weights import WEIGHTS_DIR, load_upsampler, read_config, save_upsampler

TINY = UpsamplerConfig(channels=8, blocks=1)


def test_pairs_are_the_same_scene_at_both_sizes():
    cfg = train_sr.SRTrainConfig(ae_share=0.0, blur_share=0.0, noise=0.0)
    small, large = train_sr.degraded_pair(None, np.random.default_rng(0), "16:9", cfg, 4)
    assert small.shape == (16, 3, 48, 80) and large.shape == (16, 3, 192, 320)
    down = torch.nn.functional.avg_pool2d(large, 4)
    assert (down - small).abs().mean() < 0.05  # the large render, averaged down, is the small one


def test_training_resumes_and_the_exported_stage_makes_the_model_write_four_times_larger(tmp_path):
    lines: list[str] = []
    cfg = train_sr.SRTrainConfig(steps=2, batch=2, buffer_clips=2, checkpoint_every_s=1e9)
    train_sr.train_upsampler(cfg, tmp_path / "run", TINY, log=lines.append)
    cfg.steps = 3
    train_sr.train_upsampler(cfg, tmp_path / "run", TINY, log=lines.append)
    assert any("resumed upsampler at step 2" in s for s in lines)
    net, step = train_sr.load_run(tmp_path / "run")
    assert step == 3

    weights = tmp_path / "weights"
    shutil.copytree(WEIGHTS_DIR, weights)
    (weights / "upsampler.safetensors").unlink(missing_ok=True)
    save_upsampler(net, weights, {"upsampler_steps": step})
    assert load_upsampler(weights).cfg == TINY
    frames = np.zeros((4, 48, 80, 3), np.uint8)
    assert BuiltinModel(weights).upsample(frames).shape == (4, 192, 320, 3)


def test_a_model_pair_is_the_base_models_own_drawing_in_the_renders_place():
    cfg = train_sr.SRTrainConfig(model_share=1.0, model_strength=(0.4, 0.4), blur_share=0.0, noise=0.0)
    plain = train_sr.SRTrainConfig(ae_share=0.0, blur_share=0.0, noise=0.0)
    base = BuiltinModel()
    small, large = train_sr.degraded_pair(None, np.random.default_rng(0), "16:9", cfg, 4, base)
    render, same_large = train_sr.degraded_pair(None, np.random.default_rng(0), "16:9", plain, 4, base)
    assert torch.equal(large, same_large)  # the same scene: the target is the large render itself
    down = torch.nn.functional.avg_pool2d(large, 4)
    off = (small - render).abs().mean()
    assert 0.005 < off < 0.2  # the model redrew it (not the render as it is) ...
    assert (down - small).abs().mean() < 0.25  # ... in the render's place


def test_a_run_without_a_checkpoint_continues_from_the_shipped_upsampler(tmp_path):
    lines: list[str] = []
    shipped = int(read_config(WEIGHTS_DIR)["upsampler_steps"])
    cfg = train_sr.SRTrainConfig(steps=shipped + 1, batch=2, buffer_clips=2, checkpoint_every_s=1e9, model_share=0.5)
    net = train_sr.train_upsampler(cfg, tmp_path / "run", log=lines.append)
    assert any("continuing from the upsampler" in s and f"step {shipped}" in s for s in lines)
    assert net.cfg == load_upsampler().cfg and train_sr.load_run(tmp_path / "run")[1] == shipped + 1

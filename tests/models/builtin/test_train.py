"""Training the built-in model: object-weighted loss, checkpoints and resume (tiny configs, seconds)."""

from __future__ import annotations

import torch

from storyreel.models.builtin import train
from storyreel.models.builtin.dit import DiTConfig, VideoDiT
from storyreel.models.builtin.flow import flow_loss


def test_object_weight_is_high_where_objects_are_and_one_elsewhere():
    masks = torch.zeros(1, 2, 48, 80, dtype=torch.bool)
    masks[:, :, 20:28, 40:48] = True  # an 8x8 object: two 4x4 latent cells wide and high
    w = train.object_weight(masks, 4, 4.0)
    assert w.shape == (1, 2, 12, 20)
    assert torch.allclose(w[0, 0, 5:7, 10:12], torch.tensor(5.0))  # on the object
    assert float(w[0, 0, 4, 10]) == 3.0  # beside it: half the extra weight
    assert float(w[0, 0, 0, 0]) == 1.0 and float(w.min()) == 1.0


def test_uniform_weight_leaves_the_flow_loss_unchanged():
    torch.manual_seed(0)
    model = VideoDiT(DiTConfig(dim=32, depth=1, heads=2, text_dim=384))
    x0 = torch.randn(2, 4, 4, 12, 20)
    text = (torch.randn(2, 3, 384), torch.ones(2, 3, dtype=torch.bool), torch.randn(2, 384))
    args = (model, x0, *text, torch.zeros(2, 4), torch.zeros(2, dtype=torch.bool))
    torch.manual_seed(1)
    plain = flow_loss(*args)
    torch.manual_seed(1)
    weighted = flow_loss(*args, torch.full((2, 4, 12, 20), 3.0))
    assert torch.allclose(plain, weighted)


def test_training_checkpoints_and_resumes(tmp_path, monkeypatch):
    monkeypatch.setattr(train, "WEIGHTS_V1_DIR", tmp_path / "none")  # start from scratch, not the shipped weights
    cfg = train.TrainConfig(stage="dit", steps=2, batch=2, buffer_size=20, checkpoint_every_s=1e9)
    tiny = DiTConfig(dim=32, depth=1, heads=2)
    lines: list[str] = []
    train.train_dit(cfg, tmp_path, tiny, log=lines.append)
    state = torch.load(tmp_path / "dit.pt", weights_only=False)
    assert state["step"] == 2
    cfg3 = train.TrainConfig(stage="dit", steps=3, batch=2, buffer_size=20, checkpoint_every_s=1e9)
    train.train_dit(cfg3, tmp_path, tiny, log=lines.append)
    assert "resumed transformer at step 2" in lines
    state = torch.load(tmp_path / "dit.pt", weights_only=False)
    assert state["step"] == 3
    # a longer schedule warmed up again from where it resumed, instead of jumping up the cosine
    assert state["schedule"] == (3, 2) and any("warms up again from step 2" in line for line in lines)
    assert train.learning_rate(cfg3, 2) < 0.05 * train.learning_rate(train.TrainConfig(steps=3, warmup=0), 2)
    # the same schedule resumed: no new warm-up
    lines.clear()
    train.train_dit(cfg3, tmp_path, tiny, log=lines.append)
    assert not any("warms up again" in line for line in lines) and cfg3.warmup_start == 2


def test_cli_fresh_refuses_to_overwrite_a_checkpoint(tmp_path):
    from typer.testing import CliRunner

    from storyreel.cli import app

    (tmp_path / "dit.pt").write_bytes(b"checkpoint")
    res = CliRunner().invoke(app, ["train", "builtin", "--stage", "dit", "--fresh", "--run-dir", str(tmp_path)])
    assert res.exit_code == 2
    assert "checkpoint exists" in res.output and (tmp_path / "dit.pt").read_bytes() == b"checkpoint"

"""`storyreel train builtin`: the v2 U-Net stage's refusals before any work (the training itself: tests/models/builtin)."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from storyreel.cli import app


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_unet_on_cuda_without_a_gpu_is_a_one_line_error(tmp_path):
    res = CliRunner().invoke(app, ["train", "builtin", "--stage", "unet", "--device", "cuda", "--run-dir", str(tmp_path)])
    assert res.exit_code != 0
    assert "--device cuda: no CUDA device" in res.output
    assert not list(tmp_path.iterdir())  # nothing written


def test_an_unknown_device_is_refused(tmp_path):
    res = CliRunner().invoke(app, ["train", "builtin", "--stage", "unet", "--device", "tpu", "--run-dir", str(tmp_path)])
    assert res.exit_code != 0 and "unknown device 'tpu'" in res.output


def test_sr_refuses_an_unknown_device_and_both_stages_refuse_to_export_without_a_run(tmp_path):
    res = CliRunner().invoke(app, ["train", "builtin", "--stage", "sr", "--device", "tpu", "--run-dir", str(tmp_path)])
    assert res.exit_code != 0 and "unknown device 'tpu'" in res.output
    res = CliRunner().invoke(app, ["train", "builtin", "--stage", "sr", "--export", "--run-dir", str(tmp_path)])
    assert res.exit_code != 0 and "sr.pt" in res.output and len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(app, ["train", "builtin", "--stage", "unet", "--export", "--run-dir", str(tmp_path)])
    assert res.exit_code != 0 and "unet.pt" in res.output and len(res.output.strip().splitlines()) == 1

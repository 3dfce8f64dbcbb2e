"""The diffusers backends (Wan, LTX-Video, CogVideoX) offline: tiny random pipelines, no GPU, no hub.

The pipelines are built by tiny_pipelines.py, saved with save_pretrained and
loaded through storyreel's real loading path with HF_HUB_OFFLINE=1 and an empty
Hugging Face cache. Then storyboards of a few shots go through each adapter
(2 steps) and the tests check frame counts, sizes, that conditioning frames
reach the pipeline and that a shot longer than one generation is chained.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from fakes import make_plan
from storyreel.errors import StoryreelError
from storyreel.models import chain
from storyreel.models.base import GenerationRequest
from storyreel.models.diffusers import FAMILIES, DiffusersOptions, open_model
from storyreel.models.registry import get_model
from storyreel.plan import CameraMove
from storyreel.render.cache import TakeCache
from storyreel.render.continuity import handoff_frame
from storyreel.render.takes import ShotSettings, native_frames_needed, native_size, run_in_order
from tiny_pipelines import build_for_session

ROOT = Path(__file__).resolve().parents[3]
WAN_REPO = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"


@pytest.fixture(scope="session")
def tiny_pipelines(tmp_path_factory):
    """{name: directory} of tiny random pipelines (tests/tiny_pipelines.py), built and saved once per session."""
    return build_for_session(tmp_path_factory)


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No hub: offline, and an empty Hugging Face cache (nothing real can be found by accident)."""
    import torch

    torch.set_num_threads(1)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    for key in [k for k in os.environ if k.startswith("STORYREEL_")]:
        monkeypatch.delenv(key)


CALLS: list[dict] = []  # every diffusers pipeline call of the test: {"pipeline": class name, **keyword arguments}


@pytest.fixture(autouse=True)
def pipeline_calls(monkeypatch):
    """Record the keyword arguments of every call of the pipeline classes the adapters use (a spy on diffusers)."""
    import diffusers

    CALLS.clear()
    for name in {n for family in FAMILIES.values() for n in family.pipeline_classes.values()}:
        cls = getattr(diffusers, name)

        def spy(self, *args, _real=cls.__call__, **kwargs):
            CALLS.append({"pipeline": type(self).__name__, **kwargs})
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", spy)
    return CALLS


def last_call() -> dict:
    return CALLS[-1]


def _model(path, size=(32, 48), frames=9, **kw):
    """A tiny pipeline behind the adapter, at a tiny native size, recording every generation with its call."""
    model = open_model(str(path), DiffusersOptions(size=size, frames=frames, **kw))
    model.calls = []
    generate = model.generate

    def recording(req, progress=None):
        clip = generate(req, progress=progress)
        model.calls.append((req, dict(last_call()), clip))
        return clip

    model.generate = recording
    return model


def _generate(plan, model, cache):
    return run_in_order(plan, model, cache, ShotSettings())


def _frames(n, h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def _pil_array(img) -> np.ndarray:
    return np.asarray(img.convert("RGB"))


def _continuous_plan(lengths):
    cams = [CameraMove(move="zoom_in", amount=0.2, continuous=True) for _ in lengths]
    return make_plan(lengths, cameras=cams, width=160, height=90)


# ----------------------------------------------------------------------------- names, grids, errors (no pipeline)


def test_registry_routes_names_repo_ids_and_directories(tiny_pipelines):
    assert get_model("builtin").name == "builtin"
    wan = get_model("wan2.1-t2v-1.3b")
    assert (wan.source, wan.native.fps, wan.native.frames, wan.native.height, wan.native.width) == (WAN_REPO, 16, 81, 480, 832)
    assert wan.capabilities == {"t2v", "v2v"}  # no official 1.3B image-to-video: no i2v, no extension
    assert get_model("wan2.1-t2v-14b").capabilities >= {"i2v", "extend"}
    assert get_model("wan2.2-ti2v-5b").capabilities == {"t2v", "i2v", "extend"}
    assert get_model("ltx-video").capabilities == {"t2v", "i2v", "extend", "connect", "v2v"}
    assert get_model("cogvideox-2b").capabilities == {"t2v", "v2v"}
    assert get_model("cogvideox-5b").capabilities == {"t2v", "i2v", "extend", "v2v"}
    by_repo = get_model(WAN_REPO)  # a named model's repo id gets that model's native format
    assert by_repo.native == wan.native
    local = get_model(str(tiny_pipelines["ltx"]))
    assert local.family == "ltx" and local.native.frame_rule == (8, 1) and local.native.size_multiple == 32
    with pytest.raises(StoryreelError, match="unknown model 'nonsense'"):
        get_model("nonsense")
    with pytest.raises(StoryreelError, match="not a saved diffusers pipeline"):
        get_model(str(ROOT / "examples"))


def test_without_the_gpu_extra_a_diffusers_model_plans_but_says_what_to_install(tiny_pipelines, monkeypatch):
    model = _model(tiny_pipelines["wan-t2v"])
    monkeypatch.setitem(sys.modules, "diffusers", None)  # as in a plain install: `import diffusers` fails
    assert "t2v" in model.capabilities  # what it can do is declared without diffusers
    req = GenerationRequest("a red circle", height=32, width=48, frames=9, steps=2)
    for call in (model.check_available, lambda: model.generate(req)):
        with pytest.raises(StoryreelError, match=r"not installed: pip install 'storyreel\[gpu\]'"):
            call()


def test_grids_give_valid_frame_counts_and_sizes():
    wan, ltx, cog = (get_model(n) for n in ("wan2.1-t2v-1.3b", "ltx-video", "cogvideox-5b"))
    assert [wan.native.valid_frames(n) for n in (2, 81, 82)] == [5, 81, 85]  # 4k+1
    assert [ltx.native.valid_frames(n) for n in (2, 100, 121)] == [9, 105, 121]  # 8k+1
    assert [cog.native.valid_frames(n) for n in (13, 48, 49)] == [17, 49, 49]  # 8k+1, see grid_from_configs
    assert wan.size_for(1280, 720) == (480, 832) and wan.size_for(720, 1280) == (832, 480)
    h, w = wan.size_for(1080, 1080)
    assert h == w and h % 16 == 0 and abs(h * w / (480 * 832) - 1) < 0.1
    h, w = ltx.size_for(2048, 858)  # 2.39:1
    assert h % 32 == 0 and w % 32 == 0 and abs(w / h - 2.39) < 0.2
    assert cog.size_for(720, 1280) == (480, 720)  # trained at one size: the edit crops
    assert get_model("wan2.2-ti2v-5b").native.size_multiple == 32


def test_requests_off_the_grid_are_refused_not_adapted(tiny_pipelines):
    wan = _model(tiny_pipelines["wan-t2v"])
    ok = GenerationRequest("a star", height=32, width=48, frames=9, steps=2)
    for bad, words in ((replace(ok, height=40), "divisible by 16"), (replace(ok, frames=10), "4k\\+1 frames, got 10"),
                       (replace(ok, first_frames=_frames(1, 32, 48)), "cannot start from a given frame"),
                       (replace(ok, video=_frames(5, 32, 48)), "5 frames, request asks for 9")):
        with pytest.raises(StoryreelError, match=words):
            wan.generate(bad)
    cog = get_model("cogvideox-5b")
    with pytest.raises(StoryreelError, match="at most 49 frames"):
        cog.check_request(GenerationRequest("x", height=480, width=720, frames=57))
    with pytest.raises(StoryreelError, match="frames: wan2.1-t2v-1.3b generates 4k\\+1 frames; 10 is not \\(next: 13\\)"):
        _ = open_model("wan2.1-t2v-1.3b", DiffusersOptions(frames=10)).native
    assert wan.calls == []  # refused before any pipeline call


def test_missing_weights_give_one_line_naming_the_repo_and_the_download_command(tmp_path):
    model = get_model("wan2.1-t2v-1.3b")
    for call in (model.check_available, model.identity,
                 lambda: model.generate(GenerationRequest("a star", height=480, width=832, frames=81))):
        with pytest.raises(StoryreelError) as e:
            call()
        msg = str(e.value)
        assert "\n" not in msg and WAN_REPO in msg and f"hf download {WAN_REPO}" in msg
    # a half-finished download says so
    snap = Path(os.environ["HF_HOME"]) / "hub" / f"models--{WAN_REPO.replace('/', '--')}"
    (snap / "refs").mkdir(parents=True)
    (snap / "refs" / "main").write_text("abc123")
    (snap / "snapshots" / "abc123").mkdir(parents=True)
    (snap / "snapshots" / "abc123" / "model_index.json").write_text('{"_class_name": "WanPipeline", "transformer": ["diffusers", "WanTransformer3DModel"]}')
    with pytest.raises(StoryreelError, match="only partly in the Hugging Face cache \\(missing transformer/\\)"):
        get_model("wan2.1-t2v-1.3b", DiffusersOptions(dtype="fp32")).check_available()
    # the image-to-video companion is checked up front too
    with pytest.raises(StoryreelError, match="Wan-AI/Wan2.1-I2V-14B-720P-Diffusers|Wan-AI/Wan2.1-T2V-14B-Diffusers"):
        get_model("wan2.1-t2v-14b").check_available()


def test_cli_without_weights_exits_2_with_one_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "storyreel.cli", "generate", "a star over the sea", "--model", "wan2.1-t2v-1.3b",
           "--seconds", "1", "-o", str(tmp_path / "x.mp4")]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    err = [line for line in (r.stdout + r.stderr).splitlines() if line.startswith("error")]
    assert r.returncode == 2 and len(err) == 1, r.stdout + r.stderr
    assert f"hf download {WAN_REPO}" in err[0] and "Traceback" not in r.stderr


@pytest.mark.slow
def test_render_without_weights_exits_2_with_one_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "OMP_NUM_THREADS": "1",
           "STORYREEL_DEMO_DIR": os.environ.get("STORYREEL_DEMO_DIR", str(Path.home() / ".cache" / "storyreel" / "demo"))}
    cmd = [sys.executable, "-m", "storyreel.cli", "render", "examples/minimal/storyboard.yaml", "--model",
           "wan2.1-t2v-1.3b", "-o", str(tmp_path / "x.mp4"), "--cache-dir", str(tmp_path / "takes")]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    err = [line for line in (r.stdout + r.stderr).splitlines() if line.startswith("error")]
    assert r.returncode == 2 and len(err) == 1, r.stdout + r.stderr
    assert WAN_REPO in err[0] and f"hf download {WAN_REPO}" in err[0] and "Traceback" not in r.stderr


def test_options_from_environment_and_offload_needs_a_gpu(monkeypatch):
    monkeypatch.setenv("STORYREEL_DTYPE", "bf16")
    monkeypatch.setenv("STORYREEL_CACHE", "fbc:0.2")
    monkeypatch.setenv("STORYREEL_GEN_SIZE", "832x480")
    monkeypatch.setenv("STORYREEL_VAE_TILING", "yes")
    o = DiffusersOptions.from_env()
    assert (o.dtype, o.cache, o.cache_threshold, o.size, o.vae_tiling) == ("bf16", "fbc", 0.2, (480, 832), True)
    with pytest.raises(StoryreelError, match="offload: offload=model needs a CUDA GPU"):
        open_model("wan2.1-t2v-1.3b", DiffusersOptions(offload="model", device="cpu"))
    with pytest.raises(StoryreelError, match="offload must be one of"):
        DiffusersOptions.from_mapping({"offload": "everything"})
    with pytest.raises(StoryreelError, match="unknown diffusers option 'tiling'"):
        DiffusersOptions.from_mapping({"tiling": True})


# ----------------------------------------------------------------------------- generation through each adapter


def _check_shots(model, plan, results):
    h, w = native_size(plan, model)
    for i, r in enumerate(results):
        need = native_frames_needed(plan, i, model)
        assert r.clip.frames.shape == (need, h, w, 3) and r.clip.frames.dtype == np.uint8
        assert r.clip.fps == model.native.fps
    for req, call, clip in model.calls:  # every generation on the grid, exactly what was asked
        assert req.frames == model.native.frames and call["num_frames"] == req.frames
        assert (call["height"], call["width"]) == (h, w) and call["num_inference_steps"] == 2
        assert clip.info["requested_frames"] == clip.info["generated_frames"] == req.frames


def _conditioned_calls(model):
    return [(req, call) for req, call, _ in model.calls if req.first_frames is not None]


@pytest.mark.parametrize("kind", ["wan", "cogvideox"])
def test_storyboard_through_wan_and_cogvideox_chains_and_conditions(tiny_pipelines, tmp_path, kind):
    """Three continuous shots; shot 2 is longer than one generation. Wan (16 fps) and CogVideoX (8 fps)
    continue through their image-to-video pipelines: the image they get is the exact conditioning frame."""
    t2v, i2v = (tiny_pipelines["wan-t2v"], tiny_pipelines["wan-i2v"]) if kind == "wan" else (
        tiny_pipelines["cogvideox-t2v"], tiny_pipelines["cogvideox-i2v"])
    model = _model(t2v, i2v_model=str(i2v), steps=2)
    plan = _continuous_plan([12, 36, 12])  # 0.5 s, 1.5 s, 0.5 s at 24 fps
    results = _generate(plan, model, TakeCache(tmp_path))
    _check_shots(model, plan, results)
    n_long = native_frames_needed(plan, 1, model)
    assert n_long > model.native.frames  # the long shot is chained ...
    shot2 = [c for c in model.calls if c[0].prompt == plan.shots[1].prompt]
    assert len(shot2) >= 2 and all(c[1]["pipeline"].endswith("ImageToVideoPipeline") for c in shot2)
    # ... and every conditioned generation's image is the last given frame: the hand-off or the chain overlap
    for req, call in _conditioned_calls(model):
        assert np.array_equal(_pil_array(call["image"]), req.first_frames[-1])
    first_of_shot2 = shot2[0][0]
    assert np.array_equal(first_of_shot2.first_frames[0], handoff_frame(plan, 0, results[0].clip.frames,
                                                                                 results[0].clip.fps))
    assert results[1].conditioned_on_previous and results[2].conditioned_on_previous
    assert model.pipelines.shared_with_i2v == ["text_encoder", "tokenizer", "vae"]  # identical files: loaded once
    # a chained generation continues from the previous generation's last frames
    prev_clip, (nxt_req, _, _) = shot2[0][2], shot2[1]
    assert np.array_equal(nxt_req.first_frames, prev_clip.frames[-len(nxt_req.first_frames):])


def test_storyboard_through_ltx_uses_text_image_and_condition_pipelines(tiny_pipelines, tmp_path):
    model = _model(tiny_pipelines["ltx"], size=(32, 64), frames=9, steps=2)
    plan = _continuous_plan([12, 30])  # shot 2 needs 8k+1 >= 31 native frames at 24 fps: chained
    results = _generate(plan, model, TakeCache(tmp_path))
    _check_shots(model, plan, results)
    pipes = [call["pipeline"] for _, call, _ in model.calls]
    assert pipes[0] == "LTXPipeline" and "LTXImageToVideoPipeline" in pipes and "LTXConditionPipeline" in pipes
    for req, call in _conditioned_calls(model):
        if call["pipeline"] == "LTXImageToVideoPipeline":  # a hand-off: one frame
            assert np.array_equal(_pil_array(call["image"]), req.first_frames[-1])
        else:  # chain extension: 4 given frames -> the last 8k+1 = 1 of them, as a condition at frame 0
            (cond,) = call["conditions"]
            assert cond.frame_index == 0 and np.array_equal(_pil_array(cond.image), req.first_frames[-1])
    # keyframes: connect lands on the given last frame, through the condition pipeline
    a, b = _frames(1, 32, 64, 1)[0], _frames(1, 32, 64, 2)[0]
    clip = chain.connect(model, GenerationRequest("bridge", seed=3, height=32, width=64, frames=17, steps=2), a, b)
    first, last = last_call()["conditions"]
    assert (first.frame_index, last.frame_index) == (0, 16) and clip.frames.shape == (17, 32, 64, 3)
    assert np.array_equal(_pil_array(last.image), b)


def test_extension_with_a_multi_frame_video_condition(tiny_pipelines):
    """Nine given frames fit LTX's 8k+1 rule: all nine condition the next generation."""
    model = _model(tiny_pipelines["ltx"], size=(32, 64), frames=17)
    given = _frames(9, 32, 64)
    clip = model.generate(GenerationRequest("more", height=32, width=64, frames=17, steps=2, first_frames=given))
    (cond,) = last_call()["conditions"]
    assert len(cond.video) == 9 and all(np.array_equal(_pil_array(f), g) for f, g in zip(cond.video, given))
    assert clip.info["conditioning_frames_used"] == 9 and clip.frames.shape == (17, 32, 64, 3)


def test_wan22_ti2v_conditions_itself_and_restyling(tiny_pipelines):
    ti2v = _model(tiny_pipelines["wan-ti2v"])
    assert ti2v.capabilities == {"t2v", "i2v", "extend"}
    img = _frames(1, 32, 48)
    clip = ti2v.generate(GenerationRequest("a star", height=32, width=48, frames=9, steps=2, first_frames=img))
    assert last_call()["pipeline"] == "WanImageToVideoPipeline" and clip.frames.shape == (9, 32, 48, 3)
    assert np.array_equal(_pil_array(last_call()["image"]), img[0])
    for name, size in (("wan-t2v", (32, 48)), ("cogvideox-t2v", (32, 48)), ("ltx", (32, 64))):
        model = _model(tiny_pipelines[name], size=size)
        src = _frames(9, *size)
        clip = model.generate(GenerationRequest("restyled", height=size[0], width=size[1], frames=9, steps=2, video=src, strength=0.5))
        assert clip.frames.shape == (9, *size, 3) and clip.info["mode"] == "v2v"


def test_same_seed_same_frames_identity_and_speed_options(tiny_pipelines, tmp_path):
    import shutil

    req = GenerationRequest("a star", seed=5, height=32, width=48, frames=9, steps=2)
    a = _model(tiny_pipelines["wan-t2v"])
    f1, f2 = a.generate(req).frames, a.generate(req).frames
    assert np.array_equal(f1, f2) and not np.array_equal(f1, a.generate(replace(req, seed=6)).frames)
    assert a.identity() == _model(tiny_pipelines["wan-t2v"]).identity()
    assert a.identity() != _model(tiny_pipelines["wan-t2v"], dtype="bf16").identity()
    copy = shutil.copytree(tiny_pipelines["wan-t2v"], tmp_path / "wan-copy")
    before = _model(copy).identity()
    cfg = copy / "scheduler" / "scheduler_config.json"
    cfg.write_text(cfg.read_text().replace('"shift": 7.0', '"shift": 5.0'))
    assert _model(copy).identity() != before  # a changed pipeline is a new identity (new cache keys)
    fast = _model(tiny_pipelines["wan-t2v"], cache="fbc", cache_threshold=0.5, vae_tiling=True)
    clip = fast.generate(req)
    assert clip.frames.shape == (9, 32, 48, 3) and clip.info["cache"] == "fbc:0.5"
    assert fast.pipelines.get("t2v").vae.use_tiling

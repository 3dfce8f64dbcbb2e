"""Provenance: the invisible watermark, OUT.manifest.json, C2PA credentials and `storyreel verify`."""

import json
import subprocess
import sys

import av
import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from helpers_media import make_plan, make_song
from storyreel import encode
from storyreel.cli import app
from storyreel.errors import StoryreelError
from storyreel.models.base import Clip, NativeFormat
from storyreel.models.builtin import world
from storyreel.provenance import watermark as wm
from storyreel.provenance.manifest import build_manifest, manifest_path, read_manifest, write_manifest
from storyreel.render import ShotResult, TakeRecord

runner = CliRunner()
SIZE = (640, 360)  # the watermark needs frames of a few hundred pixels; 720p is what render writes


def world_frames(seed: int, n: int, size=SIZE) -> list[np.ndarray]:
    return [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in world.sample(seed, 48, 80, n).video]


def reencode(src, dst, crf, size=None):
    with av.open(str(src)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    if size:
        frames = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
    with av.open(str(dst), "w") as c:
        s = c.add_stream("libx264", rate=24)
        s.height, s.width = frames[0].shape[:2]
        s.pix_fmt, s.options = "yuv420p", {"crf": str(crf), "preset": "ultrafast"}
        for f in frames:
            c.mux(s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        c.mux(s.encode(None))
    return dst


# ---------------------------------------------------------------- watermark


def test_watermark_reads_back_exactly_and_is_invisible():
    frames = world_frames(1, 4)
    marked = list(wm.watermark_frames(frames))
    assert all(m.shape == f.shape and m.dtype == np.uint8 for m, f in zip(marked, frames))
    r = wm.read_bits(marked)
    assert r.detected and r.bit_accuracy == 1.0 and r.payload == wm.PAYLOAD and r.payload_text == "storyrl v1"
    assert min(cv2.PSNR(f, m) for f, m in zip(frames, marked)) > 40
    assert max(np.abs(f.astype(int) - m).max() for f, m in zip(frames, marked)) <= 6
    assert not wm.read_bits(frames).detected  # the same frames without it


def test_watermark_survives_own_encode_a_crf28_reencode_and_half_size(tmp_path):
    frames = list(wm.watermark_frames(world_frames(2, 12)))
    own = encode.encode(iter(frames), len(frames), 24, SIZE, None, tmp_path / "own.mp4", crf=20)
    crf28 = reencode(own, tmp_path / "crf28.mp4", 28)
    half = reencode(own, tmp_path / "half.mp4", 23, size=(SIZE[0] // 2, SIZE[1] // 2))
    for path in (own, crf28, half):
        r = wm.detect(path)
        assert r.detected and r.bit_accuracy >= 0.95, (path.name, r)
    assert wm.detect(half).size == SIZE  # resized back to the embedding size


def test_unwatermarked_video_noise_and_black_are_not_detected(tmp_path):
    plain = encode.encode(iter(world_frames(3, 8)), 8, 24, SIZE, None, tmp_path / "plain.mp4", crf=20)
    assert not wm.detect(plain).detected
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8) for _ in range(4)]
    assert not wm.detect_frames(noise).detected
    black = wm.detect_frames([np.zeros((SIZE[1], SIZE[0], 3), np.uint8)] * 4)
    assert not black.detected and black.bit_accuracy == 0.0  # no evidence is not a match


def test_odd_and_tiny_frames_keep_their_shape():
    odd = np.full((181, 323, 3), 128, np.uint8)
    assert wm.Watermarker().embed(odd).shape == odd.shape
    tiny = np.full((40, 60, 3), 128, np.uint8)
    assert np.array_equal(wm.Watermarker().embed(tiny), tiny)


# ---------------------------------------------------------------- manifest


def _results(plan):
    out = []
    for s in plan.shots:
        takes = [TakeRecord(k, s.seed + 1_000_003 * k, f"key{s.index}-{k}") for k in range(2)]
        out.append(ShotResult(s.index, Clip(np.zeros((2, 8, 8, 3), np.uint8), 8.0), 1, takes))
    return out


def test_manifest_names_storyboard_song_models_and_every_shots_prompt_seed_and_take(tmp_path):
    song = make_song(tmp_path / "song.wav", 1.0)
    plan = make_plan([10, 14], song=str(song))
    plan.storyboard_hash = "abc123"
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not really a video")
    path = write_manifest(manifest_path(video), build_manifest(plan, _results(plan), video, models=["builtin"]))
    assert path == tmp_path / "v.manifest.json"
    m = read_manifest(path)
    assert m["generator"]["name"] == "storyreel" and m["models"] == ["builtin"] and m["ai_generated"]
    assert m["storyboard"]["hash"] == "abc123" and len(m["song"]["sha256"]) == 64 and len(m["video"]["sha256"]) == 64
    assert m["watermark"]["payload_hex"] == wm.PAYLOAD.hex()
    assert [(s["shot"], s["prompt"], s["take"], s["take_key"], s["seed"]) for s in m["shots"]] == [
        (1, "prompt 0", 2, "key0-1", 100 + 1_000_003), (2, "prompt 1", 2, "key1-1", 101 + 1_000_003)]
    assert not list(tmp_path.glob(".*tmp"))
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(StoryreelError, match="not a storyreel manifest"):
        read_manifest(tmp_path / "bad.json")


# ---------------------------------------------------------------- C2PA


@pytest.fixture(scope="module")
def creds(tmp_path_factory):
    pytest.importorskip("cryptography")
    from storyreel.provenance.c2pa_sign import make_test_credentials

    return make_test_credentials(tmp_path_factory.mktemp("keys"))


def test_c2pa_manifest_declares_ai_generated_and_reads_back(tmp_path, creds):
    from storyreel.provenance.c2pa_sign import read_c2pa, sign_mp4

    (cert, ca) = creds
    video = encode.encode(iter(world_frames(4, 4, (160, 96))), 4, 24, (160, 96), None, tmp_path / "v.mp4")
    assert read_c2pa(video) is None
    sign_mp4(video, cert, "test", {"models": ["builtin"], "storyboard_hash": "abc"})
    c = read_c2pa(video)
    assert c["ai_generated"] and c["digital_source_type"].endswith("trainedAlgorithmicMedia")
    assert c["validation_state"] == "Valid" and "signingCredential.untrusted" in c["status"]
    assert c["storyreel"]["storyboard_hash"] == "abc" and c["claim_generator"].startswith("storyreel")
    assert read_c2pa(video, trust_anchors=ca)["validation_state"] == "Trusted"
    assert encode.probe(video)["frames"] == 4  # still a playable MP4


def test_c2pa_credentials_are_checked_up_front(tmp_path, creds, monkeypatch):
    from storyreel.provenance.c2pa_sign import load_signer, resolve_credentials

    (cert, _) = creds
    monkeypatch.delenv("STORYREEL_C2PA_CERT", raising=False)
    monkeypatch.delenv("STORYREEL_C2PA_KEY", raising=False)
    assert resolve_credentials() is None
    with pytest.raises(StoryreelError, match="--c2pa-key"):
        resolve_credentials(cert.cert, None)
    (tmp_path / "bad.pem").write_text("nonsense")
    with pytest.raises(StoryreelError, match="PEM"):
        load_signer(resolve_credentials(tmp_path / "bad.pem", cert.key))
    monkeypatch.setenv("STORYREEL_C2PA_CERT", str(cert.cert))
    monkeypatch.setenv("STORYREEL_C2PA_KEY", str(cert.key))
    assert resolve_credentials() == cert


# ---------------------------------------------------------------- render + verify, end to end


class WorldModel:
    """A fast stand-in backend: the procedural world's drawing of a random scene per seed."""

    name = "worldfake"
    capabilities = frozenset({"t2v", "extend"})
    native = NativeFormat(fps=8.0, frames=16, height=48, width=80, size_multiple=16, frame_rule=(1, 0))
    calls = 0

    def identity(self):
        return "worldfake:1"

    def generate(self, req, progress=None):
        WorldModel.calls += 1
        return Clip(world.sample(req.seed % 100_000, req.height, req.width, req.frames).video, self.native.fps, req)


STORYBOARD = """\
title: Provenance reel
song: song.wav
output: {size: 640x360, fps: 24}
shots:
  - prompt: "a yellow star stays still over a meadow"
    length: 2 bars
  - prompt: "a red circle moves right in a day sky"
    transition: {kind: crossfade, beats: 1}
"""


@pytest.fixture()
def project(tmp_path, monkeypatch):
    import storyreel.models.registry as registry

    monkeypatch.setattr(registry, "get_model", lambda name, options=None: WorldModel())
    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("STORYREEL_POLICY", raising=False)
    make_song(tmp_path / "song.wav", 6.0)
    (tmp_path / "board.yaml").write_text(STORYBOARD)
    return tmp_path


def test_render_watermarks_writes_manifest_signs_and_verify_reports_it(project, creds, monkeypatch):
    (cert, ca) = creds
    monkeypatch.setenv("STORYREEL_C2PA_CERT", str(cert.cert))
    monkeypatch.setenv("STORYREEL_C2PA_KEY", str(cert.key))
    out = project / "out" / "reel.mp4"
    res = runner.invoke(app, ["render", str(project / "board.yaml"), "-o", str(out), "--cache-dir", str(project / "cache")])
    assert res.exit_code == 0, res.output
    m = read_manifest(project / "out" / "reel.manifest.json")
    plan = json.loads((project / "out" / "reel.plan.json").read_text())
    assert [s["take_key"] for s in m["shots"]] == [s["takes"][s["take"]]["key"] for s in plan["shots"]]
    assert m["c2pa"]["embedded"] and m["models"] == ["worldfake"]

    res = runner.invoke(app, ["verify", str(out), "--trust", str(ca)])
    text = " ".join(res.output.split())
    assert res.exit_code == 0, res.output
    assert "watermark detected: storyrl v1 (bit accuracy 100.0%" in text
    assert "the video's hash matches" in text and "Trusted" in text and "declares AI-generated" in text
    rep = json.loads(runner.invoke(app, ["verify", str(out), "--json"]).output)
    assert rep["watermark"]["detected"] and rep["c2pa"]["ai_generated"] and rep["manifest"]["shots"] == 2

    plain = encode.encode(iter(world_frames(9, 8)), 8, 24, SIZE, None, project / "plain.mp4")
    res = runner.invoke(app, ["verify", str(plain)])
    assert res.exit_code == 1 and "not detected" in res.output and "no storyreel provenance" in res.output


def test_verify_a_missing_file_is_a_clear_error_as_a_subprocess(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "storyreel.cli", "verify", str(tmp_path / "nope.mp4")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "file not found" in proc.stderr and "Traceback" not in proc.stderr

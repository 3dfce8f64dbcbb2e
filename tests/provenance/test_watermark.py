"""The invisible watermark: reads back exactly, is invisible, survives re-encoding and resizing, and is not
found where there is none."""

import av
import cv2
import numpy as np

from fakes import SIZE, world_frames
from storyreel.output import encode
from storyreel.provenance import watermark as wm

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

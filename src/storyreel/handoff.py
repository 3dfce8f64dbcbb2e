"""Hand-off to an editor: one MP4 per shot beside the video, and FCP7 XML / CMX 3600 EDL of the timeline.

`ShotMediaWriter` splits the finished frame stream at the plan's shot
boundaries while the main video is encoded, writing OUT.shots/shot_NN.mp4
(silent H.264, exactly the shot's output frames at the output fps, each file
written to a temporary name and renamed when complete). The clips hold the
frames of the finished cut, so a transition's blend is in the clips on both
sides of its cut; the OTIO timeline also marks it as a Transition.

`write_interchange` writes the OTIO timeline through OpenTimelineIO's
adapter plug-ins: FCP7 XML (`otio-fcp-adapter`) and CMX 3600 EDL
(`otio-cmx3600-adapter`), each only when its plug-in is installed. The EDL
holds the video track only, with every transition as a dissolve (the only
kind CMX 3600 has); in both, a transition whose clips have no handles (the
per-shot files, whose blends are already in their frames) becomes a cut.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import av
import cv2
import numpy as np

from . import encode
from .errors import StoryreelError
from .plan import ShotPlan

INTERCHANGE = {"fcp_xml": ".xml", "cmx_3600": ".edl"}  # OTIO adapter -> file suffix


def shots_folder(out: str | os.PathLike) -> Path:
    """OUT.mp4 -> OUT.shots/ beside it."""
    out = Path(out)
    return out.with_name(out.stem + ".shots")


def shot_paths(plan: ShotPlan, folder: str | os.PathLike) -> list[Path]:
    """shot_01.mp4 ... (zero-padded to the number of shots, at least 2 digits)."""
    digits = max(2, len(str(len(plan.shots))))
    return [Path(folder) / f"shot_{i + 1:0{digits}d}.mp4" for i in range(len(plan.shots))]


class ShotMediaWriter:
    """Push the output frames in order; each shot's frames go to their own MP4."""

    def __init__(self, plan: ShotPlan, folder: str | os.PathLike, *, crf: int = 20, preset: str = "veryfast",
                 metadata: dict | None = None):
        self.plan, self.crf, self.preset, self.metadata = plan, crf, preset, metadata or {}
        self.folder = Path(folder)
        self.paths = shot_paths(plan, self.folder)
        self._g = 0  # next global frame
        self._shot = -1
        self._container = self._stream = None
        self._tmp: Path | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoryreelError(f"cannot create the shots folder ({e.strerror or e})", file=str(self.folder)) from None

    def _open(self, i: int) -> None:
        path = self.paths[i]
        self._tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
        c = av.open(str(self._tmp), "w", format="mp4", options={"movflags": "+faststart"})
        for key, value in {**self.metadata, "title": f"shot {i + 1:02d}"}.items():
            c.metadata[encode._MP4_KEYS.get(key, key)] = str(value)
        s = c.add_stream("libx264", rate=encode._rate(self.plan.fps))
        s.width, s.height, s.pix_fmt = self.plan.width, self.plan.height, "yuv420p"
        s.options = {"crf": str(self.crf), "preset": self.preset}
        cc = s.codec_context
        cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = (encode.BT601,) * 3 + (encode.RANGE_MPEG,)
        self._container, self._stream, self._shot, self._n = c, s, i, 0

    def _finish(self) -> None:
        self._container.mux(self._stream.encode(None))
        self._container.close()
        os.replace(self._tmp, self.paths[self._shot])
        self._container = self._stream = self._tmp = None

    def push(self, rgb: np.ndarray) -> None:
        """The next output frame (H, W, 3) uint8."""
        shot_i = self._shot if self._shot >= 0 else 0
        while self._g >= self.plan.shots[shot_i].end_frame:
            shot_i += 1
        if shot_i != self._shot:
            if self._container is not None:
                self._finish()
            self._open(shot_i)
        vf = av.VideoFrame.from_ndarray(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420), format="yuv420p")
        vf.pts, vf.time_base = self._n, 1 / encode._rate(self.plan.fps)
        self._container.mux(self._stream.encode(vf))
        self._n += 1
        self._g += 1
        if self._g == self.plan.shots[shot_i].end_frame:
            self._finish()

    def close(self) -> list[Path]:
        """Check every shot was written; the paths of the shot files."""
        if self._g != self.plan.frames:
            self.abort()
            raise ValueError(f"the shot writer got {self._g} of {self.plan.frames} frames")
        keep = set(self.paths)
        for stale in self.folder.glob("shot_*.mp4"):  # from an earlier render with more shots
            if stale not in keep:
                stale.unlink(missing_ok=True)
        return self.paths

    def abort(self) -> None:
        """Drop the shot being written (its temporary file)."""
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - already failing; just clean up
                pass
            self._container = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


def tee_shots(frames: Iterable[np.ndarray], writer: ShotMediaWriter) -> Iterator[np.ndarray]:
    """Yield `frames` unchanged while writing each to its shot's file; aborts the writer on error."""
    try:
        for frame in frames:
            writer.push(frame)
            yield frame
    except BaseException:
        writer.abort()
        raise


def available_interchange() -> dict[str, str]:
    """{adapter name: file suffix} for the FCP7 XML / CMX 3600 adapters that are installed."""
    import opentimelineio as otio

    names = {a.name for a in otio.plugins.ActiveManifest().adapters}
    return {name: suffix for name, suffix in INTERCHANGE.items() if name in names}


def _with_available_ranges(timeline):
    """A copy in which every media reference states its available range (FCP7 XML needs one for each file)."""
    import opentimelineio as otio

    tl = timeline.deepcopy()
    for clip in tl.find_clips():
        ref = clip.media_reference
        if isinstance(ref, otio.schema.ExternalReference) and ref.available_range is None:
            sr = clip.source_range
            ref.available_range = otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, sr.start_time.rate), sr.end_time_exclusive())
    return tl


def _has_handles(track, i: int) -> bool:
    """Whether the clips either side of the transition at track[i] have the media it overlaps."""
    import opentimelineio as otio

    tr = track[i]
    before = track[i - 1] if i > 0 else None
    after = track[i + 1] if i + 1 < len(track) else None
    if not isinstance(before, otio.schema.Clip) or not isinstance(after, otio.schema.Clip):
        return False
    a_avail, b_avail = before.media_reference.available_range, after.media_reference.available_range
    if a_avail is None or b_avail is None:
        return True  # nothing to check against
    return (after.source_range.start_time - tr.in_offset >= b_avail.start_time
            and before.source_range.end_time_exclusive() + tr.out_offset <= a_avail.end_time_exclusive())


def _drop_transitions_without_handles(tl):
    """Remove transitions whose clips lack handles (per-shot files: the blend is already in the clips)."""
    import opentimelineio as otio

    for track in tl.video_tracks():
        for i in reversed(range(len(track))):
            if isinstance(track[i], otio.schema.Transition) and not _has_handles(track, i):
                del track[i]
    return tl


def edl_safe(timeline):
    """A copy of the timeline that CMX 3600 can hold: video track only, and dissolves only (EDL has no custom wipes)."""
    import opentimelineio as otio

    tl = timeline.deepcopy()
    for track in list(tl.tracks):
        if track.kind != otio.schema.TrackKind.Video:
            tl.tracks.remove(track)
    for track in tl.tracks:
        for item in track:
            if isinstance(item, otio.schema.Transition) and item.transition_type != otio.schema.TransitionTypes.SMPTE_Dissolve:
                item.transition_type = otio.schema.TransitionTypes.SMPTE_Dissolve
    return tl


def write_interchange(timeline, out: str | os.PathLike, formats: Iterable[str] | None = None) -> dict[str, Path]:
    """Write OUT.xml (FCP7) and/or OUT.edl (CMX 3600) beside OUT.mp4; {adapter: path} of what was written."""
    import opentimelineio as otio

    from .export import _atomic_write

    out = Path(out)
    have = available_interchange()
    written = {}
    for name in formats if formats is not None else have:
        if name not in have:
            continue
        tl = _drop_transitions_without_handles(
            edl_safe(timeline) if name == "cmx_3600" else _with_available_ranges(timeline))
        try:
            text = otio.adapters.write_to_string(tl, name)
        except Exception as e:  # noqa: BLE001 - a plug-in's own error, reported with its name
            raise StoryreelError(f"the {name} adapter could not write the timeline ({type(e).__name__}: {e})",
                                 file=str(out.with_suffix(have[name]))) from None
        written[name] = _atomic_write(out.with_name(out.stem + have[name]), text.encode("utf-8"))
    return written

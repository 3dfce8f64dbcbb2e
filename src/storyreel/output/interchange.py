"""The timeline for other editors: FCP7 XML and CMX 3600 EDL, through OpenTimelineIO's adapter plug-ins.

`write_interchange` writes the OTIO timeline as FCP7 XML (`otio-fcp-adapter`)
and CMX 3600 EDL (`otio-cmx3600-adapter`), each only when its plug-in is
installed. The EDL holds the video track only, with every transition as a
dissolve (the only kind CMX 3600 has); in both, a transition whose clips have
no handles (the per-shot files, whose blends are already in their frames)
becomes a cut.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import opentimelineio as otio

from ..errors import StoryreelError
from ..fsio import Outputs, atomic_write

INTERCHANGE = {"fcp_xml": ".xml", "cmx_3600": ".edl"}  # OTIO adapter -> file suffix


def available_interchange() -> dict[str, str]:
    """{adapter name: file suffix} for the FCP7 XML / CMX 3600 adapters that are installed."""
    names = {a.name for a in otio.plugins.ActiveManifest().adapters}
    return {name: suffix for name, suffix in INTERCHANGE.items() if name in names}


def _with_available_ranges(timeline):
    """A copy in which every media reference states its available range (FCP7 XML needs one for each file)."""
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
    for track in tl.video_tracks():
        for i in reversed(range(len(track))):
            if isinstance(track[i], otio.schema.Transition) and not _has_handles(track, i):
                del track[i]
    return tl


def edl_safe(timeline):
    """A copy of the timeline that CMX 3600 can hold: video track only, and dissolves only (EDL has no custom wipes)."""
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
                                 file=str(Outputs.of(out).beside(have[name]))) from None
        written[name] = atomic_write(Outputs.of(out).beside(have[name]), text)
    return written

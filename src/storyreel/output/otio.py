"""The edit as an OpenTimelineIO timeline an editor can open.

`write_otio` lays the plan out as a timeline: one video clip per shot (named
"shot 01", ... numbered from 1 like the contact sheet), cut at the plan's
exact output frames, with the shot's transition as an OTIO Transition
(SMPTE_Dissolve for crossfade, Custom for zoom_through) whose in/out offsets
are the frames it extends before/after the cut (the plan's Cut, as the renderer
used it), section markers and one "bar N" marker per downbeat (when the
song's downbeats are given) on the video track, and the song on an audio
track. Clips reference the rendered MP4 (each clip's source range is its span
of the finished video, so transitions have real handles) or, when given,
per-shot files (each holding exactly that shot at the output fps).

Written atomically (fsio): a temporary file in the destination folder, renamed
into place when complete.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import opentimelineio as otio

from ..fsio import atomic_write
from ..plan import ShotPlan

RT = otio.opentime.RationalTime


TR = otio.opentime.TimeRange


MARKER_COLORS = ("RED", "ORANGE", "YELLOW", "GREEN", "CYAN", "BLUE", "PURPLE", "MAGENTA", "PINK")


OTIO_TRANSITION = {
    "crossfade": otio.schema.TransitionTypes.SMPTE_Dissolve,
    "zoom_through": otio.schema.TransitionTypes.Custom,
}


def _url(path: str) -> str:
    """A file:// URL for a local path (OTIO target_url)."""
    return Path(path).resolve().as_uri()


def _frames(n: int, fps: float) -> RT:
    return RT(n, fps)


def _shot_clip(plan: ShotPlan, i: int, media_path: str, shot_media: list[str] | None) -> otio.schema.Clip:
    """One video clip: the shot's frames of the finished video (or its own file), with its plan data."""
    shot, fps = plan.shots[i], plan.fps
    if shot_media is None:
        ref = otio.schema.ExternalReference(
            target_url=_url(media_path), available_range=TR(_frames(0, fps), _frames(plan.frames, fps))
        )
        source = TR(_frames(shot.start_frame, fps), _frames(shot.frames, fps))
    else:
        ref = otio.schema.ExternalReference(
            target_url=_url(shot_media[i]), available_range=TR(_frames(0, fps), _frames(shot.frames, fps))
        )
        source = TR(_frames(0, fps), _frames(shot.frames, fps))
    meta = {
        "index": shot.index,
        "prompt": shot.prompt,
        "text": shot.text,
        "seed": shot.seed,
        "section": shot.section,
        "bars": shot.bars,
        "start_bar": shot.start_bar,
        "era": shot.era,
        "model": shot.model,
        "camera": asdict(shot.camera),
        "transition": asdict(shot.transition),
        "timeline_frames": [shot.start_frame, shot.end_frame],
    }
    return otio.schema.Clip(
        name=f"shot {i + 1:02d}", media_reference=ref, source_range=source, metadata={"storyreel": meta}
    )


def _section_markers(plan: ShotPlan) -> list[otio.schema.Marker]:
    """One marker per run of consecutive shots in the same section, spanning the run."""
    markers, colours = [], {}
    i = 0
    while i < len(plan.shots):
        j = i
        while j + 1 < len(plan.shots) and plan.shots[j + 1].section == plan.shots[i].section:
            j += 1
        label = plan.shots[i].section
        colours.setdefault(label, MARKER_COLORS[len(colours) % len(MARKER_COLORS)])
        start, end = plan.shots[i].start_frame, plan.shots[j].end_frame
        markers.append(
            otio.schema.Marker(
                name=label,
                marked_range=TR(_frames(start, plan.fps), _frames(end - start, plan.fps)),
                color=colours[label],
            )
        )
        i = j + 1
    return markers


def downbeat_frames(plan: ShotPlan, downbeats: list[float]) -> list[int]:
    """Downbeat times (seconds) -> distinct output frames round(t * fps) inside the video, in order."""
    return sorted({round(t * plan.fps) for t in downbeats if 0 <= round(t * plan.fps) < plan.frames})


def _downbeat_markers(plan: ShotPlan, downbeats: list[float]) -> list[otio.schema.Marker]:
    """One zero-length marker per downbeat ("bar N"), so an editor can snap to the bars."""
    return [
        otio.schema.Marker(name=f"bar {n}", marked_range=TR(_frames(f, plan.fps), _frames(0, plan.fps)), color="WHITE",
                           metadata={"storyreel": {"kind": "downbeat", "bar": n}})
        for n, f in enumerate(downbeat_frames(plan, downbeats), start=1)
    ]


def build_timeline(
    plan: ShotPlan, media_path: str, shot_media: list[str] | None = None, downbeats: list[float] | None = None
) -> otio.schema.Timeline:
    """The plan as an OTIO Timeline (see module docstring); `downbeats` (seconds) add one marker per bar."""
    if shot_media is not None and len(shot_media) != len(plan.shots):
        raise ValueError(f"{len(shot_media)} shot media files for {len(plan.shots)} shots")
    fps = plan.fps
    tl = otio.schema.Timeline(name=plan.title, global_start_time=RT(0, fps))
    tl.metadata["storyreel"] = {
        "model": plan.model,
        "seed": plan.seed,
        "fps": plan.fps,
        "width": plan.width,
        "height": plan.height,
        "frames": plan.frames,
        "song": plan.song,
        "storyboard_hash": plan.storyboard_hash,
    }
    video = otio.schema.Track(name="video", kind=otio.schema.TrackKind.Video)
    for i, ov in enumerate(plan.cut.overlaps):
        if ov.kind != "cut":
            video.append(
                otio.schema.Transition(
                    name=ov.kind,
                    transition_type=OTIO_TRANSITION[ov.kind],
                    in_offset=_frames(ov.pre, fps),
                    out_offset=_frames(ov.post, fps),
                    metadata={"storyreel": {"kind": ov.kind, "beats": plan.shots[i].transition.beats}},
                )
            )
        video.append(_shot_clip(plan, i, media_path, shot_media))
    video.markers.extend(_section_markers(plan))
    video.markers.extend(_downbeat_markers(plan, downbeats or []))
    audio = otio.schema.Track(name="song", kind=otio.schema.TrackKind.Audio)
    song_ref = otio.schema.ExternalReference(target_url=_url(plan.song))
    audio.append(
        otio.schema.Clip(
            name=Path(plan.song).name,
            media_reference=song_ref,
            source_range=TR(_frames(0, fps), _frames(plan.frames, fps)),
        )
    )
    tl.tracks.extend([video, audio])
    return tl


def write_otio(
    plan: ShotPlan, out_path: str | os.PathLike, media_path: str, shot_media: list[str] | None = None,
    downbeats: list[float] | None = None,
) -> Path:
    """Write the plan's edit as an .otio file (atomic). media_path is the rendered MP4."""
    return write_timeline(build_timeline(plan, media_path, shot_media, downbeats), out_path)


def write_timeline(timeline: otio.schema.Timeline, out_path: str | os.PathLike) -> Path:
    """Write an already built timeline as an .otio file (atomic)."""
    return atomic_write(out_path, otio.adapters.write_to_string(timeline, "otio_json"))

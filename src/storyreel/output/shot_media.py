"""Every shot as its own MP4 beside the video (OUT.shots/shot_NN.mp4), split from the finished frame stream.

`ShotMediaWriter` splits the finished frame stream at the plan's shot
boundaries while the main video is encoded, writing silent H.264 files
(output.h264) holding exactly each shot's output frames at the output fps,
each written to a temporary name and renamed when complete. The clips hold
the frames of the finished cut, so a transition's blend is in the clips on
both sides of its cut; the OTIO timeline also marks it as a Transition.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from ..errors import StoryreelError
from ..fsio import atomic_path
from ..plan import ShotPlan
from .h264 import H264Writer


class ShotMediaWriter:
    """Push the output frames in order; each shot's frames go to their own MP4 (`paths`)."""

    def __init__(self, plan: ShotPlan, paths: list[Path], *, crf: int = 20, preset: str = "veryfast",
                 metadata: dict | None = None):
        if len(paths) != len(plan.shots):
            raise ValueError(f"{len(paths)} shot files for {len(plan.shots)} shots")
        self.plan, self.paths, self.crf, self.preset, self.metadata = plan, list(paths), crf, preset, metadata or {}
        self.folder = self.paths[0].parent
        self._g = 0  # next global frame
        self._shot = -1
        self._writer: H264Writer | None = None
        self._file = None  # the open atomic_path of the shot being written
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoryreelError(f"cannot create the shots folder ({e.strerror or e})", file=str(self.folder)) from None

    def _open(self, i: int) -> None:
        self._file = atomic_path(self.paths[i])
        tmp = self._file.__enter__()
        self._writer = H264Writer(tmp, self.plan.fps, (self.plan.width, self.plan.height), crf=self.crf,
                                  preset=self.preset, metadata={**self.metadata, "title": f"shot {i + 1:02d}"})
        self._shot = i

    def _finish(self) -> None:
        self._writer.finish()
        self._writer.close()
        self._file.__exit__(None, None, None)  # renamed into place
        self._writer = self._file = None

    def push(self, rgb: np.ndarray) -> None:
        """The next output frame (H, W, 3) uint8."""
        shot_i = self._shot if self._shot >= 0 else 0
        while self._g >= self.plan.shots[shot_i].end_frame:
            shot_i += 1
        if shot_i != self._shot:
            if self._writer is not None:
                self._finish()
            self._open(shot_i)
        self._writer.write(rgb)
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
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # noqa: BLE001 - already failing; just clean up
                pass
            self._writer = None
        if self._file is not None:
            try:
                self._file.__exit__(RuntimeError, RuntimeError("aborted"), None)  # deletes the temporary
            except RuntimeError:
                pass
            self._file = None


def tee_shots(frames: Iterable[np.ndarray], writer: ShotMediaWriter) -> Iterator[np.ndarray]:
    """Yield `frames` unchanged while writing each to its shot's file; aborts the writer on error."""
    try:
        for frame in frames:
            writer.push(frame)
            yield frame
    except BaseException:
        writer.abort()
        raise

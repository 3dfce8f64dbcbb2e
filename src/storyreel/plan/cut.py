"""The Cut: how the shots join, computed once from the plan's shots and read by everything that renders them.

A transition of f frames into shot B at boundary b covers output frames
[b - f//2, b - f//2 + f): it overlaps both shots. The outgoing shot A is
therefore rendered over [A.start, b + (f - f//2)) and the incoming B over
[b - f//2, B.end), each shot's own take stretched a little to supply the
overlap (no frozen frames, no borrowed footage). That range is the shot's
*span*. A transition is at most as long as the shorter of the two shots it
joins (`transition_cap`), so with pre = f//2 and post = f - pre the post of
one transition and the pre of the next always fit inside the shot between
them; a transition into the first shot is a cut.

Generation (how many native frames a shot needs), the continuity hand-off
(which frame the next shot starts from), the grade (which frames meet at a
cut), assembly and the OTIO timeline all read these spans and overlaps from
`ShotPlan.cut`; none of them computes them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..storyboard.vocabulary import TRANSITIONS


class _ShotLike(Protocol):
    """What the cut reads of a shot (plan.shotplan.Shot)."""

    start_frame: int
    end_frame: int

    @property
    def frames(self) -> int: ...


@dataclass(frozen=True)
class Overlap:
    """The transition into shot `index` as rendered: kind and frames before (pre) / after (post) its start."""

    index: int
    kind: str
    pre: int
    post: int

    @property
    def frames(self) -> int:
        return self.pre + self.post

    def window(self, boundary: int) -> tuple[int, int]:
        """Global output frames [start, end) covered by the transition."""
        return boundary - self.pre, boundary + self.post


def transition_cap(shots: Sequence[_ShotLike], index: int) -> int:
    """The longest transition into shot `index`: the shorter of the two shots it joins (0 for the first)."""
    return 0 if index == 0 else min(shots[index].frames, shots[index - 1].frames)


@dataclass(frozen=True)
class Cut:
    """Every shot's incoming transition (`overlaps`) and the output frames it is rendered over (`spans`)."""

    overlaps: tuple[Overlap, ...]
    spans: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, shots: Sequence, frames: int | None = None) -> "Cut":
        """The cut of `shots` (plan.shotplan.Shot: frames and `transition` kind and frames).

        ValueError for an unknown transition kind; lengths beyond `transition_cap` are clamped to it.
        """
        overlaps = []
        for i, shot in enumerate(shots):
            kind, f = shot.transition.kind, int(shot.transition.frames)
            if kind not in TRANSITIONS:
                raise ValueError(f"shot {i + 1}: unknown transition {kind!r}; expected one of {', '.join(TRANSITIONS)}")
            f = min(f, transition_cap(shots, i))
            if kind == "cut" or f <= 0:
                overlaps.append(Overlap(i, "cut", 0, 0))
            else:
                overlaps.append(Overlap(i, kind, f // 2, f - f // 2))
        spans = []
        for i, shot in enumerate(shots):
            post = overlaps[i + 1].post if i + 1 < len(shots) else 0
            spans.append((shot.start_frame - overlaps[i].pre, shot.end_frame + post))
        return cls(tuple(overlaps), tuple(spans))

    def into(self, index: int) -> Overlap:
        """The transition into shot `index`."""
        return self.overlaps[index]

    def out_of(self, index: int) -> Overlap | None:
        """The transition out of shot `index` (into the next one), or None for the last shot."""
        return self.overlaps[index + 1] if index + 1 < len(self.overlaps) else None

    def span(self, index: int) -> tuple[int, int]:
        """Output frames [start, end) shot `index` is rendered over, transition overlaps included."""
        return self.spans[index]

    def to_list(self) -> list[dict]:
        """One readable record per shot, for the plan JSON."""
        return [{"shot": o.index + 1, "kind": o.kind, "pre": o.pre, "post": o.post, "span": list(s)}
                for o, s in zip(self.overlaps, self.spans)]

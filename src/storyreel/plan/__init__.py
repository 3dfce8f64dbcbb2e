"""Planning: storyboard + song -> ShotPlan, frame-exact shots on the song's grid, and the Cut between them.

`make_plan(storyboard, music, capabilities=...)` (plan.build) decides where
every shot starts and ends, what it shows and how it joins the next. The rules:

Timing
    The video has `round(music.duration * fps)` frames. Every boundary
    between shots sits on a beat and is the integer frame `round(t * fps)`
    of that beat's time `t`, computed once from the beat time (never by
    adding shot lengths), so nothing drifts over a long song. The first shot
    starts at frame 0 (it absorbs any lead-in before the first downbeat) and
    the last ends at the final frame (it absorbs the tail after the last
    beat). Downbeats are matched to their nearest beat.

Lengths (`length:` on a shot)
    "2 bars" moves to the downbeat two bars on; "4 beats" four beats on;
    "3.5s" to the beat nearest 3.5 s after the shot's start. Fractions of a
    beat are rounded to the nearest beat. Lengths are consumed in order; if
    they run past the end of the song (or of their section) that is an
    error; if they end early, the last shot is held to the end (with a note).

`shots` mode
    Shots without a length share what the fixed-length shots leave, evenly,
    cut on downbeats (or on beats, with a note, if there are more shots than
    bars; more shots than beats is an error).

    A plain prompt list (no shot has a length) is a story told at the song's
    pace: `pacing` sets the bars per shot (slow 4, normal 2, fast 1; auto:
    from each song section's energy rank, quietest 4 ... loudest 1), and the
    prompts are spread in order over the resulting shots, each prompt held
    for one or more consecutive shots with fresh seeds. If that gives fewer
    shots than prompts, every prompt gets exactly one shot instead.

`sections` mode
    Each storyboard section is attached to a song section: by `section:`
    (a 1-based number, a label such as "B", or a name such as "chorus" when
    the analysis knows names; the next match after the previous storyboard
    section is taken, so "chorus" three times means the three choruses),
    otherwise the one after the previous storyboard section. If no section
    names one and the counts differ, the song's bars are divided among the
    storyboard sections in proportion to their `bars:` (or evenly), with a
    note. A storyboard section runs until the next one starts, so skipped
    song sections are covered by the section before them. Its bars are
    divided among its shots as in `shots` mode (pacing plays no part: the
    author chose the number of shots).

Looks
    A shot's prompt is "<text>, <era>, <style>" with `{name}` replaced by the
    character's description. The era is its section's `era`, else taken from
    the `timeline`: the two keyframes around the shot's midpoint are found
    and the nearer one is used (text cannot be blended, and a
    nearest-keyframe rule lets a look arrive halfway between keyframes).
    The camera is the storyboard default, overridden field by field by the
    section's and then the shot's. A transition's length in beats becomes
    frames at the local beat period, centred on the boundary, and is capped
    at the shorter of the two shots it joins. The first shot always starts
    with a cut.

What the backend cannot do
    Planning takes the capabilities the backend declares (no model is
    loaded). Without image conditioning ("i2v"), a continuous camera cannot
    carry across a cut, so each continuous cut becomes a one-beat
    zoom_through (at least 2 frames); without "reference", a character's
    reference image is passed but unused. Both are noted on the shot.

The Cut
    From the final shots the plan derives its Cut once (plan.cut): every
    shot's incoming transition as rendered and the output frames each shot
    is rendered over. Everything downstream reads it.

Seeds
    A shot's seed is its own `seed:` if given, else a hash of the base seed,
    the shot text and how many times that text has appeared before; so
    inserting a shot does not change the seeds (and cached takes) of others.
"""

from .build import derive_seed, full_prompt, make_plan
from .cut import Cut, Overlap, transition_cap
from .grid import Grid
from .io import plan_from_json, plan_to_json, read_plan
from .shotplan import CameraMove, Grade, Shot, ShotPlan, Transition

__all__ = [
    "CameraMove", "Cut", "Grade", "Grid", "Overlap", "Shot", "ShotPlan", "Transition", "derive_seed", "full_prompt",
    "make_plan", "plan_from_json", "plan_to_json", "read_plan", "transition_cap",
]

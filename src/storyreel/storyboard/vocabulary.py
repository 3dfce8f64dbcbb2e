"""The words a storyboard may use, in one place: camera moves, easings, transitions, pacings, grade matches.

The schema validates against these tuples, the planner and the edit act on
them, and error messages list them; nothing else spells them out.
"""

from __future__ import annotations

CAMERA_MOVES = ("static", "zoom_in", "zoom_out", "pan_left", "pan_right", "tilt_up", "tilt_down", "dolly_zoom", "shake")
ZOOM_MOVES = ("zoom_in", "zoom_out", "dolly_zoom")
PAN_MOVES = {"pan_left": (-1, 0), "pan_right": (1, 0), "tilt_up": (0, -1), "tilt_down": (0, 1)}  # (x, y) direction
EASINGS = ("linear", "ease_in", "ease_out", "ease_in_out")
TRANSITIONS = ("cut", "crossfade", "zoom_through")
PACINGS = ("auto", "slow", "normal", "fast")
GRADE_MATCHES = ("previous", "reference")
DEMO_SONG = "demo"  # `song: demo`: the bundled demo song

"""The contact sheet is a sane PNG, one numbered still per shot; timecodes read as people write them."""

from __future__ import annotations

import numpy as np
from PIL import Image

from fakes import make_plan, make_take
from storyreel.output.contact_sheet import contact_sheet
from storyreel.output.text import timecode
from storyreel.plan import Transition


def _plan():
    trans = [
        Transition(),
        Transition("crossfade", 1, 8),
        Transition("zoom_through", 1, 7),
        Transition(),
        Transition("crossfade", 1, 30),
    ]
    return make_plan(
        [24, 30, 18, 40, 12], transitions=trans, sections=["A", "A", "B", "B", "A"], song="/music/song.wav"
    )


def test_contact_sheet(tmp_path):
    plan = _plan()
    thumbs = [make_take(1, 48, 80, seed=i)[0] for i in range(len(plan.shots))]
    out = contact_sheet(thumbs, plan, tmp_path / "sheet.png", cols=3)
    img = Image.open(out)
    assert img.format == "PNG"
    w, h = img.size
    assert 3 * 240 < w < 3 * 240 + 100  # three columns of 240 px thumbnails
    assert 2 * 135 < h < 2 * 135 + 200  # two rows of 16:9 thumbnails, labels and a title
    px = np.asarray(img)
    assert px.std() > 10  # not blank
    assert [p.name for p in tmp_path.iterdir()] == ["sheet.png"]


def test_timecode():
    assert timecode(0) == "00:00.0" and timecode(72.46) == "01:12.5" and timecode(599.99) == "10:00.0"

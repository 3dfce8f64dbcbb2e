"""Rendered-MIDI training songs: the bars the annotations claim are the bars the notes play, and the MIDI
file says what the arrangement says."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from storyreel.music.midi_songs import CRASH, KICK, STYLES, TICKS_PER_SECOND, midi_bytes, random_arrangement


def test_every_style_gives_steady_beats_and_bars_of_its_meter():
    for i, style in enumerate(STYLES):
        arr = random_arrangement(np.random.default_rng(i), seconds=20.0, style=style)
        assert arr.style == style and arr.beats_per_bar == STYLES[style]["meter"][0]
        period = np.diff(arr.beats)
        assert np.all(period > 0)
        assert np.all(np.abs(period / (60.0 / arr.bpm) - 1.0) < 0.35), style  # drift and a ritardando only
        assert np.allclose(arr.downbeats, arr.beats[:: arr.beats_per_bar])
        assert arr.beats[-1] < arr.duration and max(n.t for n in arr.notes) < arr.duration
        # no beat in the ring-out: the last beat's bar is played
        assert max(n.t for n in arr.notes) > arr.downbeats[-1] - 0.05, style
        assert arr.beats[-1] * arr.bpm / 60.0 >= 20.0 * arr.bpm / 60.0 - 2 * arr.beats_per_bar


def test_kicks_and_crashes_sit_on_the_annotated_grid():
    """A rock beat's kicks fall on beats 1 and 3 of the annotated bars; crashes only on downbeats."""
    arr = random_arrangement(np.random.default_rng(3), seconds=30.0, style="rock")
    kicks = np.array([n.t for n in arr.notes if n.channel == 9 and n.pitch == KICK])
    crashes = np.array([n.t for n in arr.notes if n.channel == 9 and n.pitch == CRASH])
    on_beats = arr.beats[(np.arange(len(arr.beats)) % 4) % 2 == 0]  # beats 1 and 3
    nearest = lambda t, grid: np.min(np.abs(t[:, None] - grid[None, :]), axis=1)  # noqa: E731
    assert len(kicks) > 10 and np.all(nearest(kicks, on_beats) < 0.04)
    assert len(crashes) >= 1 and np.all(nearest(crashes, arr.downbeats) < 0.04)
    # and the kicks are not spread over every beat: the bar is audible
    off = arr.beats[(np.arange(len(arr.beats)) % 4) % 2 == 1]
    assert np.all(nearest(kicks, off) > 0.1)


def _parse(data: bytes) -> list[tuple[float, int, int, int]]:
    """(seconds, status, pitch, velocity) of the note events of a format-0 file."""
    assert data[:4] == b"MThd" and data[14:18] == b"MTrk"
    i, tick, out = 22, 0, []
    while i < len(data):
        delta = 0
        while True:
            b = data[i]
            i += 1
            delta = (delta << 7) | (b & 0x7F)
            if b < 0x80:
                break
        tick += delta
        status = data[i]
        if status == 0xFF:
            length = data[i + 2]
            i += 3 + length
        elif status & 0xF0 == 0xC0:
            i += 2
        else:
            out.append((tick / TICKS_PER_SECOND, status, data[i + 1], data[i + 2]))
            i += 3
    return out


def test_the_midi_file_plays_the_arrangement():
    arr = random_arrangement(np.random.default_rng(5), seconds=10.0, style="waltz")
    events = _parse(midi_bytes(arr))
    ons = sorted(t for t, st, _, _ in events if st & 0xF0 == 0x90)
    offs = [t for t, st, _, _ in events if st & 0xF0 == 0x80]
    assert len(ons) == len(offs) == len(arr.notes)
    want = sorted(max(0.0, round(n.t * TICKS_PER_SECOND) / TICKS_PER_SECOND) for n in arr.notes)
    assert np.allclose(ons, want, atol=1.5 / TICKS_PER_SECOND)
    drums = [p for t, st, p, _ in events if st == 0x99]
    assert KICK in drums


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="the fluidsynth program is a training-time tool")
def test_rendered_song_starts_its_notes_where_the_arrangement_says():
    from storyreel.music.beatnet_data import SOUNDFONT, rendered

    if not SOUNDFONT.exists():
        pytest.skip("no GM soundfont")
    arr = random_arrangement(np.random.default_rng(1), seconds=6.0, style="disco")
    y = rendered(midi_bytes(arr))
    env = np.convolve(np.abs(y), np.ones(64) / 64, mode="same")
    first = np.argmax(env > 0.05 * env.max()) / 22050
    assert abs(first - min(n.t for n in arr.notes)) < 0.03

"""The beat network's training data views: transposed and remixed real songs keep their beats in place."""

from __future__ import annotations

import numpy as np

from storyreel.music import beatnet
from storyreel.music.beatnet import SR
from storyreel.music.beatnet_train import MIDI_STRETCHES, REAL_VARIANTS, STRETCHES, prepare, variant

BEATS = np.arange(0.5, 3.6, 0.5)


def clicks_and_tone(seconds: float = 4.0) -> np.ndarray:
    """A 440 Hz tone under a sharp click on every beat."""
    t = np.arange(int(seconds * SR)) / SR
    y = 0.3 * np.sin(2 * np.pi * 440 * t)
    for b in BEATS:
        i = int(b * SR)
        y[i : i + 64] += np.hanning(64) * np.sign(np.sin(np.arange(64)))
    return y.astype(np.float32)


def click_times(y: np.ndarray) -> np.ndarray:
    """Times of the clicks: the largest jumps of the signal, one per 0.2 s."""
    d = np.abs(np.diff(y))
    times = []
    for a in range(0, len(d), int(0.2 * SR)):
        seg = d[a : a + int(0.2 * SR)]
        if seg.max() > 0.5:
            times.append((a + int(seg.argmax())) / SR)
    return np.array(times)


def test_a_transposed_song_plays_faster_and_its_beats_follow():
    y = clicks_and_tone()
    for name in ("+2", "-2"):
        z, rate = variant(y, name)
        assert abs(rate - 2 ** (int(name) / 12)) < 1e-3
        assert abs(len(z) - len(y) / rate) <= 2
        assert np.allclose(click_times(z), BEATS / rate, atol=0.003)
        spectrum = np.abs(np.fft.rfft(z))
        assert abs(np.fft.rfftfreq(len(z), 1 / SR)[spectrum.argmax()] - 440 * rate) < 3  # the tone moved


def test_a_remix_turns_one_part_down_and_keeps_the_timing():
    y = clicks_and_tone()
    tone = np.fft.rfftfreq(len(y), 1 / SR)
    at_440 = int(np.argmin(np.abs(tone - 440)))

    def tone_level(z):
        return np.abs(np.fft.rfft(z))[at_440]

    def click_level(z):
        return np.abs(np.diff(z)).max()

    drums_down, r1 = variant(y, "drums-down")
    harmony_down, r2 = variant(y, "harmony-down")
    assert r1 == r2 == 1.0 and len(drums_down) == len(harmony_down) == len(y)
    assert tone_level(harmony_down) < 0.5 * tone_level(drums_down)
    assert click_level(drums_down) < 0.7 * click_level(harmony_down)


def test_with_real_views_real_songs_get_every_variant_and_generated_ones_do_not(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    y = clicks_and_tone()
    for stem, weight in (("gtzan_pop.00001", 4.0), ("synth_000", 1.0), ("midi_000", 1.0)):
        np.savez(data / f"{stem}.npz", y=y, beats=BEATS, downbeats=BEATS[::2], weight=weight)
    plain = prepare(data, tmp_path / "plain")
    assert len(plain) == 2 * len(STRETCHES) + len(MIDI_STRETCHES)  # the shipped recipe: no extra views
    items = prepare(data, tmp_path / "cache", real_views=True)
    assert len(items) == len(REAL_VARIANTS) * len(STRETCHES) + len(STRETCHES) + len(MIDI_STRETCHES)
    real = items[: len(REAL_VARIANTS) * len(STRETCHES)]
    assert abs(sum(w for _, _, w in real) / len(STRETCHES) - 8.0) < 1e-9  # five views of weight 4 count twice, not five times
    x, target, _ = real[len(STRETCHES) * REAL_VARIANTS.index("+2") + STRETCHES.index(1.0)]
    frames = np.flatnonzero(target[0] == 1.0)
    assert np.allclose(frames * beatnet.HOP / SR, BEATS / 2 ** (2 / 12), atol=1.5 * beatnet.HOP / SR)
    assert len(prepare(data, tmp_path / "cache", real_views=True)) == len(items)  # read back from the cache
    lighter = prepare(data, tmp_path / "cache", real_views=True, view_weight=0.2)[: len(real)]
    assert abs(sum(w for _, _, w in lighter) / len(STRETCHES) - 4.0) < 1e-9  # at 0.2 the views weigh one song

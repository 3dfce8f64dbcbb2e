"""Tempo, meter and bar phase from activations: the bar-pointer Viterbi and the confidences."""

from __future__ import annotations

import numpy as np
import pytest

from storyreel.music.barpointer import decode
from storyreel.music.tracking import tempo_confidence, track

FPS = 86.1328125  # 22050 / 256


def activations(bpm: float, meter: int, seconds: float = 30.0, first: float = 0.5, down: float = 0.9,
                other: float = 0.05, mids: float = 0.02) -> np.ndarray:
    """(2, T) clean activations: a beat every 60/bpm s from `first`, downbeats every `meter` beats."""
    t_n = int(seconds * FPS)
    act = np.full((2, t_n), 0.01)
    period = 60.0 / bpm
    for i, t in enumerate(np.arange(first, seconds - 0.1, period)):
        f = int(round(t * FPS))
        act[0, f] = 0.95
        act[1, f] = down if i % meter == 0 else other
        mid = int(round((t + period / 2) * FPS))
        if mid < t_n:
            act[0, mid] = max(act[0, mid], mids)
    return act


@pytest.mark.parametrize("bpm,meter", [(150.0, 3), (96.0, 4), (72.0, 4), (180.0, 4)])
def test_meter_tempo_and_phase_come_back(bpm, meter):
    got = track(activations(bpm, meter), FPS, np.ones(int(30 * FPS)))
    assert got.meter == meter
    times = got.beat_frames / FPS
    assert 60.0 / np.median(np.diff(times)) == pytest.approx(bpm, rel=0.02)
    assert times[got.is_downbeat][0] == pytest.approx(0.5, abs=0.015)
    assert got.confidence["tempo"] > 0.8 and got.confidence["downbeat"] > 0.8


def test_forced_meter_is_decoded_at_that_meter():
    got = track(activations(120.0, 4), FPS, np.ones(int(30 * FPS)), beats_per_bar=3)
    assert got.meter == 3 and got.confidence["meter"] == 1.0


def test_every_bar_phase_looking_alike_is_unsure_of_the_downbeat():
    got = track(activations(120.0, 4, down=0.3, other=0.3), FPS, np.ones(int(30 * FPS)))
    assert got.confidence["downbeat"] < 0.5


def test_strong_half_way_points_or_weak_alternate_beats_make_the_tempo_unsure():
    """Off-beats nearly as strong as the beats: the beat may be twice as fast; every other beat weak: half."""
    act = activations(70.0, 4, mids=0.7)
    frames = np.flatnonzero(act[0] > 0.9)
    assert tempo_confidence(act[0], frames) < 0.5
    assert tempo_confidence(activations(70.0, 4)[0], frames) > 0.9
    weak = act[0].copy()
    weak[frames[1::2]] = 0.2
    assert tempo_confidence(weak, frames) < 0.5


def test_silence_gets_no_beats():
    act = activations(120.0, 4)
    rms = np.ones(act.shape[1])
    rms[: int(5 * FPS)] = 0.0  # five seconds of digital silence
    got = track(act, FPS, rms)
    assert got.beat_frames.min() / FPS > 4.5


def test_decode_follows_a_tempo_change():
    a, b = activations(100.0, 4, seconds=20.0), activations(110.0, 4, seconds=20.0, first=0.0)
    d = decode(np.concatenate([a, b], axis=1), FPS, 4)
    gaps = np.diff(d.beats) / FPS
    assert 60 / np.median(gaps[:20]) == pytest.approx(100, rel=0.03)
    assert 60 / np.median(gaps[-20:]) == pytest.approx(110, rel=0.03)

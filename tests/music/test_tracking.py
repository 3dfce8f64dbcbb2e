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


def test_a_secondary_accent_on_beat_three_stays_four_four():
    """Beat 3 of a 4/4 bar is often half as strong as beat 1 in the downbeat activation: not two bars of 2."""
    act = activations(110.0, 4)
    beats = np.flatnonzero(act[0] > 0.9)
    act[1, beats[2::4]] = 0.3
    got = track(act, FPS, np.ones(act.shape[1]))
    assert got.meter == 4
    assert got.beat_frames[got.is_downbeat][0] == beats[0]


def test_two_beats_a_bar_when_forced():
    got = track(activations(100.0, 2), FPS, np.ones(int(30 * FPS)), beats_per_bar=2)
    assert got.meter == 2
    assert got.beat_frames[got.is_downbeat][0] == int(round(0.5 * FPS))
    assert np.all(np.diff(np.flatnonzero(got.is_downbeat)) == 2)


def test_local_gain_keeps_how_sure_a_downbeat_is_against_its_beat():
    """Both rows get the beat row's gain: a downbeat activation half the beat activation stays half of it
    in a quiet stretch (scaled by its own maximum it became a sure downbeat)."""
    from storyreel.music.tracking import _local_gain

    act = activations(96.0, 4, down=0.5, other=0.02)
    act[:, : act.shape[1] // 2] *= 0.3  # a quiet first half
    got = _local_gain(act, FPS)
    beats = np.flatnonzero(act[0] > 0.2)
    assert np.allclose(got[1, beats] / got[0, beats], act[1, beats] / act[0, beats])
    quiet = beats[beats < act.shape[1] // 2 - 4 * FPS]  # 4 s from the loud half: outside its window
    assert len(quiet) > 10 and np.all(got[0, quiet] > 0.9)


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


def _onsets_until(act: np.ndarray, stop: float, fade: float | None = None) -> np.ndarray:
    """(T,) onset strength: 1 on each beat until `stop` s (falling off from `fade` s on), then none."""
    onset = np.full(act.shape[1], 0.01)
    for f in np.flatnonzero(act[0] > 0.9):
        t = f / FPS
        if t <= stop:
            onset[f] = 1.0 if fade is None or t < fade else 0.75 ** ((t - fade) * 2)
    return onset


def test_a_ring_out_gets_no_beats_even_where_the_network_half_hears_them():
    """The music stops at 20 s; in the reverb tail the network still gives 0.2 on the grid and the Viterbi
    counts on: the onsets say it has stopped, so no beat is kept after the last one played."""
    act = activations(150.0, 3, seconds=30.0)
    frames = np.flatnonzero(act[0] > 0.9)
    onset = _onsets_until(act, 20.0)
    act[0, frames[frames > 20.0 * FPS]] = 0.2
    got = track(act, FPS, np.ones(act.shape[1]), onset=onset)
    assert got.beat_frames[-1] == frames[frames <= 20.0 * FPS][-1]
    kept = track(act, FPS, np.ones(act.shape[1]))  # the network alone keeps the tail
    assert kept.beat_frames[-1] > 25.0 * FPS


def test_a_fade_out_keeps_its_beats():
    act = activations(100.0, 4, seconds=30.0)
    frames = np.flatnonzero(act[0] > 0.9)
    onset = _onsets_until(act, 30.0, fade=20.0)
    act[0, frames[frames > 20.0 * FPS]] = 0.3
    got = track(act, FPS, np.ones(act.shape[1]), onset=onset)
    assert got.beat_frames[-1] == frames[-1]

"""Beats in two or in three: onsets at the thirds of the beat make a compound meter (6/8, 12/8)."""

from __future__ import annotations

import numpy as np
import pytest

from storyreel.music.subdivision import subdivision, time_signature


def onsets(period: float, fractions: tuple[float, ...], n_beats: int = 40, noise: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """(onset curve, beat positions): a strong onset on each beat and weaker ones at `fractions` of it."""
    rng = np.random.default_rng(0)
    beats = 10 + period * np.arange(n_beats)
    x = rng.uniform(0, noise, int(beats[-1] + 2 * period))
    for b in beats:
        x[int(round(b))] = 1.0
        for f in fractions:
            x[int(round(b + f * period))] = 0.5
    return x, beats


@pytest.mark.parametrize("period", [20.0, 43.0, 60.0])
def test_eighths_and_sixteenths_are_in_two(period):
    for fr in [(0.5,), (0.25, 0.5, 0.75)]:
        sub, conf = subdivision(*onsets(period, fr))
        assert sub == 2 and conf > 0.5, (period, fr)


@pytest.mark.parametrize("period", [30.0, 43.0, 60.0])
def test_triplets_and_a_shuffle_are_in_three(period):
    for fr in [(1 / 3, 2 / 3), (2 / 3,)]:
        sub, conf = subdivision(*onsets(period, fr))
        assert sub == 3 and conf > 0.5, (period, fr)


def test_nothing_between_the_beats_is_unsure():
    sub, conf = subdivision(*onsets(43.0, ()))
    assert conf < 0.5
    assert subdivision(np.zeros(100), np.array([1.0, 2.0])) == (2, 0.0)


def test_time_signature_names():
    assert [time_signature(m, 2) for m in (2, 3, 4)] == ["2/4", "3/4", "4/4"]
    assert [time_signature(m, 3) for m in (2, 3, 4)] == ["6/8", "9/8", "12/8"]
    assert time_signature(5, 3) == "5/4"

"""Render a SongSpec to audio: one-shot drums at event positions, tonal parts note by note, a mix.

Everything is numpy: one-shot drums are added at event positions, tonal parts are
rendered note by note with vectorised oscillators, and the pad bus is rendered at
half rate (it is low-passed anyway) and upsampled, so four minutes take a few seconds.
"""

from __future__ import annotations

import numpy as np

# scipy.signal is imported inside the synthesis functions: it takes seconds to import, and a render
# that finds the demo song already synthesised needs none of this module.
from .songspec import GroundTruth, PartSpec, SongSpec, Timeline, bass_note, check_spec, chord_notes, hz, pad_voicing, timeline


def synth_song(spec: SongSpec, sr: int = 22050) -> tuple[np.ndarray, GroundTruth]:
    """Render `spec` to mono float32 audio at `sr` (peak about -1 dBFS) and return it with its ground truth."""
    check_spec(spec)
    tl = timeline(spec)
    rng = np.random.default_rng(spec.seed)
    n = int(round(tl.truth.duration * sr))
    r = SongRenderer(spec, tl, sr, n, rng)
    return r.mix(), tl.truth


# --- oscillators and one-shots --------------------------------------------------------------------


def _saw(freq: float, n: int, sr: int, phase0: float = 0.0, vib: np.ndarray | None = None) -> np.ndarray:
    """Band-limited (polyBLEP) sawtooth: bright like an analogue saw without the aliasing hiss."""
    f = freq * (1.0 + vib) if vib is not None else np.full(n, freq)
    dt = f / sr
    t = (phase0 + np.cumsum(dt) - dt[0]) % 1.0
    y = 2.0 * t - 1.0
    lo = t < dt
    x = t[lo] / dt[lo]
    y[lo] -= 2.0 * x - x * x - 1.0
    hi = t > 1.0 - dt
    x = (t[hi] - 1.0) / dt[hi]
    y[hi] -= x * x + 2.0 * x + 1.0
    return y


def _env(n: int, sr: int, attack: float, release: float, hold: int) -> np.ndarray:
    """Linear attack, sustain until sample `hold`, exponential-ish release after it."""
    t = np.arange(n) / sr
    a = np.minimum(1.0, t / max(attack, 1e-4))
    rel = np.clip((np.arange(n) - hold) / (release * sr), 0.0, 1.0)
    return a * (1.0 - rel) ** 2


def _kick(sr: int) -> np.ndarray:
    t = np.arange(int(0.45 * sr)) / sr
    freq = 48.0 + 110.0 * np.exp(-t / 0.035)  # pitch sweep gives the thump
    body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.22)
    click = np.exp(-t / 0.004) * 0.4
    return (body + click) * np.minimum(1.0, t / 0.002)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    from scipy import signal
    t = np.arange(int(0.3 * sr)) / sr
    sos = signal.butter(2, [900, 6000], btype="bandpass", fs=sr, output="sos")
    noise = signal.sosfilt(sos, rng.standard_normal(len(t)))
    # three quick bursts: a clap layered on the snare
    clap = sum(np.exp(-np.maximum(t - d, 0) / 0.012) * (t >= d) for d in (0.0, 0.011, 0.022))
    tone = np.sin(2 * np.pi * 185 * t) * np.exp(-t / 0.05)
    return 0.5 * noise * (np.exp(-t / 0.11) + 0.6 * clap) + 0.35 * tone


def _hat(sr: int, rng: np.random.Generator, decay: float) -> np.ndarray:
    from scipy import signal
    t = np.arange(int(min(0.5, 6 * decay) * sr)) / sr
    sos = signal.butter(4, 6500, btype="highpass", fs=sr, output="sos")
    return signal.sosfilt(sos, rng.standard_normal(len(t))) * np.exp(-t / decay)


def _add(buf: np.ndarray, at: float, sr: int, sample: np.ndarray, gain: float) -> None:
    i = int(round(at * sr))
    if i >= len(buf):
        return
    k = min(len(sample), len(buf) - i)
    buf[i : i + k] += gain * sample[:k]


# --- rendering ------------------------------------------------------------------------------------

_KICKS = {"four": (0.0, 1.0, 2.0, 3.0), "backbeat": (0.0, 1.5, 2.0)}


class SongRenderer:
    """Renders each bus of a song into its own buffer; `mix` sums them into the master."""

    def __init__(self, spec: SongSpec, tl: Timeline, sr: int, n: int, rng: np.random.Generator):
        self.spec, self.tl, self.sr, self.n, self.rng = spec, tl, sr, n, rng
        self.m = spec.beats_per_bar

    # Where in a bar each drum hits, in beats (3/4 is a waltz: kick on one, snares on two and three).
    def _pattern(self, inst: str) -> list[tuple[float, float]]:
        m = self.m
        eighths = [i / 2 for i in range(2 * m)]
        if inst == "kick":
            beats = _KICKS[self.spec.kick_pattern] if m == 4 else (0.0,) if m == 3 else tuple(range(m))
            return [(b, 1.0 if b == 0 else 0.9) for b in beats if b < m]
        if inst == "snare":
            return [(1.0, 1.0), (3.0, 1.0)] if m == 4 else [(float(b), 0.55) for b in range(1, m)]
        if inst == "hats":
            return [(e, 0.55 if e % 1 else 0.8) for e in eighths]
        if inst == "openhat":
            return [(b + 0.5, 0.6) for b in range(m)]
        return []

    def _swung(self, pos: float) -> float:
        return pos + self.spec.swing / 6.0 if (pos % 1.0) == 0.5 else pos

    def _gain(self, part: PartSpec) -> float:
        return 10 ** (part.gain_db / 20)

    def drums(self) -> tuple[np.ndarray, np.ndarray]:
        """(dry drums, reverb send)."""
        sr, rng = self.sr, self.rng
        samples = {
            "kick": (_kick(sr), 0.7),
            "snare": (_snare(sr, rng), 0.4),
            "hats": (_hat(sr, rng, 0.025), 0.16),
            "openhat": (_hat(sr, rng, 0.14), 0.12),
        }
        dry = np.zeros(self.n)
        send = np.zeros(self.n)
        for bar in self.tl.bars:
            g = self._gain(bar.part)
            for inst, (sample, level) in samples.items():
                if inst not in bar.part.instruments:
                    continue
                for pos, vel in self._pattern(inst):
                    vel *= 1.0 + 0.08 * rng.standard_normal()  # a human-ish velocity spread
                    at = float(self.tl.time(bar.first_beat + self._swung(pos)))
                    _add(dry, at, sr, sample, g * level * vel)
                    if inst == "snare":
                        _add(send, at, sr, sample, g * level * vel)
        return dry, send

    def pump(self) -> np.ndarray:
        """Sidechain-style gain: ducks after every beat of a part with a kick, recovers in ~150 ms."""
        sr = self.sr
        t = np.arange(self.n) / sr
        beats = self.tl.beat_times[:-1]
        idx = np.clip(np.searchsorted(beats, t, side="right") - 1, 0, len(beats) - 1)
        since = t - beats[idx]
        depth = np.zeros(self.n)
        for part, start, end in self.tl.part_spans:
            if "kick" in part.instruments:
                depth[int(start * sr) : int(end * sr)] = 0.55
        return 1.0 - depth * np.exp(-since / 0.15) * (since >= 0)

    def pads(self) -> np.ndarray:
        """Detuned saw chords, low-passed per part, rendered at half rate and upsampled."""
        from scipy import signal
        sr2 = self.sr // 2
        n2 = self.n // 2 + 1
        out = np.zeros(n2)
        t_all = np.arange(n2) / sr2
        wow = 0.0025 * np.sin(2 * np.pi * 0.23 * t_all)  # slow tape wobble: the chillwave haze
        for part, start, end in self.tl.part_spans:
            if "pad" not in part.instruments:
                continue
            bus = np.zeros(n2)
            bars = [b for b in self.tl.bars if b.part is part]
            # merge consecutive bars with the same chord into one held chord
            spans: list[tuple[str, int, int]] = []
            for b in bars:
                if spans and spans[-1][0] == b.chord:
                    spans[-1] = (b.chord, spans[-1][1], b.first_beat + self.m)
                else:
                    spans.append((b.chord, b.first_beat, b.first_beat + self.m))
            for chord, b0, b1 in spans:
                t0, t1 = float(self.tl.time(b0)), float(self.tl.time(b1))
                i0 = int(t0 * sr2)
                hold = int((t1 - t0) * sr2)
                length = min(hold + int(0.6 * sr2), n2 - i0)
                if length <= 0:
                    continue
                env = _env(length, sr2, attack=0.25, release=0.6, hold=hold)
                vib = wow[i0 : i0 + length]
                for k, note in enumerate(pad_voicing(chord)):
                    f = float(hz(note))
                    for det in (-0.004, 0.004):  # two voices ~7 cents apart beat slowly against each other
                        bus[i0 : i0 + length] += env * _saw(f * (1 + det), length, sr2, phase0=0.31 * k, vib=vib)
            cutoff = 350.0 + 3200.0 * part.brightness**1.5
            sos = signal.butter(2, min(cutoff, 0.45 * sr2), fs=sr2, output="sos")
            out += signal.sosfilt(sos, bus) * self._gain(part)
        up = signal.resample_poly(out, 2, 1)[: self.n]
        return np.pad(up, (0, self.n - len(up))) * 0.1

    def bass(self) -> np.ndarray:
        """Round sine bass with a little drive: root on one, octave/fifth pickups."""
        sr = self.sr
        out = np.zeros(self.n)
        m = self.m
        # (start beat, length beats, semitones above root)
        pattern = [(0.0, 1.5, 0), (1.5, 0.5, 12), (2.0, 1.0, 0), (3.0, 1.0, 7)] if m == 4 else [(0.0, 2.0, 0), (2.0, 1.0, 7)]
        if m not in (3, 4):
            pattern = [(float(b), 1.0, 0) for b in range(m)]
        for bar in self.tl.bars:
            if "bass" not in bar.part.instruments:
                continue
            root = bass_note(bar.chord)
            g = self._gain(bar.part)
            for pos, dur, semi in pattern:
                t0 = float(self.tl.time(bar.first_beat + self._swung(pos)))
                t1 = float(self.tl.time(bar.first_beat + pos + dur))
                i0 = int(t0 * sr)
                hold = int((t1 - t0) * sr * 0.9)
                length = min(hold + int(0.05 * sr), self.n - i0)
                if length <= 0:
                    continue
                t = np.arange(length) / sr
                f = float(hz(root + semi))
                x = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)
                env = _env(length, sr, attack=0.006, release=0.05, hold=hold) * (0.7 + 0.3 * np.exp(-t / 0.2))
                out[i0 : i0 + length] += np.tanh(1.5 * x) * env * g * 0.32
        return out

    def lead(self) -> np.ndarray:
        """A soft saw lead with vibrato and a dotted-eighth echo, one motif per chord, repeated."""
        from scipy import signal
        sr = self.sr
        out = np.zeros(self.n)
        motif_rng = np.random.default_rng(self.spec.seed + 101)
        motifs: dict[str, list[tuple[float, float, int]]] = {}
        for bar in self.tl.bars:
            if "lead" not in bar.part.instruments:
                continue
            if bar.chord not in motifs:
                motifs[bar.chord] = self._motif(bar.chord, motif_rng)
            g = self._gain(bar.part)
            for pos, dur, note in motifs[bar.chord]:
                t0 = float(self.tl.time(bar.first_beat + self._swung(pos)))
                t1 = float(self.tl.time(bar.first_beat + pos + dur))
                i0 = int(t0 * sr)
                hold = int((t1 - t0) * sr * 0.95)
                length = min(hold + int(0.15 * sr), self.n - i0)
                if length <= 0:
                    continue
                t = np.arange(length) / sr
                vib = 0.004 * np.sin(2 * np.pi * 5.2 * t) * np.minimum(1.0, t / 0.3)
                x = 0.6 * _saw(float(hz(note)), length, sr, vib=vib) + 0.8 * np.sin(2 * np.pi * float(hz(note)) * t)
                out[i0 : i0 + length] += x * _env(length, sr, 0.02, 0.15, hold) * g * 0.28
        sos = signal.butter(2, 2800, fs=sr, output="sos")
        out = signal.sosfilt(sos, out)
        return _echo(out, sr, float(np.median(np.diff(self.tl.beat_times))) * 0.75)

    def _motif(self, chord: str, rng: np.random.Generator) -> list[tuple[float, float, int]]:
        root, ivs = chord_notes(chord)
        tones = sorted({72 + (root + iv - 72) % 12 for iv in ivs})
        rhythm = [(0.0, 1.5), (1.5, 0.5), (2.0, 1.0), (3.0, 1.0)] if self.m == 4 else [(0.0, 1.0), (1.0, 1.0), (2.0, 1.0)]
        return [(pos, dur, int(rng.choice(tones))) for pos, dur in rhythm]

    def arp(self) -> np.ndarray:
        """Sixteenth-note plucked arpeggio over the chord, up and down."""
        from scipy import signal
        sr = self.sr
        out = np.zeros(self.n)
        for bar in self.tl.bars:
            if "arp" not in bar.part.instruments:
                continue
            notes = pad_voicing(bar.chord)[:-1]
            notes = [x + 12 for x in notes]
            seq = notes + notes[-2:0:-1]
            g = self._gain(bar.part)
            for k in range(4 * self.m):
                pos = k / 4
                t0 = float(self.tl.time(bar.first_beat + pos))
                i0 = int(t0 * sr)
                length = min(int(0.35 * sr), self.n - i0)
                if length <= 0:
                    continue
                t = np.arange(length) / sr
                x = _saw(float(hz(seq[k % len(seq)])), length, sr) * np.exp(-t / 0.12) * np.minimum(1, t / 0.003)
                out[i0 : i0 + length] += x * g * (0.2 if k % 4 else 0.26)
        sos = signal.butter(2, 2200, fs=sr, output="sos")
        return _echo(signal.sosfilt(sos, out), sr, float(np.median(np.diff(self.tl.beat_times))) * 0.75)

    def fade(self) -> np.ndarray:
        """Master gain: 1, then a squared ramp to silence over the last `fade_out_bars` bars."""
        g = np.ones(self.n)
        k = self.spec.fade_out_bars
        if k > 0:
            bars = self.tl.bars
            t0 = float(self.tl.time(bars[max(0, len(bars) - k)].first_beat))
            t1 = float(self.tl.beat_times[-1]) + 0.5
            t = np.arange(self.n) / self.sr
            x = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
            g = (1.0 - x) ** 2
        return g

    def mix(self) -> np.ndarray:
        sr = self.sr
        drums, snare_send = self.drums()
        pump = self.pump()
        pads = self.pads() * pump
        bass = self.bass() * (0.5 + 0.5 * pump)
        lead = self.lead()
        arp = self.arp()
        wet = _reverb(pads * 0.7 + lead + arp + 0.25 * snare_send, sr, self.rng)
        master = drums + pads + bass + lead + arp + 0.3 * wet
        master *= self.fade()
        master = np.tanh(1.1 * master) / np.tanh(1.1)  # gentle glue
        peak = float(np.max(np.abs(master))) or 1.0
        return (master * (0.89 / peak)).astype(np.float32)


def _echo(x: np.ndarray, sr: int, delay: float, feedback: float = 0.35, taps: int = 4) -> np.ndarray:
    d = int(delay * sr)
    y = x.copy()
    for k in range(1, taps + 1):
        y[k * d :] += x[: len(x) - k * d] * feedback**k
    return y


def _reverb(x: np.ndarray, sr: int, rng: np.random.Generator, seconds: float = 1.8) -> np.ndarray:
    """Convolution with decaying, darkened noise: a cheap, smooth hall."""
    from scipy import signal
    t = np.arange(int(seconds * sr)) / sr
    ir = rng.standard_normal(len(t)) * np.exp(-t / (seconds / 6.9))  # -60 dB at `seconds`
    ir = signal.sosfilt(signal.butter(1, 3500, fs=sr, output="sos"), ir)
    ir[: int(0.02 * sr)] = 0.0  # pre-delay keeps the dry attack clear
    ir /= np.sqrt(np.sum(ir**2))
    return signal.oaconvolve(x, ir)[: len(x)]

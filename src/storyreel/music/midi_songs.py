"""Random band arrangements as General MIDI, with exact beat and bar times: training songs for the beat TCN.

Real recordings with bar annotations are scarce (the GTZAN tuning split has 40), and the network learned
them by heart. These songs give it many more bars, with the cues that mark a bar in real music: a kick
on 1 (or on 3 in a one-drop), chord changes on the bar line, the bass root on the downbeat, crashes at
phrase starts and fills before them, in ten drum styles and 2/4, 3/4, 4/4, 6/8 and 12/8, played by
General MIDI instruments. A soundfont synthesiser renders them (music.beatnet_data, through the
`fluidsynth` program: a training-time tool only, never needed by analysis or the tests).

Everything here is timed in seconds; the MIDI file runs at a fixed 120 BPM with 480 ticks per quarter
(960 ticks a second), so a tempo drift or a ritardando is just where the notes are.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

TICKS_PER_SECOND = 960  # 480 per quarter at the file's fixed 120 BPM

# style -> (meters it plays in, steps per beat, kick, snare, hat steps within one bar of that meter)
# steps index a grid of beats_per_bar * steps_per_beat cells; the bar's meter is (beats, steps per beat).
STYLES: dict[str, dict] = {
    "rock": dict(meter=(4, 4), kick=[0, 8], snare=[4, 12], hat=list(range(0, 16, 2)), tempo=(85, 160)),
    "rock2": dict(meter=(4, 4), kick=[0, 6, 8, 10], snare=[4, 12], hat=list(range(0, 16, 2)), tempo=(90, 150)),
    "disco": dict(meter=(4, 4), kick=[0, 4, 8, 12], snare=[4, 12], hat=[2, 6, 10, 14], open=True, tempo=(105, 130)),
    "hiphop": dict(meter=(4, 4), kick=[0, 3, 10], snare=[4, 12], hat=list(range(16)), tempo=(70, 100)),
    "halftime": dict(meter=(4, 4), kick=[0, 3], snare=[8], hat=list(range(0, 16, 2)), tempo=(120, 175)),
    "onedrop": dict(meter=(4, 4), kick=[8], snare=[8], hat=list(range(0, 16, 2)), skank=True, tempo=(65, 90)),
    "swing": dict(meter=(4, 3), kick=[0], snare=[], ride=[0, 3, 5, 6, 9, 11], pedal=[3, 9], walk=True, tempo=(90, 200)),
    "shuffle": dict(meter=(4, 3), kick=[0, 6], snare=[3, 9], hat=[0, 2, 3, 5, 6, 8, 9, 11], tempo=(60, 110)),
    "waltz": dict(meter=(3, 4), kick=[0], snare=[4, 8], hat=list(range(0, 12, 2)), tempo=(80, 190)),
    "sixeight": dict(meter=(2, 3), kick=[0], snare=[3], hat=list(range(6)), tempo=(50, 100)),
    "march": dict(meter=(2, 4), kick=[0], snare=[4, 6], hat=[0, 2, 4, 6], tempo=(90, 130)),
    "ballad": dict(meter=(4, 4), kick=[0, 10], snare=[4, 12], hat=list(range(0, 16, 4)), tempo=(60, 85)),
    "nodrums": dict(meter=(4, 4), kick=[], snare=[], hat=[], tempo=(60, 150)),
    "nodrums3": dict(meter=(3, 4), kick=[], snare=[], hat=[], tempo=(70, 170)),
}
KICK, SNARE, RIM, HAT, OPEN_HAT, PEDAL, RIDE, CRASH, TOMS = 36, 38, 37, 42, 46, 44, 51, 49, (50, 48, 45, 43)
MAJOR, MINOR = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)
COMP_PROGRAMS = (0, 1, 2, 4, 5, 16, 17, 18, 24, 25, 26, 27, 28, 29, 30, 48, 49, 50, 61, 88, 89, 90, 91)
BASS_PROGRAMS = (32, 33, 34, 35, 36, 38, 39, 42, 43)
LEAD_PROGRAMS = (0, 11, 22, 25, 26, 29, 30, 40, 52, 56, 57, 60, 64, 65, 66, 68, 71, 73, 80, 81, 85)


@dataclass
class Note:
    t: float  # seconds
    dur: float
    pitch: int
    vel: int
    channel: int


@dataclass
class Arrangement:
    notes: list[Note]
    programs: dict[int, int]  # channel -> GM program (channel 9 is drums)
    beats: np.ndarray  # (N,) seconds
    downbeats: np.ndarray  # (M,) seconds
    beats_per_bar: int
    style: str
    bpm: float
    duration: float
    meta: dict = field(default_factory=dict)


def random_arrangement(rng: np.random.Generator, seconds: float = 40.0, style: str | None = None) -> Arrangement:
    """A random song of about `seconds`: style (unless given), tempo, key, progression, phrase length,
    instruments."""
    style = style or str(rng.choice(list(STYLES)))
    st = STYLES[style]
    n_beats, steps = st["meter"]
    bpm = float(np.exp(rng.uniform(np.log(st["tempo"][0]), np.log(st["tempo"][1]))))
    lead_in = float(rng.uniform(0.0, 2.0))
    n_bars = int(np.ceil(seconds * bpm / 60.0 / n_beats)) + 1
    drift = np.cumsum(rng.normal(0.0, 0.004 if style.startswith("nodrums") else 0.0015, n_bars * n_beats))
    period = 60.0 / bpm * np.exp(np.clip(drift, -0.06, 0.06))  # (beats,) seconds per beat
    if rng.random() < 0.15:  # a ritardando over the last 4 bars
        period[-4 * n_beats:] *= np.linspace(1.0, 1.3, 4 * n_beats)
    beat_t = lead_in + np.concatenate([[0.0], np.cumsum(period)])  # (beats + 1,) the last one ends the song
    humanise = float(rng.uniform(0.0, 0.012))

    def at(bar: int, step: float) -> float:
        """Seconds of grid step `step` (of steps per beat) in `bar`, between the beat times."""
        b = bar * n_beats + step / steps
        i = min(int(b), len(beat_t) - 2)
        return float(beat_t[i] + (b - i) * (beat_t[i + 1] - beat_t[i]) + rng.normal(0, humanise))

    minor = rng.random() < 0.4
    scale = MINOR if minor else MAJOR
    key = int(rng.integers(40, 52))  # tonic of the bass register
    prog_len = int(rng.choice([2, 4, 4, 8]))
    degrees = [0] + [int(d) for d in rng.choice([1, 2, 3, 4, 5, 6, 3, 4, 5], size=prog_len - 1)]
    chord_bars = int(rng.choice([1, 1, 1, 2])) if n_beats > 2 else int(rng.choice([1, 2, 2]))
    half_bar_changes = n_beats == 4 and rng.random() < 0.15
    phrase = int(rng.choice([4, 8]))
    drums = bool(st["kick"] or st["snare"] or st.get("hat") or st.get("ride"))
    kick_on_1_strength = float(rng.uniform(0.6, 1.0))

    notes: list[Note] = []
    programs = {0: int(rng.choice(BASS_PROGRAMS)), 1: int(rng.choice(COMP_PROGRAMS)), 2: int(rng.choice(LEAD_PROGRAMS))}
    if not drums and rng.random() < 0.5:
        programs = {0: int(rng.choice([0, 32, 42, 48])), 1: int(rng.choice([0, 1, 6, 46, 48, 49])),
                    2: int(rng.choice([0, 40, 68, 71, 73]))}
    use_bass, use_lead = rng.random() < 0.9, rng.random() < 0.7
    comp_style = str(rng.choice(["block", "stabs", "arp", "pulse"]))
    if st.get("skank"):
        comp_style = "skank"

    def chord(degree: int) -> tuple[int, list[int]]:
        root = key + scale[degree % 7]
        third = key + scale[(degree + 2) % 7] + (12 if (degree + 2) >= 7 else 0)
        fifth = key + scale[(degree + 4) % 7] + (12 if (degree + 4) >= 7 else 0)
        return root, [root + 12, third + 12, fifth + 12]

    total_steps = n_beats * steps
    for bar in range(n_bars - 1):
        idx = (bar // chord_bars) % prog_len
        halves = [degrees[idx]] if not half_bar_changes else [degrees[idx], degrees[(idx + 1) % prog_len]]
        phrase_start, phrase_end = bar % phrase == 0, bar % phrase == phrase - 1
        for h, deg in enumerate(halves):
            root, tones = chord(deg)
            span = total_steps // len(halves)
            a = h * span
            t0, t1 = at(bar, a), at(bar, a + span)
            if use_bass:
                notes += _bass(rng, st, bar, a, span, steps, root, at, chord(degrees[(idx + 1) % prog_len])[0])
            notes += _comp(rng, comp_style, bar, a, span, steps, tones, at, t1 - t0)
        if use_lead and (bar // phrase) % 2 == 1:
            notes += _melody(rng, bar, total_steps, steps, key + 24, scale, at)
        if drums:
            fill = phrase_end and rng.random() < 0.5
            notes += _drums(rng, st, bar, total_steps, steps, at, phrase_start, fill, kick_on_1_strength)
    beats = beat_t[: (n_bars - 1) * n_beats]  # the bars that are played: the last one is the ring-out
    downbeats = beats[::n_beats]
    programs[9] = 0
    return Arrangement(notes, programs, beats, downbeats, n_beats, style, bpm, float(beat_t[-1] + 1.5),
                       {"steps": steps, "minor": minor, "comp": comp_style})


def _v(rng: np.random.Generator, base: float) -> int:
    return int(np.clip(base + rng.normal(0, 8), 20, 127))


def _bass(rng, st, bar, a, span, steps, root, at, next_root) -> list[Note]:
    out = []
    if st.get("walk"):
        beats = span // steps
        line = [root, root + int(rng.choice([2, 3, 4])), root + 7, next_root + int(rng.choice([-1, 1]))]
        for k in range(beats):
            t = at(bar, a + k * steps)
            out.append(Note(t, 0.9 * (at(bar, a + (k + 1) * steps) - t), line[k % 4], _v(rng, 95 if k == 0 else 80), 0))
        return out
    pattern = [0] if rng.random() < 0.3 else [0, span // 2] if span >= 4 else [0]
    if rng.random() < 0.3 and span >= 8:
        pattern = list(range(0, span, steps // 2 if steps % 2 == 0 else steps))
    for k, s in enumerate(pattern):
        end = pattern[k + 1] if k + 1 < len(pattern) else span
        pitch = root if k == 0 or rng.random() < 0.6 else root + int(rng.choice([7, 12, 5]))
        t = at(bar, a + s)
        out.append(Note(t, 0.85 * (at(bar, a + end) - t), pitch, _v(rng, 100 if s == 0 else 85), 0))
    return out


def _comp(rng, style, bar, a, span, steps, tones, at, length) -> list[Note]:
    out = []
    if style == "block":
        for p in tones:
            out.append(Note(at(bar, a), 0.95 * length, p, _v(rng, 70), 1))
    elif style == "stabs":
        for s in range(0, span, steps):
            for p in tones:
                out.append(Note(at(bar, a + s), 0.4 * length * steps / span, p, _v(rng, 72 if s == 0 else 62), 1))
    elif style == "skank":
        for s in range(steps // 2, span, steps):
            for p in tones:
                out.append(Note(at(bar, a + s), 0.15 * length * steps / span, p, _v(rng, 70), 1))
    elif style == "pulse":
        step = max(1, steps // 2) if steps % 2 == 0 else steps
        for s in range(0, span, step):
            for p in tones:
                out.append(Note(at(bar, a + s), 0.8 * length * step / span, p, _v(rng, 66 if s else 74), 1))
    else:  # arp
        step = max(1, steps // 2) if steps % 2 == 0 else 1
        seq = tones + [tones[1] + 12, tones[2] + 12 - 12]
        for k, s in enumerate(range(0, span, step)):
            out.append(Note(at(bar, a + s), 1.5 * length * step / span, seq[k % len(seq)], _v(rng, 68), 1))
    return out


def _melody(rng, bar, total, steps, tonic, scale, at) -> list[Note]:
    out, s = [], 0
    degree = int(rng.integers(0, 7))
    while s < total:
        dur = int(rng.choice([steps, steps, steps * 2, max(1, steps // 2)]))
        if rng.random() < 0.8:
            degree = int(np.clip(degree + rng.choice([-2, -1, -1, 1, 1, 2, 0]), -3, 10))
            pitch = tonic + 12 * (degree // 7) + scale[degree % 7]
            t = at(bar, s)
            out.append(Note(t, 0.9 * (at(bar, min(total, s + dur)) - t), pitch, _v(rng, 80), 2))
        s += dur
    return out


def _drums(rng, st, bar, total, steps, at, phrase_start, fill, kick1) -> list[Note]:
    out = []
    hit = lambda s, p, v: out.append(Note(at(bar, s), 0.1, p, _v(rng, v), 9))  # noqa: E731
    fill_from = total - steps if fill else total
    for s in st["kick"]:
        if s < fill_from and (s != 0 or rng.random() < kick1 + 0.3):
            hit(s, KICK, 105 if s == 0 else 92)
    for s in st["snare"]:
        if s < fill_from:
            hit(s, RIM if st.get("skank") else SNARE, 95)
    for s in st.get("hat", []):
        if s < fill_from:
            hit(s, OPEN_HAT if st.get("open") else HAT, 70 if s % steps else 82)
    for s in st.get("ride", []):
        hit(s, RIDE, 78 if s % steps else 88)
    for s in st.get("pedal", []):
        hit(s, PEDAL, 70)
    if phrase_start and rng.random() < 0.6:
        hit(0, CRASH, 100)
    if fill:
        for k, s in enumerate(range(fill_from, total, max(1, steps // 2))):
            hit(s, TOMS[k % 4] if rng.random() < 0.7 else SNARE, 90)
    return out


def midi_bytes(arr: Arrangement) -> bytes:
    """A format-0 Standard MIDI File of the arrangement (fixed 120 BPM, 480 ticks per quarter)."""
    events: list[tuple[int, int, bytes]] = [(0, 0, b"\xff\x51\x03\x07\xa1\x20")]  # tempo: 500,000 us/quarter
    for ch, prog in arr.programs.items():
        if ch != 9:
            events.append((0, 1, bytes([0xC0 | ch, prog])))
    for n in arr.notes:
        on = max(0, int(round(n.t * TICKS_PER_SECOND)))
        off = max(on + 1, int(round((n.t + max(n.dur, 0.02)) * TICKS_PER_SECOND)))
        events.append((on, 3, bytes([0x90 | n.channel, n.pitch & 127, n.vel & 127])))
        events.append((off, 2, bytes([0x80 | n.channel, n.pitch & 127, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    body, last = bytearray(), 0
    for tick, _, data in events:
        body += _varlen(tick - last) + data
        last = tick
    body += _varlen(0) + b"\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(body)) + bytes(body)


def _varlen(v: int) -> bytes:
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))

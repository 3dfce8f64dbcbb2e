"""Step 5 of the analysis: sections, labelled so that repeats share a letter.

Bar-synchronous timbre/harmony/rhythm kernels, optimal kernel change-point
segmentation (so boundaries are downbeats by construction), then
agglomerative grouping of the segments into repeat labels A, B, A', ...; each
section gets its energy, an energy rank and (heuristically) a pop-form name.

scipy is imported inside the functions that need it: it takes a while to import,
and a render whose analysis is cached needs none of it.
"""

from __future__ import annotations

import numpy as np

from .features import Features
from .musicmap import Section

TIMBRE_MFCC = 7  # MFCC 1-6: the broad spectral envelope (instrumentation), not the chord's pitches


def bar_features(feats: Features, bar_frames: np.ndarray) -> dict[str, np.ndarray]:
    """Per bar (rows): timbre (MFCC 1-6), harmony (chroma), rhythm texture (band flux), loudness (dB)."""
    rows: dict[str, list[np.ndarray]] = {"timbre": [], "harmony": [], "rhythm": [], "loudness": []}
    for a, b in zip(bar_frames[:-1], bar_frames[1:]):
        b = max(b, a + 1)
        rows["timbre"].append(feats.mfcc[1:TIMBRE_MFCC, a:b].mean(axis=1))
        c = feats.chroma[:, a:b].mean(axis=1)
        rows["harmony"].append(c / (np.linalg.norm(c) + 1e-9))
        rows["rhythm"].append(np.log1p(feats.bands[:, a:b].mean(axis=1)))
        rows["loudness"].append(np.atleast_1d(20 * np.log10(feats.rms[a:b].mean() + 1e-9)))
    return {k: np.array(v) for k, v in rows.items()}


# Kernel weights. Timbre and rhythm texture say which instruments play: the surest sign of a new
# section. Harmony weighs little here because chords change *within* sections too (a verse
# without an internal repeat would split at its chord changes); it counts more for labels.
KERNEL_WEIGHTS = {"timbre": 0.45, "rhythm": 0.3, "harmony": 0.1, "loudness": 0.15}


def bar_kernel(groups: dict[str, np.ndarray]) -> np.ndarray:
    """Weighted mean of per-group Gaussian kernels over bars, each scaled by its median distance."""
    from scipy.spatial.distance import pdist, squareform

    n = len(next(iter(groups.values())))
    k = np.zeros((n, n))
    for name, x in groups.items():
        d = squareform(pdist(x, "sqeuclidean"))
        scale = np.median(d[np.triu_indices(n, 1)]) if n > 1 else 1.0
        k += KERNEL_WEIGHTS[name] * np.exp(-d / (scale + 1e-9))
    return k / sum(KERNEL_WEIGHTS[g] for g in groups)


SECTION_PENALTY_S = 3.0  # cost of one more section, in seconds of kernel scatter (tuned on bench/)


def segment_bars(kernel: np.ndarray, penalty: float = 1.25, min_bars: int = 2) -> list[int]:
    """Optimal kernel change-point segmentation: indices of the first bar of each segment.

    Cost of a segment = its scatter in the kernel's feature space (n - block_sum / n);
    each extra segment costs `penalty` (in bars of scatter). Exact dynamic programme, O(bars^2).
    """
    n = len(kernel)
    if n <= min_bars:
        return [0]
    cum = np.zeros((n + 1, n + 1))
    cum[1:, 1:] = kernel.cumsum(0).cumsum(1)
    diag = np.concatenate([[0.0], np.cumsum(np.diag(kernel))])

    def cost(a: np.ndarray, b: int) -> np.ndarray:  # segments [a, b) for many a
        block = cum[b, b] - cum[a, b] - cum[b, a] + cum[a, a]
        return (diag[b] - diag[a]) - block / (b - a)

    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    prev = np.zeros(n + 1, dtype=int)
    for b in range(min_bars, n + 1):
        a = np.arange(0, b - min_bars + 1)
        a = a[np.isfinite(best[a])]
        if len(a) == 0:
            continue
        total = best[a] + cost(a, b) + penalty
        j = int(np.argmin(total))
        best[b], prev[b] = total[j], a[j]
    if not np.isfinite(best[n]):
        return [0]
    starts, b = [], n
    while b > 0:
        starts.append(int(prev[b]))
        b = prev[b]
    return sorted(starts)


def label_segments(kernel: np.ndarray, starts: list[int], threshold: float = 0.35) -> list[str]:
    """Letters by first appearance; segments alike enough share a letter, variants get a prime.

    Similarity of two segments = mean kernel over their cross block, normalised by their
    self-similarity (so a noisy segment can still match its repeat).
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    bounds = list(starts) + [len(kernel)]
    segs = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    n = len(segs)
    if n == 1:
        return ["A"]
    sim = np.array([[kernel[p, q].mean() for q in segs] for p in segs])
    norm = np.sqrt(np.outer(np.diag(sim), np.diag(sim)))
    dist = np.clip(1.0 - sim / norm, 0.0, None)
    np.fill_diagonal(dist, 0.0)
    cond = dist[np.triu_indices(n, 1)]
    clusters = fcluster(linkage(cond, method="average"), t=threshold, criterion="distance")
    letters: dict[int, str] = {}
    first: dict[int, int] = {}
    labels = []
    for i, c in enumerate(clusters):
        if c not in letters:
            letters[c] = _letter(len(letters))
            first[c] = i
            labels.append(letters[c])
            continue
        j = first[c]
        length_i, length_j = segs[i].stop - segs[i].start, segs[j].stop - segs[j].start
        variant = dist[i, j] > threshold / 2 or abs(length_i - length_j) > 0.25 * length_j
        labels.append(letters[c] + ("'" if variant else ""))
    return labels


def find_sections(
    feats: Features,
    beat_frames: np.ndarray,
    downbeat_idx: np.ndarray,
    energy_frames: np.ndarray,
    duration: float,
) -> list[Section]:
    """Sections tiling [0, duration], with inner boundaries on downbeats."""
    if len(downbeat_idx) < 3:
        e = float(energy_frames.mean()) if len(energy_frames) else 0.0
        return [Section(0.0, round(duration, 6), "A", round(e, 4), 0)]
    db_frames = beat_frames[downbeat_idx]
    bar_len = int(np.median(np.diff(db_frames)))
    bar_frames = np.concatenate([db_frames, [min(feats.n_frames, db_frames[-1] + bar_len)]])
    groups = bar_features(feats, bar_frames)
    kernel = bar_kernel(groups)
    # The penalty is in seconds of scatter, so a slow song's long bars count for their length.
    bar_seconds = bar_len * feats.hop / feats.sr
    starts = segment_bars(kernel, penalty=SECTION_PENALTY_S / bar_seconds)
    starts = _merge_faded_tail(starts, groups["loudness"][:, 0])
    labels = label_segments(kernel, starts)

    times = feats.frame_times(db_frames)
    edges = [0.0] + [float(times[s]) for s in starts[1:]] + [duration]
    sections = []
    for (a, b), label in zip(zip(edges[:-1], edges[1:]), labels):
        fa, fb = feats.time_frames([a, b])
        e = float(energy_frames[fa : max(fb, fa + 1)].mean())
        sections.append(Section(round(a, 6), round(b, 6), label, round(e, 4), 0))
    _rank_energy(sections)
    _guess_names(sections)
    return sections


def _merge_faded_tail(starts: list[int], bar_db: np.ndarray, drop_db: float = 20.0) -> list[int]:
    """Fold trailing segments that are mostly fade-out (>20 dB under the song's loud bars) into
    the segment before: a fade changes every feature without being a new section."""
    loud = float(np.percentile(bar_db, 95))
    starts = list(starts)
    while len(starts) > 1 and np.median(bar_db[starts[-1] :]) < loud - drop_db:
        starts.pop()
    return starts


def _rank_energy(sections: list[Section]) -> None:
    """energy_rank per label group (A and A' together): 0 = the quietest group."""
    groups: dict[str, list[float]] = {}
    for s in sections:
        groups.setdefault(s.label.rstrip("'"), []).append(s.energy)
    order = sorted(groups, key=lambda g: np.mean(groups[g]))
    for s in sections:
        s.energy_rank = order.index(s.label.rstrip("'"))


def _guess_names(sections: list[Section]) -> None:
    """Pop-form names from repetition and energy (a heuristic; the labels are the real result).

    The loudest group heard somewhere other than only at the very start or end is the chorus;
    the first repeated other group (else the part just before the first chorus) the verse; a
    quieter first/last section the intro/outro; a one-off between choruses the bridge.
    """
    if len(sections) < 2:
        return
    base = [s.label.rstrip("'") for s in sections]
    energy = {g: float(np.mean([s.energy for s, b in zip(sections, base) if b == g])) for g in base}
    inner = {g for g in base[1:-1]} or set(base)
    chorus = max(inner, key=lambda g: energy[g])
    repeated = [g for g in dict.fromkeys(base) if base.count(g) > 1 and g != chorus]
    first_chorus = base.index(chorus)
    verse = repeated[0] if repeated else (base[first_chorus - 1] if first_chorus > 1 else None)
    for s, g in zip(sections, base):
        s.name = "chorus" if g == chorus else "verse" if g == verse else ""
    median_e = float(np.median([s.energy for s in sections]))
    if sections[0].energy < median_e and base[0] not in (chorus, verse):
        sections[0].name = "intro"
    if sections[-1].energy < median_e and base[-1] != chorus and (base[-1] != verse or base.count(verse) == 1):
        sections[-1].name = "outro"
    chorus_at = [i for i, g in enumerate(base) if g == chorus]
    for i, (s, g) in enumerate(zip(sections, base)):
        if not s.name and base.count(g) == 1 and chorus_at[0] < i < chorus_at[-1]:
            s.name = "bridge"


def _letter(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"Z{i - 25}"

"""A picture of the analysis: waveform, energy, beats, downbeats and labelled sections, as a PNG."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..fsio import atomic_path
from .audio import MAX_SECONDS, load_audio
from .features import SR
from .musicmap import MusicMap


def plot(music_map: MusicMap, audio_path: str | os.PathLike, out_png: str | os.PathLike) -> Path:
    """Draw waveform, energy, beats, downbeats and labelled sections to a PNG (written atomically)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # deferred: matplotlib takes ~1 s; only --plot
    from matplotlib.figure import Figure

    y, sr = load_audio(audio_path, sr=SR, max_seconds=max(MAX_SECONDS, music_map.duration + 1))
    mm = music_map
    fig = Figure(figsize=(14, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax_w, ax_e = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})

    # Waveform as a min/max envelope per pixel column: exact look, no 5M-point line.
    cols = 2000
    hop = max(1, len(y) // cols)
    n = len(y) // hop * hop
    blocks = y[:n].reshape(-1, hop)
    t = (np.arange(blocks.shape[0]) + 0.5) * hop / sr
    ax_w.fill_between(t, blocks.min(axis=1), blocks.max(axis=1), color="0.35", linewidth=0)

    colors = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5"]
    groups = sorted({s.label.rstrip("'") for s in mm.sections})
    for s in mm.sections:
        c = colors[groups.index(s.label.rstrip("'")) % len(colors)]
        for ax in (ax_w, ax_e):
            ax.axvspan(s.start, s.end, color=c, alpha=0.45, linewidth=0)
        name = f"{s.label} {s.name}".strip()
        ax_w.text((s.start + s.end) / 2, 1.02, name, ha="center", va="bottom", fontsize=9, transform=ax_w.get_xaxis_transform())
    ax_w.vlines(mm.beats, -1, 1, color="tab:blue", linewidth=0.3, alpha=0.5, label="beats")
    ax_w.vlines(mm.downbeats, -1, 1, color="tab:red", linewidth=0.8, alpha=0.8, label="downbeats")
    ax_w.set_ylim(-1.05, 1.05)
    ax_w.set_ylabel("amplitude")
    ax_w.legend(loc="lower right", fontsize=8)
    ax_w.set_title(f"{Path(mm.source).name or 'song'}: {mm.tempo:.1f} BPM, {mm.meter_name}", pad=18)

    ft = np.arange(len(mm.energy)) / mm.energy_fps
    ax_e.plot(ft, mm.onsets, color="0.6", linewidth=0.5, label="onsets")
    ax_e.plot(ft, mm.energy, color="black", linewidth=1.2, label="energy")
    for s in mm.sections:
        ax_e.hlines(s.energy, s.start, s.end, color="tab:red", linewidth=2)
    ax_e.set_ylim(0, 1.05)
    ax_e.set_xlim(0, mm.duration)
    ax_e.set_xlabel("seconds")
    ax_e.legend(loc="upper right", fontsize=8)
    fig.tight_layout()

    out = Path(out_png)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png")
    return out

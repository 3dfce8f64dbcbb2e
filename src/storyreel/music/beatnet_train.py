"""Train the beat/downbeat TCN (music.beatnet) with torch, and export its weights as safetensors.

Training data are songs with exact beat and bar times, each a .npz under a data folder with `y` (mono
samples at beatnet.SR), `beats` and `downbeats` (seconds): the tuning half of the GTZAN dev set, songs from
storyreel's own generator and rendered MIDI (see music.beatnet_data). Time-stretch augmentation comes free:
the front end is computed at several hop sizes, which plays the song faster or slower on the frame grid. The
real recordings, the scarcest data, can also be heard transposed and remixed (`--real-views`, `variant`).

    python -m storyreel.music.beatnet_train --data DIR --run DIR [--steps N] [--stop-at K] [--real-views [--view-weight W]]

`--stop-at K` ends the run at step K of the N-step schedule (resume later with the same N): long runs go in
segments that share the machine.

torch is imported inside the functions that need it: analysis never imports this module.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from . import beatnet

STRETCHES = (0.76, 0.84, 0.92, 1.0, 1.08, 1.18, 1.3)  # hop scale: >1 plays the song faster on the grid
MIDI_STRETCHES = STRETCHES[1::2]  # rendered MIDI songs already have random tempos: three stretches do
# `--real-views`: real recordings are few, so each can also be heard transposed (resampled, which also changes
# its tempo: the beat times follow; Beat This! found pitch shifting the augmentation that mattered most after
# tempo) and remixed (its harmonic or its percussive part turned down). Off by default: the shipped weights were
# trained without. Cross-validated on real recordings they help, but the runs with them (2026-12-04) did worse
# on drumless MIDI songs and one synthesised fade-out (README).
REAL_VARIANTS = ("", "-2", "+2", "drums-down", "harmony-down")
REAL_VARIANT_WEIGHT = 0.4  # --view-weight: each view's share of the song's weight (0.4: a real song counts 2x, not 5x)
CHANNELS = 56  # the shipped weights' width (beatnet.forward reads any width and depth from the weights)
BLOCKS = 11  # dilations 1..1024 frames: a receptive field of ~47 s
CROP = 1536  # frames per training example (~18 s)


def build_net(channels: int = CHANNELS, blocks: int = BLOCKS, dropout: float = 0.15):
    """The torch twin of beatnet.forward (same parameter names)."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, d: int):
            super().__init__()
            self.conv = nn.Conv1d(channels, channels, 3, dilation=d, padding=d)
            self.mix = nn.Conv1d(channels, channels, 1)
            self.drop = nn.Dropout(dropout)

        def forward(self, h):
            return h + self.mix(self.drop(nn.functional.elu(self.conv(h))))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Conv1d(2 * beatnet.N_MELS, channels, 1)
            self.blocks = nn.ModuleList(Block(2**i) for i in range(blocks))
            self.out = nn.Conv1d(channels, 2, 1)
            self.in_drop = nn.Dropout(0.1)

        def forward(self, x):  # (B, 2 * N_MELS, T) -> (B, 2, T) logits
            h = nn.functional.elu(self.inp(self.in_drop(x)))
            for b in self.blocks:
                h = b(h)
            return self.out(nn.functional.elu(h))

    torch.manual_seed(0)
    return Net()


def targets(times: np.ndarray, n_frames: int, hop: float) -> np.ndarray:
    """(T,) target: 1 on the frame of each event, 0.5 on its neighbours (annotations are +-10 ms)."""
    t = np.zeros(n_frames, dtype=np.float32)
    idx = np.round(np.asarray(times) * beatnet.SR / hop).astype(int)
    idx = idx[(idx >= 0) & (idx < n_frames)]
    for off in (-1, 1):
        j = np.clip(idx + off, 0, n_frames - 1)
        t[j] = np.maximum(t[j], 0.5)
    t[idx] = 1.0
    return t


def variant(y: np.ndarray, name: str) -> tuple[np.ndarray, float]:
    """A real song as one of REAL_VARIANTS, and how many times faster it now plays (the beat times divide by it).

    "+2"/"-2": played 2^(±2/12) times faster, so a tone higher or lower and quicker or slower, as a tape
    sped up. "drums-down"/"harmony-down": librosa's harmonic/percussive split, one part at -10 dB.
    """
    if name in ("", None):
        return y, 1.0
    if name in ("drums-down", "harmony-down"):
        import librosa  # training only

        harm, perc = librosa.effects.hpss(y)
        quiet = 10 ** (-10 / 20)
        return ((harm + quiet * perc) if name == "drums-down" else (quiet * harm + perc)).astype(np.float32), 1.0
    from fractions import Fraction

    from scipy.signal import resample_poly

    rate = Fraction(2 ** (int(name) / 12)).limit_denominator(64)
    return resample_poly(y, rate.denominator, rate.numerator).astype(np.float32), float(rate)


def prepare(data: Path, cache: Path, real_views: bool = False,
            view_weight: float = REAL_VARIANT_WEIGHT) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(input (2*N_MELS, T) float16, target (2, T), weight) for every song x stretch (x REAL_VARIANTS for the
    real recordings with `real_views`, each at `view_weight` of the song's weight), cached as .npz."""
    cache.mkdir(parents=True, exist_ok=True)
    out = []
    for f in sorted(data.glob("*.npz")):
        d = np.load(f)
        weight = float(d["weight"]) if "weight" in d else 1.0
        real = real_views and f.stem.startswith("gtzan_")
        for v in REAL_VARIANTS if real else ("",):
            audio, rate = None, 1.0
            for s in MIDI_STRETCHES if f.stem.startswith("midi_") else STRETCHES:
                c = cache / (f"{f.stem}@{s}@{v}.npz" if v else f"{f.stem}@{s}.npz")
                if c.exists():
                    e = np.load(c)
                    x, y = e["x"], e["y"]
                else:
                    if audio is None:
                        audio, rate = variant(d["y"], v)
                    hop = beatnet.HOP * s
                    x = beatnet.spectrogram_input(audio, hop).astype(np.float16)
                    y = np.stack([targets(d["beats"] / rate, x.shape[1], hop),
                                  targets(d["downbeats"] / rate, x.shape[1], hop)])
                    np.savez(c, x=x, y=y)
                out.append((x, y, weight * (view_weight if real else 1.0)))
    return out


def augmented(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random level/contrast jitter, a smooth random EQ curve over the mel bands and sometimes a masked
    band (as SpecAugment) on an input crop (2 * N_MELS, T): the same song as another mix or recording chain."""
    n = beatnet.N_MELS
    x = x * float(rng.uniform(0.8, 1.25)) + float(rng.normal(0, 0.1))
    knots = rng.normal(0, 0.35, 5)
    x[:n] += np.interp(np.arange(n), np.linspace(0, n - 1, 5), knots)[:, None].astype(np.float32)
    if rng.random() < 0.3:
        a = int(rng.integers(0, n - 12))
        w = int(rng.integers(4, 12))
        x[a : a + w] = x[:n].mean()
        x[n + a : n + a + w] = 0.0
    return x


def train(data: Path, run: Path, steps: int, batch: int = 8, lr: float = 2e-3, stop_at: int | None = None,
          channels: int = CHANNELS, real_views: bool = False, view_weight: float = REAL_VARIANT_WEIGHT) -> Path:
    """Train (resuming from run/beatnet.pt), checkpointing every 100 steps (and keeping every 1,000th);
    returns the checkpoint."""
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))  # shared cores: one thread unless told
    items = prepare(data, run / "cache", real_views, view_weight)
    probs = np.array([w for _, _, w in items]) / sum(w for _, _, w in items)
    net = build_net(channels=channels)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    ckpt = run / "beatnet.pt"
    step = 0
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)  # our own checkpoint (optimizer state holds floats)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        step = state["step"]
    rng = np.random.default_rng(step)
    pos_weight = torch.tensor([3.0, 6.0])[None, :, None]
    t0, losses = time.time(), []
    while step < min(steps, stop_at or steps):
        xs, ys = [], []
        for i in rng.choice(len(items), size=batch, p=probs):
            x, y, _ = items[i]
            a = int(rng.integers(0, max(1, x.shape[1] - CROP)))
            xc, yc = x[:, a : a + CROP].astype(np.float32), y[:, a : a + CROP]
            if xc.shape[1] < CROP:
                xc = np.pad(xc, ((0, 0), (0, CROP - xc.shape[1])))
                yc = np.pad(yc, ((0, 0), (0, CROP - yc.shape[1])))
            xs.append(augmented(xc, rng))
            ys.append(yc)
        x_t, y_t = torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))  # (B, C, CROP), (B, 2, CROP)
        for g in opt.param_groups:  # cosine decay to 5 % after a 100-step warm-up
            g["lr"] = float(lr * min(1.0, (step + 1) / 100) * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * step / steps))))
        net.train()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x_t), y_t, pos_weight=pos_weight)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.detach()))
        step += 1
        if step % 100 == 0 or step == steps:
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step}, ckpt.with_suffix(".tmp"))
            ckpt.with_suffix(".tmp").replace(ckpt)
            if step % 1000 == 0:
                torch.save({"net": net.state_dict(), "step": step}, run / f"beatnet_{step}.pt")
            print(f"step {step} loss {np.mean(losses[-100:]):.4f} {time.time() - t0:.0f}s", flush=True)
    return ckpt


def export(ckpt: Path, out: Path = beatnet.WEIGHTS_PATH) -> Path:
    """Write the checkpoint's weights as float16 safetensors (the numpy forward reads them back as float32)."""
    import torch
    from safetensors.numpy import save_file

    state = torch.load(ckpt, weights_only=False)["net"]
    save_file({k: v.numpy().astype(np.float16) for k, v in state.items()}, str(out))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--stop-at", type=int, help="end at this step of the --steps schedule")
    ap.add_argument("--channels", type=int, default=CHANNELS)
    ap.add_argument("--real-views", action="store_true", help="also train on transposed and remixed real songs")
    ap.add_argument("--view-weight", type=float, default=REAL_VARIANT_WEIGHT, help="each real view's share of its song's weight")
    ap.add_argument("--export", type=Path, help="write the weights here from the run's checkpoint and stop")
    a = ap.parse_args(argv)
    a.run.mkdir(parents=True, exist_ok=True)
    if a.export:
        print(export(a.run / "beatnet.pt", a.export))
        return 0
    train(a.data, a.run, a.steps, stop_at=a.stop_at, channels=a.channels, real_views=a.real_views,
          view_weight=a.view_weight)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

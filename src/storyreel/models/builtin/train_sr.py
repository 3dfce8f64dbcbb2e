"""Training the super-resolution stage on the world: the same scene rendered small (degraded) and 4x larger.

The renderer draws any scene exactly at any size, so every pair is free. The
small side is degraded the way the base model's frames are: a share is the base
model's own output (the U-Net restyling the small render at a low strength,
SDEdit-style, from its caption: its textures, colours and edges, still in the
render's place, so the large render is its target pixel for pixel); most of the
rest go through the frame autoencoder (its decoder is what draws the base
model's pixels); some are blurred, all get a little noise. So the upsampler
learns to sharpen what the base model really draws and not only clean
downscales. Crops of whole clips are buffered; each step takes a batch of
crops, each frame with its neighbours.

A run without a checkpoint of its own continues from the shipped upsampler.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ... import world
from .train import ASPECT_WEIGHTS, ASPECTS, FRAMES, load_autoencoder_for_training, save_checkpoint, stop_on_signal
from .train_log import LossLog
from .upsampler import Upsampler, UpsamplerConfig, to_unit, with_neighbours
from .weights import WEIGHTS_V2_DIR, load_upsampler, read_config


@dataclass
class SRTrainConfig:
    """Knobs of one upsampler run; stored in its checkpoint."""

    steps: int = 4000
    batch: int = 24  # crops per step
    crop: int = 24  # low-resolution crop side (the high-resolution side is factor x this)
    lr: float = 1e-3
    buffer_clips: int = 96
    fresh_every: int = 2  # steps between newly rendered clips
    model_share: float = 0.3  # small sides that are the base model's restyle of the small render
    model_strength: tuple[float, float] = (0.25, 0.5)  # restyle strengths drawn for them
    ae_share: float = 0.7  # of the other small sides: those that go through the autoencoder
    blur_share: float = 0.3
    noise: float = 0.015
    seed: int = 0
    checkpoint_every_s: float = 300.0
    device: str = "cpu"


def model_output(base, scene: world.Scene, small_u8: np.ndarray, strength: float, seed: int) -> np.ndarray:
    """The base model's restyle of a small render (T, h, w, 3) uint8 from the scene's caption: what the base
    model draws there, in the render's place."""
    from ..base import GenerationRequest  # deferred: models.base imports the registry's dependencies

    t, h, w, _ = small_u8.shape
    req = GenerationRequest(prompt=world.caption(scene, canonical=True), seed=seed, height=h, width=w, frames=t,
                            video=small_u8, strength=strength)
    return base.generate(req).frames


@torch.no_grad()
def degraded_pair(ae, rng: np.random.Generator, aspect: str, cfg: SRTrainConfig, factor: int, base=None):
    """(small (T, 3, h, w), large (T, 3, h*f, w*f)) in [-1, 1]: one scene of the bold world at both sizes.

    base: the base model (BuiltinModel) whose restyles make cfg.model_share of the small sides."""
    h, w = ASPECTS[aspect]
    s = np.random.default_rng(int(rng.integers(1 << 62)))
    scene = world.random_scene(s, style=world.BOLD)
    placed = world.random_layout(scene, s, w / h, world.BOLD)
    large = to_unit(world.render(scene, placed, h * factor, w * factor, FRAMES))
    small_u8 = world.render(scene, placed, h, w, FRAMES)
    if base is not None and rng.random() < cfg.model_share:
        small_u8 = model_output(base, scene, small_u8, float(rng.uniform(*cfg.model_strength)), int(rng.integers(1 << 31)))
    elif rng.random() < cfg.ae_share:
        small_u8 = ae.decode_video(ae.encode_video(torch.from_numpy(small_u8)[None]))[0].numpy()
    small = to_unit(small_u8)
    if rng.random() < cfg.blur_share:
        sigma = float(rng.uniform(0.3, 1.0))
        k = torch.exp(-0.5 * (torch.arange(-2, 3.0) / sigma) ** 2)
        k = (k / k.sum()).view(1, 1, 5)
        small = F.conv2d(F.pad(small, (2, 2, 2, 2), mode="replicate"), (k[..., None] * k[:, :, None]).expand(3, 1, 5, 5),
                         groups=3)
    small = small + cfg.noise * torch.randn(small.shape, generator=torch.Generator().manual_seed(int(rng.integers(1 << 31))))
    return small.clamp(-1, 1), large


def crops(buffer: list, rng: np.random.Generator, cfg: SRTrainConfig, net_cfg: UpsamplerConfig):
    """(inputs (B, 3 * (2k+1), c, c), targets (B, 3, c*f, c*f)): random frames of buffered clips, random places."""
    f, c, xs, ys = net_cfg.factor, cfg.crop, [], []
    for _ in range(cfg.batch):
        small, large = buffer[int(rng.integers(len(buffer)))]
        t = int(rng.integers(small.shape[0]))
        stacked = with_neighbours(small, net_cfg.context)[t]  # (3(2k+1), h, w)
        i, j = int(rng.integers(small.shape[2] - c + 1)), int(rng.integers(small.shape[3] - c + 1))
        xs.append(stacked[:, i : i + c, j : j + c])
        ys.append(large[t, :, i * f : (i + c) * f, j * f : (j + c) * f])
    return torch.stack(xs), torch.stack(ys)


def sr_loss(net: Upsampler, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Charbonnier (smooth L1) error of the upscaled crops: sharper than squared error, as SR nets train."""
    return torch.sqrt((net(x) - y) ** 2 + 1e-6).mean()


def train_upsampler(cfg: SRTrainConfig, run_dir: Path, net_cfg: UpsamplerConfig | None = None, log=print,
                    progress_dir: Path | None = None, base=None) -> Upsampler:
    """Train (or resume from run_dir/sr.pt, else continue from the upsampler in progress_dir, default the
    shipped one) the upsampler; returns it. base: the base model for cfg.model_share (default: the shipped
    built-in model, loaded only when model_share > 0)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt = run_dir / "sr.pt"
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed + 5)
    ae = load_autoencoder_for_training(run_dir)
    state = torch.load(ckpt, weights_only=False) if ckpt.exists() else None
    progress_dir = progress_dir or WEIGHTS_V2_DIR
    shipped = None if state or net_cfg else load_upsampler(progress_dir)
    net = shipped if shipped is not None else Upsampler(UpsamplerConfig(**state["net_cfg"]) if state else
                                                        net_cfg or UpsamplerConfig())
    net = net.to(cfg.device)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=0.0)
    step = 0
    if state:
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        step, rng = state["step"], state["rng"]
        log(f"resumed upsampler at step {step}")
    elif shipped is not None:
        step = int(read_config(progress_dir).get("upsampler_steps", 0))
        log(f"continuing from the upsampler in {progress_dir} at step {step} (optimiser state starts fresh)")
    if cfg.model_share > 0 and base is None:
        from .model import BuiltinModel  # deferred: the model imports the planner's text encoder

        base = BuiltinModel(progress_dir)
    log(f"upsampler: {net.num_params() / 1e3:.0f} k parameters")
    aspects, weights = list(ASPECTS), list(ASPECT_WEIGHTS.values())
    buffer: list = []
    while len(buffer) < min(cfg.buffer_clips, 16):
        buffer.append(degraded_pair(ae, rng, str(rng.choice(aspects, p=weights)), cfg, net.cfg.factor, base))
    last_save, losses = time.time(), LossLog(run_dir, "sr", cfg.steps, step, log, 50)
    stop = stop_on_signal()
    while step < cfg.steps and not stop:
        if step % cfg.fresh_every == 0:
            pair = degraded_pair(ae, rng, str(rng.choice(aspects, p=weights)), cfg, net.cfg.factor, base)
            if len(buffer) < cfg.buffer_clips:
                buffer.append(pair)
            else:
                buffer[int(rng.integers(len(buffer)))] = pair
        lr = cfg.lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * step / cfg.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = crops(buffer, rng, cfg, net.cfg)
        loss = sr_loss(net, x.to(cfg.device), y.to(cfg.device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        losses.add(step, loss.item())
        if time.time() - last_save > cfg.checkpoint_every_s or step == cfg.steps:
            _save(ckpt, net, opt, step, rng, cfg)
            last_save = time.time()
    _save(ckpt, net, opt, step, rng, cfg)
    return net.eval()


def _save(ckpt: Path, net: Upsampler, opt, step: int, rng, cfg: SRTrainConfig) -> None:
    save_checkpoint(ckpt, {"net": net.state_dict(), "opt": opt.state_dict(), "step": step, "rng": rng,
                           "net_cfg": asdict(net.cfg), "train_cfg": asdict(cfg)})


def load_run(run_dir: Path) -> tuple[Upsampler, int]:
    """The upsampler of a run's checkpoint and its step."""
    state = torch.load(run_dir / "sr.pt", weights_only=False)
    net = Upsampler(UpsamplerConfig(**state["net_cfg"]))
    net.load_state_dict(state["net"])
    return net.eval(), int(state["step"])

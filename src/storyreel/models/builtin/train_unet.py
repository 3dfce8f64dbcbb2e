"""Training the built-in model's U-Net (v2): joint clip and snippet training on the bold world.

Each step trains on a few whole 16-frame clips (motion, camera, frame
conditioning for image-to-video, extension and connect) and on many 2-frame
snippets cut from buffered clips at a random moment, each told its clip
progress. A snippet costs what a still image costs (the U-Net stacks two frames
in its channels), so most of each step's samples teach shapes and colours at
little cost, as joint image and video training does in Open-Sora and Sora,
while the progress embedding lets snippets teach where a moving object is.

Data: a buffer of encoded clips; each step renders `fresh_per_step` new clips
of the bold world (world.BOLD) and encodes them once. The run checkpoints
(model, optimiser, EMA, step, RNG) every few minutes to `run_dir/unet.pt` and
resumes from there; `export` writes the shipped safetensors.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ... import world
from . import text as text_mod
from .flow import flow_loss, random_cond_mask
from .train import (
    ASPECT_WEIGHTS,
    ASPECTS,
    ReplayBuffer,
    learning_rate,
    load_autoencoder_for_training,
    object_weight,
    optimiser_step,
    save_checkpoint,
    stop_on_signal,
    video_batch,
)
from .layout import LayoutInput, layout_input
from .train_log import LossLog
from .unet import UNetConfig, VideoUNet
from .weights import WEIGHTS_V2_DIR, load_unet, read_config, save_weights

def progress_dir_default() -> Path:
    """Where a run with no checkpoint of its own continues from: the shipped weights once they hold the U-Net
    (committed at each milestone, so a new machine resumes rather than starts over)."""
    return WEIGHTS_V2_DIR


@dataclass
class UNetTrainConfig:
    """Knobs of one U-Net run; stored in each checkpoint."""

    steps: int = 10000
    clips: int = 4  # whole 16-frame clips per step
    snippets: int = 48  # 2-frame snippets per step
    lr: float = 5e-4
    warmup: int = 100
    warmup_start: int = 0
    fresh_per_step: int = 2
    buffer_clips: int = 3000
    text_drop: float = 0.1
    object_weight: float = 4.0
    ema: float = 0.998
    seed: int = 0
    layout_dim: int = 16  # layout-guided (layout.py); a run resumed from a net without layout input is widened
    layout_coords: bool = True  # each object's own coordinates in the layout input (layout.maps)
    layout_drop: float = 0.1  # share of samples trained with no layout at all (restyle, prompts with no object)
    checkpoint_every_s: float = 300.0
    device: str = "cpu"
    bf16: bool = False  # on this CPU bf16 convolutions run ~10x slower than fp32; on a GPU use it


def snippets_of(batch, rng: np.random.Generator, length: int = 2, tracks: torch.Tensor | None = None):
    """Cut one `length`-frame snippet from each clip at a random even offset: (z, tok, mask, pool, w, progress),
    and the same frames of the object `tracks` (n, SLOTS, T, 3) as a seventh item when given."""
    z, tok, mask, pool, w = batch
    n, frames = z.shape[0], z.shape[2]
    start = rng.integers(0, (frames - length) // 2 + 1, size=n) * 2
    idx = torch.from_numpy(start)[:, None] + torch.arange(length)[None]  # (n, length)
    zs = torch.stack([z[i, :, idx[i]] for i in range(n)])  # (n, C, length, h, w)
    ws = torch.stack([w[i, idx[i]] for i in range(n)])  # (n, length, h, w)
    progress = idx.float() / (frames - 1)  # (n, length)
    if tracks is None:
        return zs, tok, mask, pool, ws, progress
    return zs, tok, mask, pool, ws, progress, torch.stack([tracks[i][:, idx[i]] for i in range(n)])


@torch.no_grad()
def _fresh(ae, rng, n: int, aspect: str, buffer: ReplayBuffer, weight: float) -> None:
    samples: list = []
    video, captions, masks = video_batch(rng, n, aspect, masks=True, style=world.BOLD, samples_out=samples)
    z = ae.encode_video(video).float()
    hh, ww = video.shape[2:4]
    lay = [layout_input(s.scene, s.layout, hh, ww, video.shape[1]) for s in samples]
    extras = {"tracks": torch.cat([x.tracks for x in lay]), "ids": torch.cat([x.ids for x in lay])}
    buffer.add(aspect, z, text_mod.encode(captions), object_weight(masks, ae.cfg.downsample, weight), extras)


def _layout(tracks: torch.Tensor, ids: torch.Tensor, drop_text: torch.Tensor, cfg: UNetTrainConfig) -> LayoutInput:
    """The training layout: ids dropped with the caption (guidance), the whole layout dropped for a few."""
    lay = LayoutInput(tracks.float(), ids).unnamed(drop_text.cpu())
    return lay.select(torch.rand(tracks.shape[0]) >= cfg.layout_drop).to(cfg.device)


def _step_loss(model, cfg: UNetTrainConfig, buffer: ReplayBuffer, aspect: str, rng: np.random.Generator) -> torch.Tensor:
    """Flow loss of one step: whole clips and snippets, weighted by how many latent frames each brings."""
    dev = torch.device(cfg.device)
    losses, units = [], []
    guided = bool(model.cfg.layout_dim)
    if cfg.clips:
        batch, extras = buffer.draw_with_extras(aspect, cfg.clips, rng)
        z, tok, mask, pool, w = (v.to(dev) for v in batch)
        cond = random_cond_mask(cfg.clips, z.shape[2]).to(dev)
        drop = (torch.rand(cfg.clips) < cfg.text_drop).to(dev)
        lay = _layout(extras["tracks"], extras["ids"], drop, cfg) if guided else None
        losses.append(flow_loss(model, z, tok, mask, pool, cond, drop, w, layout=lay))
        units.append(cfg.clips * z.shape[2])
    if cfg.snippets:
        batch, extras = buffer.draw_with_extras(aspect, cfg.snippets, rng)
        zs, tok, mask, pool, ws, prog, ds = snippets_of(batch, rng, tracks=extras["tracks"])
        zs, tok, mask, pool, ws, prog = (v.to(dev) for v in (zs, tok, mask, pool, ws, prog))
        cond = torch.zeros(cfg.snippets, zs.shape[2], device=dev)
        drop = (torch.rand(cfg.snippets) < cfg.text_drop).to(dev)
        lay = _layout(ds, extras["ids"], drop, cfg) if guided else None
        losses.append(flow_loss(model, zs, tok, mask, pool, cond, drop, ws, progress=prog, layout=lay))
        units.append(cfg.snippets * zs.shape[2])
    total = sum(units)
    return sum(loss * (u / total) for loss, u in zip(losses, units))


def train_unet(cfg: UNetTrainConfig, run_dir: Path, unet_cfg: UNetConfig | None = None, log=print,
               progress_dir: Path | None = None) -> VideoUNet:
    """Train (or resume) the U-Net; returns the EMA model.

    Resumes from run_dir/unet.pt; without one, from the U-Net weights in `progress_dir` (default: the shipped ones; with a
    fresh optimiser); without those, from scratch.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt = run_dir / "unet.pt"
    torch.manual_seed(cfg.seed)
    dev = torch.device(cfg.device)
    ae = load_autoencoder_for_training(run_dir).to("cpu")
    model, ema, opt, step, rng = _restore(ckpt, cfg, unet_cfg, log, progress_dir or progress_dir_default())
    log(f"u-net: {model.num_params() / 1e6:.2f} M parameters")
    buffer = ReplayBuffer(cfg.buffer_clips)  # whole encoded clips; snippets are cut at draw time
    # per-aspect caps round down, so the buffer can hold a little less than buffer_clips
    warm = min(sum(max(1, int(cfg.buffer_clips * w)) for w in ASPECT_WEIGHTS.values()), 256)
    while len(buffer) < warm:
        for aspect in ASPECTS:
            _fresh(ae, rng, 8, aspect, buffer, cfg.object_weight)
    log(f"clip buffer warm: {len(buffer)} clips")
    last_save, losses = time.time(), LossLog(run_dir, "unet", cfg.steps, step, log, 25)
    stop = stop_on_signal()
    while step < cfg.steps and not stop:
        aspect = str(rng.choice(list(ASPECTS), p=list(ASPECT_WEIGHTS.values())))
        _fresh(ae, rng, cfg.fresh_per_step, aspect, buffer, cfg.object_weight)
        for g in opt.param_groups:
            g["lr"] = learning_rate(cfg, step)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cfg.bf16):
            loss = _step_loss(model, cfg, buffer, aspect, rng)
        optimiser_step(model, ema, opt, loss, step, cfg.ema)
        step += 1
        losses.add(step, loss.item(), f" lr {learning_rate(cfg, step):.2e}")
        if time.time() - last_save > cfg.checkpoint_every_s or step == cfg.steps:
            _save(ckpt, model, ema, opt, step, rng, cfg)
            last_save = time.time()
    _save(ckpt, model, ema, opt, step, rng, cfg)
    return ema


def _restore(ckpt: Path, cfg: UNetTrainConfig, unet_cfg: UNetConfig | None, log, progress_dir: Path):
    """(model, ema, optimiser, step, rng): from the run's checkpoint, else the progress weights, else fresh."""
    dev = torch.device(cfg.device)
    step, rng = 0, np.random.default_rng(cfg.seed + 2)
    state = torch.load(ckpt, weights_only=False) if ckpt.exists() else None
    progress = None
    if state is not None:
        saved = dict(state["unet_cfg"])
        saved["channels"] = tuple(saved["channels"])
        unet_cfg = UNetConfig(**saved)
    elif (progress_dir / "unet.safetensors").exists():
        progress = load_unet(progress_dir)
        wants = (cfg.layout_dim, cfg.layout_coords and bool(cfg.layout_dim))
        if cfg.layout_dim and (progress.cfg.layout_dim, progress.cfg.layout_coords) != wants:
            progress = progress.widen_for_layout(cfg.layout_dim, cfg.layout_coords)
            log(f"widened the progress weights for a layout input ({cfg.layout_dim}-d object embeddings"
                f"{', object coordinates' if cfg.layout_coords else ''})")
        unet_cfg = progress.cfg
    model = VideoUNet(unet_cfg or UNetConfig(layout_dim=cfg.layout_dim, layout_coords=cfg.layout_coords and bool(cfg.layout_dim))).to(dev)
    ema = VideoUNet(model.cfg).to(dev)
    ema.load_state_dict(model.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01, betas=(0.9, 0.99))
    if state is not None:
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        step, rng = state["step"], state["rng"]
        torch.set_rng_state(state["torch_rng"])
        total, warm_start = state.get("schedule", (cfg.steps, 0))
        cfg.warmup_start = warm_start if total == cfg.steps else step  # a new schedule warms up again
        log(f"resumed u-net at step {step}")
    elif progress is not None:
        model.load_state_dict(progress.state_dict())
        ema.load_state_dict(progress.state_dict())
        step = int(read_config(progress_dir).get("unet_steps", 0))
        cfg.warmup_start = step  # a fresh optimiser: warm up again
        log(f"continuing from the committed progress weights at step {step} (optimiser state starts fresh)")
    return model, ema.eval(), opt, step, rng


def _save(ckpt: Path, model, ema, opt, step: int, rng, cfg: UNetTrainConfig) -> None:
    save_checkpoint(ckpt, {
        "model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step, "rng": rng,
        "torch_rng": torch.get_rng_state(), "unet_cfg": asdict(model.cfg), "schedule": (cfg.steps, cfg.warmup_start),
        "train_cfg": asdict(cfg),
    })


def export_unet(run_dir: Path, out_dir: Path) -> Path:
    """Write shipped-format weights (fp16 safetensors + config) from the run's U-Net checkpoint (its EMA).

    The autoencoder comes from the run's ae.pt if it has one, else from the shipped weights.
    """
    state = torch.load(run_dir / "unet.pt", weights_only=False)
    saved = dict(state["unet_cfg"])
    saved["channels"] = tuple(saved["channels"])
    unet = VideoUNet(UNetConfig(**saved))
    unet.load_state_dict(state["ema"])
    ae = load_autoencoder_for_training(run_dir)
    return save_weights(ae, unet, out_dir, {"unet_steps": state["step"], "recipe": "u-net v2, layout-guided, bold world, clips + snippets"})

"""Training the built-in model on the procedural world, in two stages.

1. `ae`: the frame autoencoder, on frames of random world videos (L1 + MSE,
   with noise on the latents so the decoder forgives the transformer's
   small errors). Afterwards the per-channel latent statistics are measured.
2. `dit`: the transformer, with rectified flow on normalised latents, caption
   dropout (for guidance) and random frame-conditioning masks. Data comes from
   a replay buffer: each step renders a few fresh videos, encodes them once,
   and trains on them together with older ones from the buffer, which keeps
   the renderer and the encoder from dominating the step time on 2 cores.

Both stages checkpoint (model, optimiser, EMA, step, RNG) every few minutes to
`--run-dir` and resume from there; `export` writes the shipped safetensors.
"""

from __future__ import annotations

import math
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ... import world
from ...fsio import atomic_path
from . import text as text_mod
from .autoencoder import AEConfig, FrameAutoencoder
from .dit import DiTConfig, VideoDiT
from .flow import flow_loss, random_cond_mask
from .spec import NATIVE_SIZES
from .train_log import log_record
from .weights import WEIGHTS_V1_DIR, load_autoencoder, load_dit, read_config, save_weights

ASPECTS = NATIVE_SIZES  # aspect -> (height, width) the model is trained and sampled at
ASPECT_WEIGHTS = {"16:9": 0.6, "1:1": 0.2, "9:16": 0.2}
FRAMES = 16


def default_run_dir() -> Path:
    return Path(os.environ.get("STORYREEL_RUN_DIR", Path.home() / ".cache" / "storyreel" / "train"))


@dataclass
class TrainConfig:
    """Knobs of one training run; stored in each checkpoint."""

    stage: str = "dit"
    steps: int = 20000
    batch: int = 32
    lr: float = 3e-4
    warmup: int = 200
    warmup_start: int = 0
    fresh_per_step: int = 2
    buffer_size: int = 24000
    text_drop: float = 0.1
    object_weight: float = 4.0  # extra loss weight on latent cells with objects (see object_weight)
    ema: float = 0.999
    seed: int = 0
    checkpoint_every_s: float = 300.0
    bf16: bool = True


def save_checkpoint(path: Path, payload: dict) -> None:
    with atomic_path(path, durable=True) as tmp:
        torch.save(payload, tmp)


def stop_on_signal() -> list[int]:
    """A list that becomes non-empty on SIGTERM/SIGINT, so the loop ends at a step boundary and checkpoints."""
    flag: list[int] = []

    def handler(signum, frame):  # noqa: ARG001
        flag.append(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
    return flag


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Linear warm-up (from warmup_start, where a fresh optimiser begins), then cosine to 10%."""
    cosine = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, max(0, step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))))
    since = step - cfg.warmup_start
    if 0 <= since < cfg.warmup:
        return cfg.lr * cosine * (since + 1) / cfg.warmup
    return cfg.lr * cosine


def optimiser_step(model: torch.nn.Module, ema: torch.nn.Module, opt: torch.optim.Optimizer, loss: torch.Tensor,
                   step: int, ema_decay: float) -> None:
    """Backward, clip to norm 1, step, then move the EMA towards the weights (faster in the first steps)."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    with torch.no_grad():
        decay = min(ema_decay, (1 + step) / (10 + step))
        for pe, pm in zip(ema.parameters(), model.parameters()):
            pe.lerp_(pm, 1 - decay)


def video_batch(rng: np.random.Generator, n: int, aspect: str, heldout: bool | None = False, masks: bool = False,
                style: world.WorldStyle = world.CLASSIC, samples_out: list | None = None):
    """(video (n, T, H, W, 3) uint8, captions) and, with masks, also (n, T, H, W) bool object masks.

    `samples_out`, if given, receives the world.Sample of each clip (scene and layout).
    """
    h, w = ASPECTS[aspect]
    samples = [world.sample(int(rng.integers(1 << 62)), h, w, FRAMES, heldout=heldout, masks=masks, style=style)
               for _ in range(n)]
    if samples_out is not None:
        samples_out.extend(samples)
    video = torch.from_numpy(np.stack([s.video for s in samples]))  # (n, T, H, W, 3) uint8
    if masks:
        return video, [s.caption for s in samples], torch.from_numpy(np.stack([s.masks >= 0 for s in samples]))
    return video, [s.caption for s in samples]


def object_weight(masks: torch.Tensor, downsample: int, weight: float) -> torch.Tensor:
    """Per latent cell loss weight (n, T, h, w): 1 on background, up to 1 + weight where objects are.

    Objects cover a few percent of the frame, and a plain mean over latent
    cells spends the transformer's effort on skies and grass: it drew the
    settings well long before shapes or motion. Cells touching an object (the
    mask pooled over each cell's pixels and its neighbours) weigh more.
    """
    n, t, hh, ww = masks.shape
    cells = torch.nn.functional.avg_pool2d(masks.float().reshape(n * t, 1, hh, ww), downsample)  # fraction per cell
    near = torch.nn.functional.max_pool2d(cells, 3, 1, 1)  # and the cells beside it
    return (1.0 + weight * torch.maximum(cells, 0.5 * near)).reshape(n, t, hh // downsample, ww // downsample)


# Stage 1: autoencoder -------------------------------------------------------


def train_autoencoder(cfg: TrainConfig, run_dir: Path, log=print) -> FrameAutoencoder:
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt = run_dir / "ae.pt"
    torch.manual_seed(cfg.seed)
    ae = FrameAutoencoder(AEConfig())
    opt = torch.optim.AdamW(ae.parameters(), lr=cfg.lr, weight_decay=0.0)
    step, rng = 0, np.random.default_rng(cfg.seed)
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        ae.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, rng = state["step"], state["rng"]
        log(f"resumed autoencoder at step {step}")
    last_save, t0 = time.time(), time.time()
    while step < cfg.steps:
        aspect = str(rng.choice(list(ASPECTS), p=list(ASPECT_WEIGHTS.values())))
        video, _ = video_batch(rng, max(1, cfg.batch // 4), aspect, heldout=None)
        pick = torch.from_numpy(rng.integers(FRAMES, size=(video.shape[0], 4)))  # 4 frames of each video
        video = torch.stack([v[p] for v, p in zip(video, pick)])
        x = video.reshape(-1, *video.shape[2:]).permute(0, 3, 1, 2).float() / 127.5 - 1.0  # (N, 3, H, W)
        for g in opt.param_groups:
            g["lr"] = learning_rate(cfg, step)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            z = ae.encode(x)
            z = z + 0.1 * z.detach().std() * torch.randn_like(z)
            y = ae.decode(z).float()
        # edges weigh more: shapes are small and plain L1/MSE is content to blur them
        edges = (x - torch.nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)).abs().mean(1, keepdim=True)
        weight = 1.0 + 10.0 * edges
        rec = ((y - x).abs() * weight).mean() + (((y - x) ** 2) * weight).mean()
        loss = rec + 1e-4 * (z.float() ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ae.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 25 == 0:
            rec_f = float(rec)
            log(f"ae step {step}/{cfg.steps} loss {rec_f:.4f} ({(time.time() - t0) / step:.2f}s/step)")
            log_record(run_dir, {"stage": "ae", "step": step, "loss": rec_f, "time": time.time()})
        if time.time() - last_save > cfg.checkpoint_every_s or step == cfg.steps:
            save_checkpoint(ckpt, {"model": ae.state_dict(), "opt": opt.state_dict(), "step": step, "rng": rng})
            last_save = time.time()
    _measure_latent_stats(ae, rng)
    save_checkpoint(ckpt, {"model": ae.state_dict(), "opt": opt.state_dict(), "step": step, "rng": rng})
    return ae


@torch.no_grad()
def _measure_latent_stats(ae: FrameAutoencoder, rng: np.random.Generator, n: int = 64) -> None:
    video, _ = video_batch(rng, n, "16:9", heldout=None)
    ae.latent_mean.zero_()
    ae.latent_std.fill_(1.0)
    z = ae.encode_video(video)  # (n, C, T, h, w), raw since stats are identity
    ae.latent_mean.copy_(z.mean(dim=(0, 2, 3, 4)))
    ae.latent_std.copy_(z.std(dim=(0, 2, 3, 4)))


# Stage 2: transformer -------------------------------------------------------


class ReplayBuffer:
    """Encoded training examples per aspect ratio: latents, caption tokens and pooled vectors (fp16)."""

    def __init__(self, size: int, text_len: int = text_mod.MAX_TOKENS) -> None:
        self.size, self.text_len = size, text_len
        self.data: dict[str, dict[str, list[torch.Tensor]]] = {}
        self.next: dict[str, int] = {}

    KEYS = ("z", "tok", "mask", "pool", "w")

    def add(self, aspect: str, latents: torch.Tensor, emb: text_mod.TextEmbedding, weights: torch.Tensor,
            extras: dict[str, torch.Tensor] | None = None) -> None:
        """Add a batch; `extras` are more per-example tensors (the layout-guided U-Net's object tracks and ids)."""
        emb = text_mod.pad_to(emb, self.text_len)
        extras = extras or {}
        keys = self.KEYS + tuple(extras)
        d = self.data.setdefault(aspect, {k: [] for k in keys})
        cap = max(1, int(self.size * ASPECT_WEIGHTS[aspect]))
        for i in range(latents.shape[0]):
            items = (latents[i].half(), emb.tokens[i].half(), emb.mask[i], emb.pooled[i].half(), weights[i].half(),
                     *(v[i] for v in extras.values()))
            if len(d["z"]) < cap:
                for key, v in zip(keys, items):
                    d[key].append(v)
            else:
                j = self.next.get(aspect, 0)
                for key, v in zip(keys, items):
                    d[key][j] = v
                self.next[aspect] = (j + 1) % cap

    def __len__(self) -> int:
        return sum(len(d["z"]) for d in self.data.values())

    def count(self, aspect: str) -> int:
        return len(self.data.get(aspect, {"z": []})["z"])

    def draw(self, aspect: str, n: int, rng: np.random.Generator):
        """(z, tok, mask, pool, w) of n random examples."""
        return self.draw_with_extras(aspect, n, rng)[0]

    def draw_with_extras(self, aspect: str, n: int, rng: np.random.Generator):
        """((z, tok, mask, pool, w), {extra name: tensor}) of n random examples."""
        d = self.data[aspect]
        idx = rng.integers(len(d["z"]), size=n)
        pick = lambda key: torch.stack([d[key][i] for i in idx])  # noqa: E731
        base = pick("z").float(), pick("tok").float(), pick("mask"), pick("pool").float(), pick("w").float()
        return base, {k: pick(k) for k in d if k not in self.KEYS}


def load_autoencoder_for_training(run_dir: Path) -> FrameAutoencoder:
    ae = FrameAutoencoder(AEConfig())
    ckpt = run_dir / "ae.pt"
    if ckpt.exists():
        ae.load_state_dict(torch.load(ckpt, weights_only=False)["model"])
    else:
        ae = load_autoencoder()
    return ae.eval()


@torch.no_grad()
def _fresh(ae, rng, n, aspect, buffer: ReplayBuffer, weight: float) -> None:
    video, captions, masks = video_batch(rng, n, aspect, masks=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        z = ae.encode_video(video).float()
    buffer.add(aspect, z, text_mod.encode(captions), object_weight(masks, ae.cfg.downsample, weight))


def train_dit(cfg: TrainConfig, run_dir: Path, dit_cfg: DiTConfig | None = None, log=print) -> VideoDiT:
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt = run_dir / "dit.pt"
    torch.manual_seed(cfg.seed)
    ae = load_autoencoder_for_training(run_dir)
    model = VideoDiT(dit_cfg or DiTConfig())
    ema = VideoDiT(model.cfg)
    ema.load_state_dict(model.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01, betas=(0.9, 0.99))
    step, rng = 0, np.random.default_rng(cfg.seed + 1)
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        model = VideoDiT(DiTConfig(**state["dit_cfg"]))
        ema = VideoDiT(model.cfg)
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01, betas=(0.9, 0.99))
        opt.load_state_dict(state["opt"])
        step, rng = state["step"], state["rng"]
        torch.set_rng_state(state["torch_rng"])
        log(f"resumed transformer at step {step}")
        saved = state.get("schedule")  # (total steps, warm-up start) of the run that wrote it
        if saved is not None and saved[0] == cfg.steps:
            cfg.warmup_start = saved[1]  # the same schedule: carry on, mid-warm-up included
        else:
            # a longer (or shorter) schedule moves the cosine: warm up to its new value rather than jump
            cfg.warmup_start = step
            log(f"new schedule of {cfg.steps} steps: the learning rate warms up again from step {step}")
    elif (WEIGHTS_V1_DIR / "dit.safetensors").exists():
        # a new machine without the run's checkpoint: continue from the shipped (EMA) weights
        shipped = load_dit(WEIGHTS_V1_DIR)
        if shipped.cfg == model.cfg:
            model.load_state_dict(shipped.state_dict())
            ema.load_state_dict(shipped.state_dict())
            step = int(read_config(WEIGHTS_V1_DIR).get("dit_steps", 0))
            cfg.warmup_start = step  # fresh optimiser state: warm up again
            log(f"continuing from the shipped weights at step {step} (optimiser state starts fresh)")
    log(f"transformer: {model.num_params() / 1e6:.1f} M parameters")
    buffer = ReplayBuffer(cfg.buffer_size)
    # per-aspect caps round down, so the buffer can hold a little less than buffer_size
    warm = min(sum(max(1, int(cfg.buffer_size * w)) for w in ASPECT_WEIGHTS.values()), 40 * cfg.batch)
    while len(buffer) < warm:  # fill the buffer before the first step
        for aspect in ASPECTS:
            _fresh(ae, rng, 16, aspect, buffer, cfg.object_weight)
    log(f"replay buffer warm: {len(buffer)} clips")
    ema.eval()
    last_save, t0, start_step = time.time(), time.time(), step
    losses: list[float] = []
    stop = stop_on_signal()
    while step < cfg.steps and not stop:
        aspect = str(rng.choice(list(ASPECTS), p=list(ASPECT_WEIGHTS.values())))
        _fresh(ae, rng, cfg.fresh_per_step, aspect, buffer, cfg.object_weight)
        z, tok, mask, pool, weight = buffer.draw(aspect, cfg.batch, rng)
        cond_mask = random_cond_mask(cfg.batch, z.shape[2])
        drop = torch.rand(cfg.batch) < cfg.text_drop
        for g in opt.param_groups:
            g["lr"] = learning_rate(cfg, step)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            loss = flow_loss(model, z, tok, mask, pool, cond_mask, drop, weight)
        optimiser_step(model, ema, opt, loss, step, cfg.ema)
        step += 1
        losses.append(loss.item())
        if step % 25 == 0:
            mean = sum(losses) / len(losses)
            losses.clear()
            rate = (time.time() - t0) / (step - start_step)
            log(f"dit step {step}/{cfg.steps} loss {mean:.4f} lr {learning_rate(cfg, step):.2e} ({rate:.2f}s/step)")
            log_record(run_dir, {"stage": "dit", "step": step, "loss": mean, "time": time.time()})
        if time.time() - last_save > cfg.checkpoint_every_s or step == cfg.steps:
            _save_dit(ckpt, model, ema, opt, step, rng, cfg)
            last_save = time.time()
    _save_dit(ckpt, model, ema, opt, step, rng, cfg)
    return ema


def _save_dit(ckpt: Path, model, ema, opt, step: int, rng, cfg: TrainConfig) -> None:
    save_checkpoint(
        ckpt,
        {
            "model": model.state_dict(),
            "ema": ema.state_dict(),
            "opt": opt.state_dict(),
            "step": step,
            "rng": rng,
            "torch_rng": torch.get_rng_state(),
            "dit_cfg": asdict(model.cfg),
            "schedule": (cfg.steps, cfg.warmup_start),  # so a resume can tell a longer schedule from the same one
        },
    )


def export(run_dir: Path, out_dir: Path = WEIGHTS_V1_DIR) -> Path:
    """Write the shipped weights (fp16 safetensors + config) from the run's checkpoints."""
    ae_state = torch.load(run_dir / "ae.pt", weights_only=False)
    dit_state = torch.load(run_dir / "dit.pt", weights_only=False)
    ae = FrameAutoencoder(AEConfig())
    ae.load_state_dict(ae_state["model"])
    dit = VideoDiT(DiTConfig(**dit_state["dit_cfg"]))
    dit.load_state_dict(dit_state["ema"])
    return save_weights(ae, dit, out_dir, {"ae_steps": ae_state["step"], "dit_steps": dit_state["step"]})


def main(stage: str, steps: int | None = None, run_dir: Path | None = None, **overrides) -> None:
    """Entry point for `storyreel train builtin`."""
    run_dir = run_dir or default_run_dir()
    cfg = TrainConfig(stage=stage, **overrides)
    if steps is not None:
        cfg.steps = steps
    if stage == "ae":
        cfg.lr = overrides.get("lr", 1e-3)
        cfg.batch = overrides.get("batch", 32)
        train_autoencoder(cfg, run_dir)
    elif stage == "dit":
        train_dit(cfg, run_dir)
    else:  # the evaluation's probe is trained by eval.probe (`storyreel train builtin --stage probe`)
        raise ValueError(f"unknown stage {stage!r}: use ae or dit")

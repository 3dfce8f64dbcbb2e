"""A pixel probe: small convolutional nets that read what a frame shows.

Evaluation must judge generated videos by their pixels, not by the model that
made them. The renderer gives exact per-pixel truth (which object covers each
pixel, its colour and shape, and the setting), so a probe trained on rendered
frames is a detector with a known ceiling: scored on the renderer's own videos
it should be right nearly always. Hand-written colour rules fail where the
world is ambiguous (a green object on the meadow, a white one against clouds);
a trained probe does not.

Two nets, each with an easy job:

- `PixelNet` labels every pixel as background or an object's colour, and the
  frame's setting. It is dense, like a segmentation net, because a first probe
  that read whole frames into two left-to-right "slots" learned the setting
  but not colour or shape: dense labels give every object pixel its own
  supervision.
- `ShapeNet` names the shape of one object from a square crop around it,
  scaled to 24x24. Asked per pixel, the dense net stayed at chance on shape
  after 2,000 steps; a crop normalises position and size away, which makes
  shape an easy, MNIST-sized problem.

Objects, tracks and motions are read from the two (evaluate.read). Frames of
any size are first scaled to a 48-pixel short side, the scale both are
trained at.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from .. import world
from ..fsio import atomic_path

PROBE_PATH = Path(__file__).resolve().parent / "probe.safetensors"
COLOURS = list(world.COLOURS)
SHAPES = list(world.SHAPES)
SETTINGS = list(world.SETTINGS)
SHORT_SIDE = 48
SIZES = tuple(world.SIZES.values())  # (height, width): the built-in model's native sizes, which eval reads
CROP = 24
MIN_AREA = 6  # pixels: smaller regions are too few to name a shape


def _block(a: int, b: int, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(a, b, 3, padding=dilation, dilation=dilation), nn.BatchNorm2d(b), nn.ReLU(inplace=True))


class PixelNet(nn.Module):
    """Frame (N, 3, H, W) in [-1, 1] -> colour logits (N, 1+C, H, W) (0 = background) and setting logits (N, 4).

    A small U-Net (full, half and quarter resolution) so each pixel sees its
    object's surroundings: a green object on the meadow is told from grass by
    its outline, not its colour alone.
    """

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        c = width
        self.enc1 = nn.Sequential(_block(3, c), _block(c, c))
        self.enc2 = nn.Sequential(_block(c, 2 * c), _block(2 * c, 2 * c))
        self.enc3 = nn.Sequential(_block(2 * c, 3 * c), _block(3 * c, 3 * c, 2), _block(3 * c, 3 * c, 4))
        self.dec2 = nn.Sequential(_block(5 * c, 2 * c), _block(2 * c, 2 * c))
        self.dec1 = nn.Sequential(_block(3 * c, c), _block(c, c))
        self.pixel = nn.Conv2d(c, 1 + len(COLOURS), 1)
        self.setting = nn.Linear(3 * c, len(SETTINGS))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        e1 = self.enc1(x)  # (N, c, H, W)
        e2 = self.enc2(F.avg_pool2d(e1, 2, ceil_mode=True))  # (N, 2c, H/2, W/2)
        e3 = self.enc3(F.avg_pool2d(e2, 2, ceil_mode=True))  # (N, 3c, H/4, W/4)
        d2 = self.dec2(torch.cat([e2, F.interpolate(e3, size=e2.shape[-2:], mode="bilinear", align_corners=False)], 1))
        d1 = self.dec1(torch.cat([e1, F.interpolate(d2, size=e1.shape[-2:], mode="bilinear", align_corners=False)], 1))
        return {"colour": self.pixel(d1), "setting": self.setting(e3.mean((2, 3)))}


class ShapeNet(nn.Module):
    """Object crops (N, 3, 24, 24) in [-1, 1] -> shape logits (N, S)."""

    def __init__(self, width: int = 24) -> None:
        super().__init__()
        c = width

        def down(a: int, b: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(a, b, 3, stride=2, padding=1), nn.BatchNorm2d(b), nn.ReLU(inplace=True))

        self.net = nn.Sequential(_block(3, c), down(c, 2 * c), _block(2 * c, 2 * c), down(2 * c, 3 * c), down(3 * c, 3 * c))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(3 * c * 9, 96), nn.ReLU(inplace=True), nn.Linear(96, len(SHAPES)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.net(x))  # (N, 3c, 3, 3) -> (N, S)


class Probe(nn.Module):
    """The two nets, saved and loaded as one file."""

    def __init__(self) -> None:
        super().__init__()
        self.pixels = PixelNet()
        self.shapes = ShapeNet()


def crop_object(frame: np.ndarray, region: np.ndarray) -> np.ndarray:
    """A CROP x CROP square of `frame` (H, W, 3) uint8 around the object covering `region` (H, W) bool.

    The square is 1.25x the region's larger side, centred on its bounding box,
    so every object fills the crop the same way whatever its size; the frame's
    edge is repeated where the square leaves it.
    """
    ys, xs = np.nonzero(region)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    side = 1.25 * max(y1 - y0, x1 - x0) + 2
    k = CROP / side
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    m = np.array([[k, 0, CROP / 2 - k * cx], [0, k, CROP / 2 - k * cy]], np.float32)
    return cv2.warpAffine(frame, m, (CROP, CROP), flags=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    return ((x.permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def labelled_batch(rng: np.random.Generator, n: int, height: int, width: int, frames: int = 4):
    """Frames of n random scenes (frames each, spread over the clip) with per-pixel labels.

    Returns x (N, 3, H, W) in [-1, 1] and labels: colour (N, H, W) with 0 for
    background and 1 + colour index on objects; objects (N, H, W) with the
    covering object's index in its scene, -1 on background; shape (N, H, W)
    with the covering object's shape index, -100 on background; setting (N,).
    """
    xs, colour, objects, shape, setting = [], [], [], [], []
    for _ in range(n):
        scene = world.random_scene(rng, heldout=None)
        layout = world.random_layout(scene, rng, width / height)
        masks = np.full((frames, height, width), -1, np.int8)
        xs.append(world.render(scene, layout, height, width, frames, masks=masks))
        col_of = np.array([0] + [1 + COLOURS.index(t.colour) for t in scene.things])
        shp_of = np.array([-100] + [SHAPES.index(t.shape) for t in scene.things])
        colour.append(col_of[masks + 1])
        shape.append(shp_of[masks + 1])
        objects.append(masks)
        setting += [SETTINGS.index(scene.setting)] * frames
    labels = {
        "colour": torch.from_numpy(np.concatenate(colour)).long(),
        "objects": np.concatenate(objects),
        "shape": torch.from_numpy(np.concatenate(shape)).long(),
        "setting": torch.tensor(setting),
    }
    return _to_tensor(np.concatenate(xs)), labels


def object_crops(frames: np.ndarray, labels: dict, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Crops (M, 24, 24, 3) of every object big enough to name, with their shape indices (M,).

    With `rng`, each region is grown or shrunk by a pixel at random first, as
    the probe's own regions of a generated frame are never exact.
    """
    crops, shapes = [], []
    kernel = np.ones((3, 3), np.uint8)
    for i, ids in enumerate(labels["objects"]):
        for k in np.unique(ids[ids >= 0]):
            region = ids == k
            shape = int(labels["shape"][i][torch.from_numpy(region)][0])
            if rng is not None:
                jitter = rng.integers(3)
                if jitter:
                    moved = (cv2.dilate if jitter == 1 else cv2.erode)(region.astype(np.uint8), kernel) > 0
                    region = moved if moved.sum() >= MIN_AREA else region
            if region.sum() < MIN_AREA:
                continue
            crops.append(crop_object(frames[i], region))
            shapes.append(shape)
    return np.array(crops, np.uint8).reshape(-1, CROP, CROP, 3), np.array(shapes, np.int64)


def degrade(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Blur, noise and a slight tone shift, so the probe reads imperfect (generated, re-encoded) frames too."""
    n = x.shape[0]
    sigma = float(torch.rand(1, generator=g)) * 1.2
    if sigma > 0.3:
        k = torch.arange(-2, 3, dtype=torch.float32)
        w = torch.exp(-(k**2) / (2 * sigma**2))
        w = (w / w.sum()).to(x)
        c = x.shape[1]
        x = F.conv2d(F.pad(x, (2, 2, 0, 0), mode="replicate"), w.view(1, 1, 1, 5).expand(c, 1, 1, 5), groups=c)
        x = F.conv2d(F.pad(x, (0, 0, 2, 2), mode="replicate"), w.view(1, 1, 5, 1).expand(c, 1, 5, 1), groups=c)
    gain = 1 + 0.08 * (torch.rand(n, 1, 1, 1, generator=g) - 0.5)
    shift = 0.06 * (torch.rand(n, 3, 1, 1, generator=g) - 0.5)
    noise = torch.randn(x.shape, generator=g) * float(torch.rand(1, generator=g)) * 0.06
    return (x * gain + shift + noise).clamp(-1, 1)


# colour classes: background is most pixels; weigh objects up so small ones are not ignored
_COLOUR_WEIGHT = torch.tensor([1.0] + [4.0] * len(COLOURS))


def train_probe(steps: int = 2000, scenes: int = 6, seed: int = 1234, log=print) -> Probe:
    """Train both nets on rendered frames of all three aspect ratios (about 15 minutes on one core)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    probe = Probe()
    opt = torch.optim.AdamW(probe.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.1)
    for step in range(steps):
        h, w = SIZES[step % 3]
        x, y = labelled_batch(rng, scenes, h, w)
        x = degrade(x, g)
        out = probe.pixels(x)
        pixel_loss = F.cross_entropy(out["colour"], y["colour"], weight=_COLOUR_WEIGHT) + F.cross_entropy(out["setting"], y["setting"])
        crops, shapes = object_crops(_to_uint8(x), y, rng)
        shape_loss = F.cross_entropy(probe.shapes(_to_tensor(crops)), torch.from_numpy(shapes)) if len(shapes) else x.new_zeros(())
        loss = pixel_loss + shape_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % 100 == 0:
            log(f"probe step {step + 1}/{steps} pixels {pixel_loss.item():.3f} shape {shape_loss.item():.3f}")
    return probe.eval()


def save_probe(probe: Probe, path: Path = PROBE_PATH) -> None:
    state = {k: v.detach().to(torch.float16 if v.is_floating_point() else v.dtype).contiguous() for k, v in probe.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp))


def load_probe(path: Path = PROBE_PATH) -> Probe:
    probe = Probe()
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in load_file(str(path)).items()}
    probe.load_state_dict(state)
    return probe.eval()


def to_probe_scale(video: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 scaled so the short side is the probe's 48 px (area filter)."""
    h, w = video.shape[1:3]
    k = SHORT_SIDE / min(h, w)
    if abs(k - 1) < 1e-6:
        return video
    size = (max(1, round(w * k)), max(1, round(h * k)))
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in video])


@torch.no_grad()
def read_video(probe: Probe, video: np.ndarray) -> dict[str, np.ndarray]:
    """Label every pixel of (T, H, W, 3) uint8 at probe scale.

    Returns the scaled frames (T, h, w, 3), colour probabilities per pixel
    (T, h, w, 1+C) and setting probabilities per frame (T, 4).
    """
    v = to_probe_scale(video)
    out = probe.pixels(_to_tensor(v))
    return {
        "frames": v,
        "colour": out["colour"].softmax(1).permute(0, 2, 3, 1).numpy(),
        "setting": out["setting"].softmax(-1).numpy(),
    }


@torch.no_grad()
def read_shapes(probe: Probe, frames: list[np.ndarray], regions: list[np.ndarray]) -> np.ndarray:
    """Shape probabilities (M, S) of the objects covering `regions` of `frames` (probe scale)."""
    if not frames:
        return np.zeros((0, len(SHAPES)), np.float32)
    crops = np.stack([crop_object(f, r) for f, r in zip(frames, regions)])
    return probe.shapes(_to_tensor(crops)).softmax(-1).numpy()

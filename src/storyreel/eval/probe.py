"""A pixel probe: a small CNN that reads a frame and says what the world shows.

Evaluation must judge generated videos by their pixels, not by the model that
made them. The renderer gives exact per-frame truth (setting, how many
objects, each object's colour, shape, screen position and size), so a probe
trained on rendered frames is a detector with a known ceiling: scored on the
renderer's own videos it should be right nearly always. Hand-written colour
rules fail where the world is ambiguous (a green object on the meadow, a white
one against clouds); a trained probe does not.

Per frame it predicts the setting, the object count, and two slots ordered
left to right on screen: colour, shape and box (centre x, centre y, radius in
short-side units). Motions are read from the boxes over time (tracks.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.builtin import world

PROBE_PATH = Path(__file__).resolve().parent / "probe.safetensors"
COLOURS = list(world.COLOURS)
SHAPES = list(world.SHAPES)
SETTINGS = list(world.SETTINGS)


class Probe(nn.Module):
    """Frame (N, 3, H, W) in [-1, 1] -> logits and boxes for setting, count and two slots."""

    def __init__(self, width: int = 48) -> None:
        super().__init__()
        c = width

        def block(a: int, b: int, stride: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(a, b, 3, stride=stride, padding=1), nn.BatchNorm2d(b), nn.ReLU(inplace=True))

        self.features = nn.Sequential(
            block(3, c, 1), block(c, c, 2), block(c, 2 * c, 1), block(2 * c, 2 * c, 2), block(2 * c, 4 * c, 1), block(4 * c, 4 * c, 2)
        )
        self.pool = nn.AdaptiveAvgPool2d((3, 5))
        n = 4 * c * 15
        self.trunk = nn.Sequential(nn.Linear(n, 256), nn.ReLU(inplace=True))
        self.setting = nn.Linear(256, len(SETTINGS))
        self.count = nn.Linear(256, 2)
        self.slots = nn.ModuleList([nn.Linear(256, len(COLOURS) + len(SHAPES) + 3) for _ in range(2)])

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.trunk(self.pool(self.features(x)).flatten(1))  # (N, 256)
        out = {"setting": self.setting(h), "count": self.count(h)}
        for i, head in enumerate(self.slots):
            y = head(h)
            out[f"colour{i}"] = y[:, : len(COLOURS)]
            out[f"shape{i}"] = y[:, len(COLOURS) : len(COLOURS) + len(SHAPES)]
            out[f"box{i}"] = y[:, -3:]
        return out


@dataclass
class FrameTruth:
    """Per-frame labels from the renderer: objects sorted left to right on screen."""

    setting: int
    count: int
    colours: list[int]
    shapes: list[int]
    boxes: list[tuple[float, float, float]]


def screen_objects(scene: world.Scene, layout: world.Layout, height: int, width: int, frames: int) -> list[list[tuple]]:
    """For each frame: [(thing_index, x, y, r)] in short-side screen units, sorted by x."""
    aspect = width / height
    w, h = (aspect, 1.0) if aspect >= 1 else (1.0, 1.0 / aspect)
    out = []
    for f in range(frames):
        s = f / max(frames - 1, 1)
        zoom, px, py = world.camera_transform(scene.camera, s)
        objs = []
        for i, (thing, c, size) in enumerate(zip(scene.things, layout.centres, layout.sizes)):
            ox, oy, r = world.object_state(thing, c, size, s, layout.speed)
            objs.append((i, w / 2 + (ox - px - w / 2) * zoom, h / 2 + (oy - py - h / 2) * zoom, r * zoom))
        out.append(sorted(objs, key=lambda o: o[1]))
    return out


def labelled_batch(rng: np.random.Generator, n: int, height: int, width: int, frames: int = 16):
    """Random rendered frames with labels: (N, 3, H, W) float tensor and a dict of label tensors."""
    xs, setting, count, colours, shapes, boxes, present = [], [], [], [], [], [], []
    for _ in range(n):
        scene = world.random_scene(rng, heldout=None)
        layout = world.random_layout(scene, rng, width / height)
        video = world.render(scene, layout, height, width, frames)
        objs = screen_objects(scene, layout, height, width, frames)
        for f in rng.choice(frames, size=2, replace=False):
            xs.append(video[f])
            setting.append(SETTINGS.index(scene.setting))
            count.append(len(scene.things) - 1)
            col, shp, box, pres = [0, 0], [0, 0], [(0.0, 0.0, 0.0)] * 2, [0.0, 0.0]
            for slot, (i, x, y, r) in enumerate(objs[f]):
                thing = scene.things[i]
                col[slot], shp[slot], box[slot], pres[slot] = COLOURS.index(thing.colour), SHAPES.index(thing.shape), (x, y, r), 1.0
            colours.append(col)
            shapes.append(shp)
            boxes.append(box)
            present.append(pres)
    x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    labels = {
        "setting": torch.tensor(setting),
        "count": torch.tensor(count),
        "colour": torch.tensor(colours),
        "shape": torch.tensor(shapes),
        "box": torch.tensor(boxes, dtype=torch.float32),
        "present": torch.tensor(present),
    }
    return x, labels


def probe_loss(out: dict[str, torch.Tensor], y: dict[str, torch.Tensor]) -> torch.Tensor:
    loss = F.cross_entropy(out["setting"], y["setting"]) + F.cross_entropy(out["count"], y["count"])
    for i in range(2):
        p = y["present"][:, i]
        ce = F.cross_entropy(out[f"colour{i}"], y["colour"][:, i], reduction="none") + F.cross_entropy(
            out[f"shape{i}"], y["shape"][:, i], reduction="none"
        )
        box = F.smooth_l1_loss(out[f"box{i}"], y["box"][:, i], reduction="none", beta=0.05).sum(-1) * 10
        loss = loss + ((ce + box) * p).sum() / p.sum().clamp(min=1)
    return loss


def train_probe(steps: int = 1500, batch: int = 24, seed: int = 1234, log=print) -> Probe:
    """Train the probe on rendered frames of all three aspect ratios (a few minutes on 2 cores)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    probe = Probe()
    opt = torch.optim.AdamW(probe.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    sizes = [(48, 80), (48, 48), (80, 48)]
    for step in range(steps):
        h, w = sizes[step % 3]
        x, y = labelled_batch(rng, batch // 2, h, w)
        loss = probe_loss(probe(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % 100 == 0:
            log(f"probe step {step + 1}/{steps} loss {float(loss):.3f}")
    return probe.eval()


def save_probe(probe: Probe, path: Path = PROBE_PATH) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().to(torch.float16 if v.is_floating_point() else v.dtype).contiguous() for k, v in probe.state_dict().items()}
    save_file(state, str(path))


def load_probe(path: Path = PROBE_PATH) -> Probe:
    from safetensors.torch import load_file

    probe = Probe()
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in load_file(str(path)).items()}
    probe.load_state_dict(state)
    return probe.eval()


@torch.no_grad()
def read_video(probe: Probe, video: np.ndarray) -> dict[str, np.ndarray]:
    """Probe every frame of (T, H, W, 3) uint8: per-frame probabilities and boxes as numpy arrays."""
    x = torch.from_numpy(np.ascontiguousarray(video)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    out = probe(x)
    res = {"setting": out["setting"].softmax(-1).numpy(), "count": out["count"].softmax(-1).numpy()}
    for i in range(2):
        res[f"colour{i}"] = out[f"colour{i}"].softmax(-1).numpy()
        res[f"shape{i}"] = out[f"shape{i}"].softmax(-1).numpy()
        res[f"box{i}"] = out[f"box{i}"].numpy()
    return res

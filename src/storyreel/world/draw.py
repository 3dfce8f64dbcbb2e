"""Drawing the world: a scene and its layout rendered to frames, deterministically, at any size and length.

Objects are signed-distance shapes with a little top light, over a textured
setting, seen through the scene's camera move; `render` can also write each
pixel's object index (the masks training weighs its loss with).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .scene import CLASSIC, COLOURS, SHAPES, Layout, Scene, Thing, WorldStyle, caption, random_scene


def random_layout(scene: Scene, rng: np.random.Generator, aspect: float, style: WorldStyle = CLASSIC) -> Layout:
    """Positions that keep each object's whole on-screen path inside the frame.

    World units: the frame's short side spans 1.0. Candidates are drawn and
    the object's screen position (object motion and camera move together) is
    checked at the start, middle and end of the clip; the pair of a
    two-object scene stays in the left and right halves.
    """
    w, h = (aspect, 1.0) if aspect >= 1 else (1.0, 1.0 / aspect)
    speed = float(rng.uniform(0.85, 1.15))
    # the classic style draws no travel, so its layouts (and every picture made from them) stay as they were
    travel = style.travel[0] if style.travel[0] == style.travel[1] else float(rng.uniform(*style.travel))
    centres, sizes = [], []
    n = len(scene.things)
    for i, thing in enumerate(scene.things):
        size = float(rng.uniform(*style.size))
        lo_x, hi_x = (0.0, w) if n == 1 else ((0.0, w / 2) if i == 0 else (w / 2, w))
        best, best_err = (w / 2, h / 2), float("inf")
        for _ in range(64):
            c = (float(rng.uniform(lo_x, hi_x)), float(rng.uniform(0.0, h)))
            err = 0.0
            for s in (0.0, 0.5, 1.0):
                ox, oy, r = object_state(thing, c, size, s, speed, travel)
                zoom, px, py = camera_transform(scene.camera, s)
                sx, sy = w / 2 + (ox - px - w / 2) * zoom, h / 2 + (oy - py - h / 2) * zoom
                m = min(r * zoom, 0.3) + 0.03
                err += max(0.0, lo_x + m - sx) + max(0.0, sx - (hi_x - m)) + max(0.0, m - sy) + max(0.0, sy - (h - m))
            if err < best_err:
                best, best_err = c, err
            if err == 0.0:
                break
        centres.append(best)
        sizes.append(size)
    return Layout(tuple(centres), tuple(sizes), int(rng.integers(1 << 30)), speed, travel)


def _shape_polygon(shape: str) -> np.ndarray:
    """Unit-radius outline (N, 2), y pointing down, for polygon shapes."""
    if shape == "square":
        s = 0.82
        return np.array([[-s, -s], [s, -s], [s, s], [-s, s]])
    if shape == "triangle":
        a = np.deg2rad([-90, 30, 150])
        return np.stack([np.cos(a), np.sin(a) + 0.18], axis=1) * 1.05
    if shape == "star":
        k = np.arange(10)
        r = np.where(k % 2 == 0, 1.1, 0.45)
        a = np.deg2rad(-90 + 36 * k)
        return np.stack([r * np.cos(a), r * np.sin(a) + 0.08], axis=1)
    if shape == "heart":
        t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
        x = 16 * np.sin(t) ** 3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        return np.stack([x, y + 2.0], axis=1) / 16.0
    raise ValueError(shape)


_POLYGONS = {s: _shape_polygon(s) for s in SHAPES if s != "circle"}


def _polygon_sdf(px: np.ndarray, py: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Signed distance (negative inside) from points (H, W) to a closed polygon (N, 2)."""
    a = poly
    b = np.roll(poly, -1, axis=0)
    p = np.stack([px, py], axis=-1)[..., None, :]  # (H, W, 1, 2)
    e = b - a  # (N, 2)
    w = p - a  # (H, W, N, 2)
    t = np.clip((w * e).sum(-1) / (e * e).sum(-1), 0.0, 1.0)
    d = np.sqrt(((w - e * t[..., None]) ** 2).sum(-1)).min(-1)  # (H, W)
    # crossing number for inside/outside
    ay, by = a[:, 1], b[:, 1]
    cond = (ay <= py[..., None]) != (by <= py[..., None])
    xint = a[:, 0] + (py[..., None] - ay) / np.where(by - ay == 0, 1e-9, by - ay) * e[:, 0]
    inside = (cond & (px[..., None] < xint)).sum(-1) % 2 == 1
    return np.where(inside, -d, d)


def _shape_sdf(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Signed distance in unit-radius shape space."""
    if shape == "circle":
        return np.sqrt(u * u + v * v) - 0.9
    return _polygon_sdf(u, v, _POLYGONS[shape])


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _background(setting: str, x: np.ndarray, y: np.ndarray, h_world: float, tex: np.random.Generator) -> np.ndarray:
    """Background colour (H, W, 3) float 0..1 at world points; y down, 0..h_world is the framed height."""
    yn = y / h_world  # 0 top, 1 bottom of the starting view
    if setting == "day sky":
        top, bottom = np.array([0.30, 0.55, 0.92]), np.array([0.70, 0.85, 0.98])
        img = top + (bottom - top) * _smoothstep(yn)[..., None]
        for _ in range(7):  # soft clouds
            cx, cy = tex.uniform(-1.5, 3.3), tex.uniform(-0.3, 0.9) * h_world
            rx, ry = tex.uniform(0.15, 0.35), tex.uniform(0.05, 0.09)
            a = np.exp(-(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2) * 2.0) * 0.8
            img = img + (np.array([0.98, 0.98, 1.0]) - img) * a[..., None]
        return img
    if setting == "sunset":
        top, mid, low = np.array([0.32, 0.16, 0.42]), np.array([0.90, 0.42, 0.35]), np.array([0.99, 0.70, 0.35])
        t = _smoothstep(yn)[..., None]
        img = np.where(t < 0.6, top + (mid - top) * (t / 0.6), mid + (low - mid) * ((t - 0.6) / 0.4))
        phase, freq = tex.uniform(0, 6.28), tex.uniform(2.0, 4.0)
        horizon = h_world * (0.86 + 0.05 * np.sin(x * freq + phase))
        hills = _smoothstep((y - horizon) / 0.01)[..., None]
        return img * (1 - hills) + np.array([0.16, 0.07, 0.18]) * hills
    if setting == "night sky":
        top, bottom = np.array([0.02, 0.03, 0.10]), np.array([0.08, 0.10, 0.26])
        img = top + (bottom - top) * _smoothstep(yn)[..., None]
        # stars: splat only those near the view, each onto a few pixels (cheap at any size)
        n = 160
        sx, sy = tex.uniform(-2.0, 4.0, n), tex.uniform(-1.0, 2.0, n) * h_world
        b = tex.uniform(0.4, 0.9, n)
        x0, y0 = x[0, 0], y[0, 0]
        dx = (x[0, -1] - x0) / max(x.shape[1] - 1, 1)
        dy = (y[-1, 0] - y0) / max(y.shape[0] - 1, 1)
        stars = np.zeros(x.shape)
        fj, fi = (sx - x0) / dx, (sy - y0) / dy
        keep = (fj > -2) & (fj < x.shape[1] + 1) & (fi > -2) & (fi < x.shape[0] + 1)
        sigma = 0.006 / dx
        for j0, i0, bb in zip(fj[keep], fi[keep], b[keep]):
            ji, ii = int(round(j0)), int(round(i0))
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    pi, pj = ii + di, ji + dj
                    if 0 <= pi < x.shape[0] and 0 <= pj < x.shape[1]:
                        stars[pi, pj] += bb * np.exp(-((pj - j0) ** 2 + (pi - i0) ** 2) / (2 * max(sigma, 0.35) ** 2))
        return img + np.clip(stars, 0, 1)[..., None] * (np.array([0.95, 0.95, 0.85]) - img)
    if setting == "meadow":
        sky_top, sky_low = np.array([0.45, 0.68, 0.95]), np.array([0.78, 0.90, 0.98])
        sky = sky_top + (sky_low - sky_top) * _smoothstep(yn / 0.45)[..., None]
        phase = tex.uniform(0, 6.28)
        stripes = 0.5 + 0.5 * np.sin(x * 23.0 + phase + 3.0 * np.sin(y * 7.0))
        grass = np.array([0.25, 0.58, 0.20]) + (np.array([0.34, 0.70, 0.26]) - np.array([0.25, 0.58, 0.20])) * stripes[..., None]
        horizon = h_world * (0.45 + 0.02 * np.sin(x * 3.0 + phase))
        g = _smoothstep((y - horizon) / 0.01)[..., None]
        return sky * (1 - g) + grass * g
    raise ValueError(setting)


def camera_transform(camera: str, s: float) -> tuple[float, float, float]:
    """Camera at clip progress s in [0, 1]: (zoom, pan_x, pan_y) with zoom about the frame centre."""
    if camera == "zoom in":
        return math.exp(0.55 * s), 0.0, 0.0
    if camera == "zoom out":
        return math.exp(-0.45 * s), 0.0, 0.0
    if camera == "pan left":
        return 1.0, -0.45 * s, 0.0
    if camera == "pan right":
        return 1.0, 0.45 * s, 0.0
    return 1.0, 0.0, 0.0


def object_state(thing: Thing, centre: tuple[float, float], size: float, s: float, speed: float = 1.0,
                 travel: float = 0.42) -> tuple[float, float, float]:
    """World position and radius of an object at clip progress s."""
    x, y = centre
    d = travel * s * speed
    if thing.motion == "left":
        x -= d
    elif thing.motion == "right":
        x += d
    elif thing.motion == "up":
        y -= d
    elif thing.motion == "down":
        y += d
    r = size
    if thing.motion == "grows":
        r = size * (0.7 + 0.9 * s * speed)
    elif thing.motion == "shrinks":
        r = size * (1.5 - 0.85 * s * speed)
    return x, y, r


def screen_objects(scene: Scene, layout: Layout, height: int, width: int, frames: int) -> list[list[tuple]]:
    """For each frame: [(thing_index, x, y, r)] in short-side screen units, sorted by x."""
    aspect = width / height
    w, h = (aspect, 1.0) if aspect >= 1 else (1.0, 1.0 / aspect)
    out = []
    for f in range(frames):
        s = f / max(frames - 1, 1)
        zoom, px, py = camera_transform(scene.camera, s)
        objs = []
        for i, (thing, c, size) in enumerate(zip(scene.things, layout.centres, layout.sizes)):
            ox, oy, r = object_state(thing, c, size, s, layout.speed, layout.travel)
            objs.append((i, w / 2 + (ox - px - w / 2) * zoom, h / 2 + (oy - py - h / 2) * zoom, r * zoom))
        out.append(sorted(objs, key=lambda o: o[1]))
    return out


def render(scene: Scene, layout: Layout, height: int, width: int, frames: int, masks: np.ndarray | None = None) -> np.ndarray:
    """Render (T, H, W, 3) uint8. Progress s runs 0..1 over the clip, whatever its frame count.

    With `masks` (T, H, W) integer array, also write which object covers each
    pixel (its index in scene.things, the later one where they overlap) and
    leave the rest untouched: the per-pixel truth the evaluation probe learns from.
    """
    aspect = width / height
    w_world, h_world = (aspect, 1.0) if aspect >= 1 else (1.0, 1.0 / aspect)
    scale = w_world / width  # world units per pixel
    jj, ii = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    base_x, base_y = jj * scale, ii * scale
    cx, cy = w_world / 2, h_world / 2
    out = np.empty((frames, height, width, 3), np.uint8)
    static_bg = None
    for f in range(frames):
        s = f / max(frames - 1, 1)
        zoom, pan_x, pan_y = camera_transform(scene.camera, s)
        x = cx + (base_x - cx) / zoom + pan_x
        y = cy + (base_y - cy) / zoom + pan_y
        if scene.camera == "static" and static_bg is not None:
            img = static_bg.copy()
        else:
            img = _background(scene.setting, x, y, h_world, np.random.default_rng(layout.texture_seed))
            if scene.camera == "static":
                static_bg = img.copy()
        px_world = scale / zoom
        for k, (thing, centre, size) in enumerate(zip(scene.things, layout.centres, layout.sizes)):
            ox, oy, r = object_state(thing, centre, size, s, layout.speed, layout.travel)
            # only the pixels near the object: its bounding box in screen space
            sx, sy = cx + (ox - pan_x - cx) * zoom, cy + (oy - pan_y - cy) * zoom
            rad = 1.25 * r * zoom / scale + 2
            j0, j1 = max(0, int(sx / scale - rad)), min(width, int(sx / scale + rad) + 1)
            i0, i1 = max(0, int(sy / scale - rad)), min(height, int(sy / scale + rad) + 1)
            if j0 >= j1 or i0 >= i1:
                continue
            bx, by = x[i0:i1, j0:j1], y[i0:i1, j0:j1]
            sdf = _shape_sdf(thing.shape, (bx - ox) / r, (by - oy) / r) * r
            alpha = np.clip(0.5 - sdf / px_world, 0.0, 1.0)[..., None]
            colour = np.array(COLOURS[thing.colour]) / 255.0
            shade = 1.0 - 0.12 * np.clip((by - oy) / r, -1, 1)[..., None]  # a little top light
            patch = img[i0:i1, j0:j1]
            img[i0:i1, j0:j1] = patch * (1 - alpha) + np.clip(colour * shade, 0, 1) * alpha
            if masks is not None:
                masks[f, i0:i1, j0:j1][alpha[..., 0] >= 0.5] = k
        out[f] = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


@dataclass
class Sample:
    """A training/eval example: the scene, its caption, and the rendered video."""

    scene: Scene
    caption: str
    video: np.ndarray = field(repr=False)
    masks: np.ndarray | None = field(default=None, repr=False)  # (T, H, W) object index, -1 background
    layout: Layout | None = None  # where its objects are: the layout-guided model's input


def sample(seed: int, height: int = 48, width: int = 80, frames: int = 16, *, heldout: bool | None = False,
           masks: bool = False, style: WorldStyle = CLASSIC) -> Sample:
    """A deterministic random captioned video (with its object masks if asked)."""
    rng = np.random.default_rng(seed)
    scene = random_scene(rng, heldout=heldout, style=style)
    layout = random_layout(scene, rng, width / height, style)
    m = np.full((frames, height, width), -1, np.int8) if masks else None
    return Sample(scene, caption(scene, rng), render(scene, layout, height, width, frames, masks=m), m, layout)

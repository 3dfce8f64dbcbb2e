"""Temporal quality from pixels: flicker and optical-flow warping error (OpenCV)."""

from __future__ import annotations

import cv2
import numpy as np


def flicker(video: np.ndarray) -> float:
    """Mean absolute change of the frame's mean colour between consecutive frames (0..255).

    Global brightness and colour jumps are what a viewer calls flicker; object
    motion barely moves a frame's mean, so this separates the two.
    """
    means = video.reshape(len(video), -1, 3).mean(1)  # (T, 3)
    return float(np.abs(np.diff(means, axis=0)).mean()) if len(video) > 1 else 0.0


def warp_error(video: np.ndarray) -> float:
    """Mean absolute error (0..255) after warping each frame onto the next with Farneback flow.

    Low when the content moves coherently; high when it shimmers, morphs or pops.
    """
    if len(video) < 2:
        return 0.0
    errs = []
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in video]
    h, w = grey[0].shape
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    for t in range(len(video) - 1):
        flow = cv2.calcOpticalFlowFarneback(grey[t + 1], grey[t], None, 0.5, 2, 9, 3, 5, 1.1, 0)  # next -> prev
        warped = cv2.remap(video[t], gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        errs.append(np.abs(warped.astype(np.float32) - video[t + 1].astype(np.float32)).mean())
    return float(np.mean(errs))

"""Non-face images for the face-score stage: scenery, and faces framed so badly that a crop of
the image is not a usable face (shifted mostly out of frame, or zoomed onto one part).

They come from the same renderer as the faces, so the classifier cannot tell faces from
negatives by rendering style, only by whether a well-placed face is there.
"""

from __future__ import annotations

import cv2
import numpy as np

from zoo.synth.options import DEFAULT, RenderOptions
from zoo.synth.render import render_face
from zoo.synth.scene import background, camera_effects


def render_negative(rng: np.random.Generator, size: int = 256, options: RenderOptions = DEFAULT) -> tuple[np.ndarray, dict]:
    """One non-face RGB uint8 image and a small meta dict (kind); faces in it are rendered with ``options``."""
    r = rng.uniform()
    if r < 0.4:
        img, info = camera_effects(background(rng, size), rng)
        return img, {"kind": "background", **info}
    face, pts, _ = render_face(rng, size, options)
    lo, hi = pts[:68].min(0), pts[:68].max(0)
    span = float(max(hi - lo))
    centre = (lo + hi) / 2
    if r < 0.75:  # shifted: the face centre lands on or beyond the image border, so at most half of it shows
        ang = rng.uniform(0, 2 * np.pi)
        d = np.array([np.cos(ang), np.sin(ang)])
        target = size / 2 + d * (size / 2) / np.abs(d).max() * rng.uniform(0.95, 1.3)
        m = np.float32([[1, 0, target[0] - centre[0]], [0, 1, target[1] - centre[1]]])
        kind = "shifted"
    else:  # zoomed onto part of the face (an eye, the mouth, hair, an ear)
        zoom = rng.uniform(2.5, 4.5)
        spot = pts[rng.integers(0, 70)] + rng.normal(0, 0.15 * span, 2)
        m = np.float32([[zoom, 0, size / 2 - zoom * spot[0]], [0, zoom, size / 2 - zoom * spot[1]]])
        kind = "zoomed"
    bg = (background(rng, size) * 255).astype(np.uint8)
    img = cv2.warpAffine(face, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT, dst=bg)
    return img, {"kind": kind}

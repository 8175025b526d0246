"""Everything around the head: backgrounds, occluders in front of the face, camera effects.

Backgrounds are never plain (a model must learn the face outline against clutter), occluders
(hands, objects, strands of hair) cover parts of the face while the landmarks keep their 3D
positions, and the camera adds blur, noise, colour casts and JPEG artefacts like real photos.
"""

from __future__ import annotations

import cv2
import numpy as np


def _noise(rng: np.random.Generator, cells: int, size: int, ch: int = 1) -> np.ndarray:
    small = rng.standard_normal((cells, cells, ch)).astype(np.float32)
    out = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    return out.reshape(size, size, ch)


def _muted(rng: np.random.Generator) -> np.ndarray:
    """A scene colour: a grey level with a little hue, like walls, clothes and foliage."""
    grey = rng.uniform(0.05, 0.95)
    hue = rng.uniform(-1, 1, 3)
    return np.clip(grey + hue * rng.uniform(0.0, 0.25) * min(grey, 1 - grey) * 2, 0, 1)


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random background, float32 RGB 0..1: gradient + texture + clutter, blurred like out-of-focus scenery.

    Drawn at half resolution and upscaled (backgrounds are mostly out of focus; it halves the cost).
    """
    full = size
    size = max(32, size // 2)
    base = _muted(rng)
    other = _muted(rng) if rng.uniform() < 0.5 else np.clip(base * rng.uniform(0.4, 1.6), 0, 1)
    t = np.linspace(0, 1, size, dtype=np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    grad = np.cos(ang) * t[None, :] + np.sin(ang) * t[:, None]
    grad = ((grad - grad.min()) / (np.ptp(grad) + 1e-6))[..., None]
    img = base.astype(np.float32) * (1 - grad) + other.astype(np.float32) * grad
    img *= 1 + rng.uniform(0.05, 0.3) * _noise(rng, int(rng.integers(3, 12)), size, 1)
    img *= 1 + rng.uniform(0.0, 0.08) * _noise(rng, int(rng.integers(3, 8)), size, 3)
    img += rng.uniform(0.0, 0.1) * _noise(rng, int(rng.integers(20, 90)), size, 1)
    kind = rng.uniform()
    n_shapes = int(rng.integers(3, 14)) if kind < 0.8 else 0
    for _ in range(n_shapes):
        col = tuple(float(c) for c in (_muted(rng) if rng.uniform() < 0.85 else rng.uniform(0, 1, 3)))
        s = rng.uniform()
        p = rng.uniform(-0.2, 1.2, 2) * size
        if s < 0.5:  # walls, doors, windows, shelves, posters: mostly upright
            w, h = rng.uniform(0.05, 0.8, 2) * size
            angle = float(rng.choice([0, 0, 0, 90, rng.uniform(0, 180)]))
            box = cv2.boxPoints(((float(p[0]), float(p[1])), (float(w), float(h)), angle))
            cv2.fillConvexPoly(img, np.round(box * 4).astype(np.int32), col, cv2.LINE_AA, 2)
        elif s < 0.7:
            cv2.circle(img, (int(p[0]), int(p[1])), int(rng.uniform(0.02, 0.25) * size), col, -1, cv2.LINE_AA)
        elif s < 0.9:
            q = rng.uniform(-0.2, 1.2, 2) * size
            cv2.line(img, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), col, int(rng.integers(1, 10)), cv2.LINE_AA)
        else:  # text-like marks (posters, logos)
            mask = np.zeros((size, size), np.uint8)
            cv2.putText(mask, "".join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(2, 8)))),
                        (int(p[0]), int(p[1])), int(rng.integers(0, 7)), float(rng.uniform(0.5, 2.5)), 255,
                        int(rng.integers(1, 5)), cv2.LINE_AA)
            a = (mask.astype(np.float32) / 255)[..., None]
            img = img * (1 - a) + a * np.array(col, np.float32)
    if rng.uniform() < 0.3:  # bokeh
        for _ in range(int(rng.integers(5, 25))):
            p = rng.uniform(0, size, 2)
            col = tuple(float(c) for c in rng.uniform(0.5, 1.0, 3))
            cv2.circle(img, (int(p[0]), int(p[1])), int(rng.uniform(3, 20)), col, -1, cv2.LINE_AA)
    sigma = rng.choice([0.0, 0.4, 1.0, 2.0], p=[0.25, 0.3, 0.3, 0.15])
    if sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), float(sigma))
    img = cv2.resize(img, (full, full), interpolation=cv2.INTER_LINEAR)
    return np.clip(img, 0, 1, out=img)


def _shade_blob(img: np.ndarray, mask: np.ndarray, colour: np.ndarray, rng: np.random.Generator) -> None:
    """Composite a flat-coloured occluder with a soft lighting gradient and a dark rim."""
    h, w = mask.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    grad = 0.75 + 0.35 * ((np.cos(ang) * xx + np.sin(ang) * yy) / max(h, w))
    inner = cv2.erode(mask, np.ones((5, 5), np.uint8)).astype(np.float32)
    rim = cv2.GaussianBlur(inner, (0, 0), 2.0)
    col = colour[None, None] * (grad * (0.6 + 0.4 * rim))[..., None] * (1 + 0.05 * _noise(rng, 40, h))
    a = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.7)[..., None]
    img *= 1 - a
    img += a * col


def occluders(img: np.ndarray, rng: np.random.Generator, landmarks: np.ndarray, skin: np.ndarray) -> list[str]:
    """Draw 0-2 occluders over the face region; returns their names for the meta file."""
    names = []
    size = img.shape[0]
    lo, hi = landmarks[:68].min(0), landmarks[:68].max(0)
    span = float(max(hi - lo))
    for _ in range(1 if rng.uniform() < 0.8 else 2):
        kind = rng.choice(["hand", "object", "strands", "bar"], p=[0.45, 0.25, 0.15, 0.15])
        centre = landmarks[rng.integers(0, 68)] + rng.normal(0, 0.1 * span, 2)
        mask = np.zeros((size, size), np.uint8)
        if kind == "hand":
            r = span * rng.uniform(0.22, 0.35)
            ang = rng.uniform(0, 2 * np.pi)
            palm = centre + np.array([np.cos(ang), np.sin(ang)]) * r * 1.3
            cv2.ellipse(mask, (int(palm[0]), int(palm[1])), (int(r), int(r * 0.8)), float(np.degrees(ang)), 0, 360, 1, -1)
            for f in range(4):
                da = ang + np.pi + (f - 1.5) * 0.28
                tip = palm + np.array([np.cos(da), np.sin(da)]) * r * rng.uniform(1.6, 2.3)
                cv2.line(mask, (int(palm[0]), int(palm[1])), (int(tip[0]), int(tip[1])), 1, max(2, int(r * 0.32)))
            colour = np.clip(skin * rng.normal(1, 0.08, 3), 0, 1)
        elif kind == "object":
            w, h = rng.uniform(0.2, 0.5, 2) * span
            box = cv2.boxPoints(((float(centre[0]), float(centre[1])), (float(w), float(h)), float(rng.uniform(0, 180))))
            cv2.fillConvexPoly(mask, np.round(box).astype(np.int32), 1)
            if rng.uniform() < 0.5:
                cv2.circle(mask, (int(centre[0]), int(centre[1])), int(w * 0.6), 1, -1)
            colour = rng.uniform(0.05, 0.95, 3)
        elif kind == "strands":
            for _ in range(int(rng.integers(3, 12))):
                p0 = centre + rng.normal(0, 0.25 * span, 2)
                pts = [p0 + np.array([rng.normal(0, 0.05 * span), t * span * 0.8]) for t in np.linspace(-0.5, 0.5, 6)]
                pts = np.array(pts) + np.cumsum(rng.normal(0, 0.02 * span, (6, 2)), 0)
                cv2.polylines(mask, [np.round(pts).astype(np.int32)], False, 1, int(rng.integers(1, 3)))
            colour = rng.uniform(0.02, 0.5) * np.array([1.0, 0.8, 0.6])
        else:  # a bar, microphone stand, scarf edge...
            ang = rng.uniform(0, np.pi)
            d = np.array([np.cos(ang), np.sin(ang)]) * size
            cv2.line(mask, tuple(np.round(centre - d).astype(int)), tuple(np.round(centre + d).astype(int)), 1,
                     max(2, int(span * rng.uniform(0.06, 0.2))))
            colour = rng.uniform(0.05, 0.95, 3)
        _shade_blob(img, mask, colour, rng)
        names.append(str(kind))
    return names


def flyaway_strands(img: np.ndarray, hair: np.ndarray, rng: np.random.Generator) -> None:
    """Thin curved strands leaving the hair outline, so hair does not end in a clean cut-out edge."""
    edge = hair & ~cv2.erode(hair.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    ys, xs = np.nonzero(edge)
    if len(ys) < 10:
        return
    cy, cx = np.nonzero(hair)
    centre = np.array([cx.mean(), cy.mean()])
    scale = img.shape[0] / 256
    layer = img.copy()
    for i in rng.choice(len(ys), size=min(len(ys), int(rng.integers(8, 40))), replace=False):
        p = np.array([xs[i], ys[i]], np.float64)
        d = p - centre
        d = d / (np.linalg.norm(d) + 1e-6)
        ang = np.arctan2(d[1], d[0]) + rng.normal(0, 0.5)
        bend = rng.normal(0, 0.12)
        pts = [p]
        for _ in range(3):
            step = rng.uniform(1.5, 4.0) * scale
            ang += bend
            pts.append(pts[-1] + step * np.array([np.cos(ang), np.sin(ang)]))
        colour = tuple(float(c) for c in img[ys[i], xs[i]] * rng.uniform(0.85, 1.15))
        cv2.polylines(layer, [np.round(np.array(pts) * 4).astype(np.int32)], False, colour, 1, cv2.LINE_AA, 2)
    cv2.addWeighted(img, 0.5, layer, 0.5, 0.0, dst=img)  # strands are thinner than a pixel: half cover


def camera_effects(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Colour cast, contrast, defocus or motion blur, sensor noise, greyscale and JPEG: float RGB 0..1 -> uint8."""
    info = {}
    cast = rng.normal(1, 0.035, 3)
    img = cv2.multiply(np.ascontiguousarray(img, np.float32), (*cast.tolist(), 0.0))
    gamma = float(rng.uniform(0.8, 1.25))
    img = cv2.pow(np.clip(img, 0, 1, out=img), gamma)
    c = float(rng.uniform(0.8, 1.2))
    img *= np.float32(c)
    img += np.float32(0.5 - 0.5 * c + rng.normal(0, 0.04))
    r = rng.uniform()
    if r < 0.45:
        s = float(rng.uniform(0.3, 1.6))
        img = cv2.GaussianBlur(img, (0, 0), s)
        info["blur"] = round(s, 2)
    elif r < 0.55:
        k = int(rng.integers(3, 9))
        kern = np.zeros((k, k), np.float32)
        kern[k // 2] = 1.0 / k
        rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), float(rng.uniform(0, 180)), 1.0)
        kern = cv2.warpAffine(kern, rot, (k, k))
        img = cv2.filter2D(img, -1, kern / max(kern.sum(), 1e-6))
        info["motion_blur"] = k
    if rng.uniform() < 0.2:  # low resolution source, upsampled
        size = img.shape[0]
        small = int(size * rng.uniform(0.3, 0.7))
        img = cv2.resize(cv2.resize(img, (small, small), interpolation=cv2.INTER_AREA), (size, size))
        info["downscale"] = small
    sigma = float(rng.choice([0.0, rng.uniform(0.005, 0.04)], p=[0.3, 0.7]))
    if sigma:  # uniform with the same spread as Gaussian noise: a third of the cost, alike after JPEG
        noise = rng.random(img.shape, dtype=np.float32)
        noise -= np.float32(0.5)
        noise *= np.float32(sigma * np.sqrt(12.0))
        img += noise
    out = cv2.convertScaleAbs(np.clip(img, 0, 1, out=img), alpha=255.0)  # rounds to nearest
    if rng.uniform() < 0.12:
        out = np.repeat(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
        info["grey"] = True
    if rng.uniform() < 0.7:
        q = int(rng.integers(30, 95))
        ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
        info["jpeg"] = q
    return np.ascontiguousarray(out), info

"""Everything around the head: backgrounds, occluders in front of the face, camera effects.

Backgrounds are never plain (a model must learn the face outline against clutter), occluders
(hands, objects, strands of hair) cover parts of the face while the landmarks keep their 3D
positions, and the camera adds blur, noise, colour casts and JPEG artefacts like real photos.

Cost notes (the dataset must render >= 100 faces/s on two cores): images are float32 throughout,
work is restricted to the bounding box of what is drawn, per-pixel chains that numpy would run as
several broadcast passes are fused in ``scene_kernels``, and draws go through ``_u`` / ``_us`` /
``_pick``, which take the same numbers from the stream as ``rng.uniform`` / ``rng.choice(p=...)``
at a fraction of their call overhead: a seed renders the same scene as before these shortcuts.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from zoo.synth.scene_kernels import cast_clip, composite_into, cubic_taps, modulated_gradient, noisy_to_u8, upsample_cubic

_K3 = np.ones((3, 3), np.uint8)
_K5 = np.ones((5, 5), np.uint8)


def _cdf(p: list[float]) -> np.ndarray:
    """The cumulative table ``rng.choice(p=p)`` searches (normalised by its last entry, as numpy does)."""
    c = np.cumsum(p)
    return c / c[-1]


_BLUR_CDF = _cdf([0.25, 0.3, 0.3, 0.15])
_NOISE_CDF = _cdf([0.3, 0.7])
_OCCLUDER_KINDS = ("hand", "object", "strands", "bar")
_OCCLUDER_CDF = _cdf([0.45, 0.25, 0.15, 0.15])


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    """``rng.uniform(lo, hi)`` for one value: the same draw and formula without its ~3 us argument handling."""
    return lo + (hi - lo) * rng.random()


def _us(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """``rng.uniform(lo, hi, n)``: n uniforms drawn one after the other, like n calls of ``_u``."""
    return lo + (hi - lo) * rng.random(n)


def _pick(rng: np.random.Generator, cdf: np.ndarray) -> int:
    """Index drawn like ``rng.choice(n, p=p)`` with ``cdf = cumsum(p)`` (one uniform, searched in the cdf)."""
    return int(np.searchsorted(cdf, rng.random(), side="right"))


@functools.lru_cache(maxsize=512)
def _taps(src: int, dst: int) -> tuple[np.ndarray, np.ndarray]:
    return cubic_taps(src, dst)


def _noise(rng: np.random.Generator, cells: int, size: int, ch: int = 1) -> np.ndarray:
    """Smooth noise, float32 (size, size, ch): a cells x cells grid of normals, cubic-upscaled.

    OpenCV's resize takes 70-220 us to blow up a grid of a few cells (its generic path) but is quick
    for larger grids; ``upsample_cubic`` computes the same interpolation in ~10 us.
    """
    small = rng.standard_normal((cells, cells, ch)).astype(np.float32)
    if cells > 48:
        return cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC).reshape(size, size, ch)
    idx, w = _taps(cells, size)
    return upsample_cubic(small, idx, w, idx, w)


def _muted(rng: np.random.Generator) -> tuple[float, float, float]:
    """A scene colour: a grey level with a little hue, like walls, clothes and foliage."""
    r = rng.random(5).tolist()  # grey level, 3 hue offsets, saturation: uniform(0.05, 0.95), (-1, 1), (0, 0.25)
    grey = 0.05 + (0.95 - 0.05) * r[0]
    k = (0.25 * r[4]) * min(grey, 1 - grey) * 2
    return tuple(min(max(grey + (-1 + 2 * h) * k, 0.0), 1.0) for h in r[1:4])  # type: ignore[return-value]


def _base_layer(rng: np.random.Generator, size: int) -> np.ndarray:
    """Two-colour gradient modulated by smooth luminance and colour noise: float32 (size, size, 3)."""
    base = np.array(_muted(rng), np.float32)
    other = np.array(_muted(rng) if rng.random() < 0.5 else np.clip(base * _u(rng, 0.4, 1.6), 0, 1), np.float32)
    t = np.linspace(0, 1, size, dtype=np.float32)
    ang = _u(rng, 0, 2 * np.pi)
    grad = np.float32(math.cos(ang)) * t[None, :] + np.float32(math.sin(ang)) * t[:, None]
    grad -= grad.min()
    grad /= grad.max() + np.float32(1e-6)
    amps, noises = [], []
    for lo, hi, cells, ch in ((0.05, 0.3, (3, 12), 1), (0.0, 0.08, (3, 8), 3), (0.0, 0.1, (20, 90), 1)):
        amps.append(np.float32(_u(rng, lo, hi)))
        noises.append(_noise(rng, int(rng.integers(*cells)), size, ch))
    lum, tint, add = noises
    return modulated_gradient(grad, base, other, lum[..., 0], amps[0], tint, amps[1], add[..., 0], amps[2])


def _draw_text(img: np.ndarray, rng: np.random.Generator, p: np.ndarray, col: tuple[float, ...]) -> None:
    """Text-like marks (posters, logos), alpha-blended inside the text's bounding box only."""
    size = img.shape[0]
    mask = np.zeros((size, size), np.uint8)
    cv2.putText(mask, "".join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(2, 8)))),
                (int(p[0]), int(p[1])), int(rng.integers(0, 7)), _u(rng, 0.5, 2.5), 255,
                int(rng.integers(1, 5)), cv2.LINE_AA)
    x, y, w, h = cv2.boundingRect(mask)
    if w:
        a = mask[y:y + h, x:x + w].astype(np.float32) / 255
        composite_into(img[y:y + h, x:x + w], a, np.ones_like(a), np.array(col, np.float32))


def _draw_clutter(img: np.ndarray, rng: np.random.Generator) -> None:
    """Walls, doors, shelves, round things, lines and text marks, drawn in place."""
    size = img.shape[0]
    n_shapes = int(rng.integers(3, 14)) if rng.random() < 0.8 else 0
    for _ in range(n_shapes):
        col = _muted(rng) if rng.random() < 0.85 else tuple(rng.random(3).tolist())
        s = rng.random()
        p = _us(rng, -0.2, 1.2, 2) * size
        if s < 0.5:  # walls, doors, windows, shelves, posters: mostly upright
            w, h = _us(rng, 0.05, 0.8, 2) * size
            tilt = _u(rng, 0, 180)
            angle = float((0, 0, 0, 90, tilt)[rng.integers(0, 5)])  # as rng.choice([0, 0, 0, 90, tilt])
            box = cv2.boxPoints(((float(p[0]), float(p[1])), (float(w), float(h)), angle))
            cv2.fillConvexPoly(img, np.round(box * 4).astype(np.int32), col, cv2.LINE_AA, 2)
        elif s < 0.7:
            cv2.circle(img, (int(p[0]), int(p[1])), int(_u(rng, 0.02, 0.25) * size), col, -1, cv2.LINE_AA)
        elif s < 0.9:
            q = _us(rng, -0.2, 1.2, 2) * size
            cv2.line(img, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), col, int(rng.integers(1, 10)), cv2.LINE_AA)
        else:
            _draw_text(img, rng, p, col)


def _draw_bokeh(img: np.ndarray, rng: np.random.Generator) -> None:
    """Bright out-of-focus discs (lights behind the subject), drawn in place."""
    size = img.shape[0]
    for _ in range(int(rng.integers(5, 25))):
        p = _us(rng, 0, size, 2)
        col = tuple(_us(rng, 0.5, 1.0, 3).tolist())
        cv2.circle(img, (int(p[0]), int(p[1])), int(_u(rng, 3, 20)), col, -1, cv2.LINE_AA)


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random background, float32 RGB 0..1: gradient + texture + clutter, blurred like out-of-focus scenery.

    Drawn at half resolution and upscaled (backgrounds are mostly out of focus; it quarters the pixel work).
    Clipped after the upscale: clipping first would darken the falloff around saturated (> 1) areas.
    """
    half = max(32, size // 2)
    img = _base_layer(rng, half)
    _draw_clutter(img, rng)
    if rng.random() < 0.3:
        _draw_bokeh(img, rng)
    sigma = (0.0, 0.4, 1.0, 2.0)[_pick(rng, _BLUR_CDF)]
    if sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR)
    return np.clip(img, 0, 1, out=img)


def _shade_blob(img: np.ndarray, mask: np.ndarray, colour: np.ndarray, rng: np.random.Generator) -> None:
    """Composite a flat-coloured occluder with a soft lighting gradient and a dark rim.

    Only the mask's bounding box (plus the blur reach) is touched: outside it the blurred alpha is
    exactly 0, and the margin keeps both blurs equal to full-image blurs inside the box.
    """
    h, w = mask.shape
    ang = _u(rng, 0, 2 * np.pi)
    noise = _noise(rng, 40, h)  # drawn on the full grid so the pattern does not depend on the box
    bx, by, bw, bh = cv2.boundingRect(mask)
    if bw == 0:
        return
    m = 10  # > rim blur radius 8 (sigma 2) and alpha blur radius 3 (sigma 0.7)
    x0, y0, x1, y1 = max(bx - m, 0), max(by - m, 0), min(bx + bw + m, w), min(by + bh + m, h)
    box = mask[y0:y1, x0:x1]
    scale = max(h, w)
    gx = (math.cos(ang) * np.arange(x0, x1, dtype=np.float32)) / scale
    gy = (math.sin(ang) * np.arange(y0, y1, dtype=np.float32)) / scale
    rim = cv2.GaussianBlur(cv2.erode(box, _K5).astype(np.float32), (0, 0), 2.0)
    shade = (0.75 + 0.35 * (gx[None, :] + gy[:, None])).astype(np.float32)
    shade *= 0.6 + 0.4 * rim
    shade *= 1 + 0.05 * noise[y0:y1, x0:x1, 0]
    a = cv2.GaussianBlur(box.astype(np.float32), (0, 0), 0.7)
    composite_into(img[y0:y1, x0:x1], a, shade, colour.astype(np.float32))


def _occluder_mask(kind: str, mask: np.ndarray, rng: np.random.Generator, centre: np.ndarray, span: float,
                   skin: np.ndarray) -> np.ndarray:
    """Draw one occluder of ``kind`` into ``mask`` (in place); returns its colour."""
    size = mask.shape[0]
    if kind == "hand":
        r = span * _u(rng, 0.22, 0.35)
        ang = _u(rng, 0, 2 * np.pi)
        palm = centre + np.array([np.cos(ang), np.sin(ang)]) * r * 1.3
        cv2.ellipse(mask, (int(palm[0]), int(palm[1])), (int(r), int(r * 0.8)), float(np.degrees(ang)), 0, 360, 1, -1)
        for f in range(4):
            da = ang + np.pi + (f - 1.5) * 0.28
            tip = palm + np.array([np.cos(da), np.sin(da)]) * r * _u(rng, 1.6, 2.3)
            cv2.line(mask, (int(palm[0]), int(palm[1])), (int(tip[0]), int(tip[1])), 1, max(2, int(r * 0.32)))
        return np.clip(skin * rng.normal(1, 0.08, 3), 0, 1)
    if kind == "object":
        w, h = rng.uniform(0.2, 0.5, 2) * span
        box = cv2.boxPoints(((float(centre[0]), float(centre[1])), (float(w), float(h)), _u(rng, 0, 180)))
        cv2.fillConvexPoly(mask, np.round(box).astype(np.int32), 1)
        if rng.random() < 0.5:
            cv2.circle(mask, (int(centre[0]), int(centre[1])), int(w * 0.6), 1, -1)
        return rng.uniform(0.05, 0.95, 3)
    if kind == "strands":
        for _ in range(int(rng.integers(3, 12))):
            p0 = centre + rng.normal(0, 0.25 * span, 2)
            pts = [p0 + np.array([rng.normal(0, 0.05 * span), t * span * 0.8]) for t in np.linspace(-0.5, 0.5, 6)]
            pts = np.array(pts) + np.cumsum(rng.normal(0, 0.02 * span, (6, 2)), 0)
            cv2.polylines(mask, [np.round(pts).astype(np.int32)], False, 1, int(rng.integers(1, 3)))
        return _u(rng, 0.02, 0.5) * np.array([1.0, 0.8, 0.6])
    # a bar, microphone stand, scarf edge...
    ang = _u(rng, 0, np.pi)
    d = np.array([np.cos(ang), np.sin(ang)]) * size
    cv2.line(mask, tuple(np.round(centre - d).astype(int)), tuple(np.round(centre + d).astype(int)), 1,
             max(2, int(span * _u(rng, 0.06, 0.2))))
    return rng.uniform(0.05, 0.95, 3)


def occluders(img: np.ndarray, rng: np.random.Generator, landmarks: np.ndarray, skin: np.ndarray) -> list[str]:
    """Draw 0-2 occluders over the face region; returns their names for the meta file."""
    names = []
    size = img.shape[0]
    lo, hi = landmarks[:68].min(0), landmarks[:68].max(0)
    span = float(max(hi - lo))
    for _ in range(1 if rng.random() < 0.8 else 2):
        kind = _OCCLUDER_KINDS[_pick(rng, _OCCLUDER_CDF)]
        centre = landmarks[rng.integers(0, 68)] + rng.normal(0, 0.1 * span, 2)
        mask = np.zeros((size, size), np.uint8)
        colour = _occluder_mask(kind, mask, rng, centre, span, skin)
        _shade_blob(img, mask, colour, rng)
        names.append(kind)
    return names


def _strand_draws(rng: np.random.Generator, n: int) -> np.ndarray:
    """Per strand: angle jitter, bend, three step lengths, colour factor; in the historical draw order."""
    normal = np.empty((n, 2))
    uniform = np.empty((n, 4))
    for k in range(n):  # interleaved per strand: normal(0, 0.5), normal(0, 0.12), 3x uniform(1.5, 4), uniform(0.85, 1.15)
        normal[k] = rng.standard_normal(2)
        uniform[k] = rng.random(4)
    lo, hi = np.array([1.5, 1.5, 1.5, 0.85]), np.array([4.0, 4.0, 4.0, 1.15])
    return np.hstack([normal * [0.5, 0.12], lo + (hi - lo) * uniform])


def _strand_paths(starts: np.ndarray, centre: np.ndarray, draws: np.ndarray, scale: float) -> np.ndarray:
    """(n, 4, 2) polyline points: from the hair edge outward (away from the hair centre), curving by ``bend``."""
    d = starts - centre
    d /= (np.sqrt((d * d).sum(1)) + 1e-6)[:, None]
    ang = np.arctan2(d[:, 1], d[:, 0]) + draws[:, 0]
    pts = np.empty((len(starts), 4, 2))
    pts[:, 0] = starts
    for j in range(3):
        ang += draws[:, 1]
        step = draws[:, 2 + j] * scale
        pts[:, j + 1, 0] = pts[:, j, 0] + step * np.cos(ang)
        pts[:, j + 1, 1] = pts[:, j, 1] + step * np.sin(ang)
    return pts


def _centroid(mask: np.ndarray) -> np.ndarray:
    """Mean (x, y) of a 0/1 uint8 mask's pixels, from exact integer row/column counts (= np.nonzero(...).mean())."""
    cols = cv2.reduce(mask, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.int64)
    rows = cv2.reduce(mask, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.int64)
    n = int(cols.sum())
    return np.array([int(cols @ np.arange(len(cols))) / n, int(rows @ np.arange(len(rows))) / n])


def flyaway_strands(img: np.ndarray, hair: np.ndarray, rng: np.random.Generator) -> None:
    """Thin curved strands leaving the hair outline, so hair does not end in a clean cut-out edge."""
    hair8 = hair.astype(np.uint8)
    edge = cv2.findNonZero(hair8 - cv2.erode(hair8, _K3))  # (x, y) in row-major order, like np.nonzero
    if edge is None or len(edge) < 10:
        return
    edge = edge.reshape(-1, 2)
    centre = _centroid(hair8)
    idx = rng.choice(len(edge), size=min(len(edge), int(rng.integers(8, 40))), replace=False)
    draws = _strand_draws(rng, len(idx))
    starts = edge[idx]
    pts = _strand_paths(starts.astype(np.float64), centre, draws, img.shape[0] / 256)
    colours = img[starts[:, 1], starts[:, 0]] * draws[:, 5:6]
    # draw on a copy of the strands' bounding box only (AA lines reach ~1.5 px beyond their points)
    h, w = img.shape[:2]
    x0, y0 = np.maximum(np.floor(pts.min((0, 1))).astype(int) - 3, 0)
    x1, y1 = np.minimum(np.ceil(pts.max((0, 1))).astype(int) + 4, (w, h))
    sub = img[y0:y1, x0:x1]
    layer = sub.copy()
    fixed = np.round(pts * 4).astype(np.int32) - np.array([x0 * 4, y0 * 4], np.int32)
    for poly, colour in zip(fixed, colours.tolist(), strict=True):
        cv2.polylines(layer, [poly], False, colour, 1, cv2.LINE_AA, 2)
    sub += layer  # half cover: strands are thinner than a pixel
    sub *= 0.5


def _blur(img: np.ndarray, rng: np.random.Generator, info: dict) -> np.ndarray:
    """Defocus (45%) or motion blur (10%)."""
    r = rng.random()
    if r < 0.45:
        s = _u(rng, 0.3, 1.6)
        info["blur"] = round(s, 2)
        return cv2.GaussianBlur(img, (0, 0), s)
    if r < 0.55:
        k = int(rng.integers(3, 9))
        kern = np.zeros((k, k), np.float32)
        kern[k // 2] = 1.0 / k
        rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), _u(rng, 0, 180), 1.0)
        kern = cv2.warpAffine(kern, rot, (k, k))
        info["motion_blur"] = k
        return cv2.filter2D(img, -1, kern / max(kern.sum(), 1e-6))
    return img


def _sensor_noise(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uniform noise (std 0.005-0.04, 70% of images), clip and round to uint8.

    Uniform with the same spread as Gaussian noise: a third of the cost, alike after JPEG. The noise
    is ``rng.random(img.shape, dtype=np.float32)`` taken from the bit generator's raw words and added
    in the same compiled pass that clips and rounds (five fewer passes over the image).
    """
    sigma = float((0.0, _u(rng, 0.005, 0.04))[_pick(rng, _NOISE_CDF)])
    if not sigma:
        return cv2.convertScaleAbs(np.clip(img, 0, 1, out=img), alpha=255.0)  # rounds to nearest
    words, first = _float32_words(rng, img.size)
    out = np.empty(img.shape, np.uint8)
    noisy_to_u8(img.reshape(-1), words, first, np.float32(sigma * np.sqrt(12.0)), out.reshape(-1))
    return out


def _float32_words(rng: np.random.Generator, n: int) -> tuple[np.ndarray, int]:
    """The 32-bit words ``rng.random(n, dtype=np.float32)`` would turn into floats (``(w >> 8) / 2**24``),
    leaving ``rng`` in the same state; cheaper because raw 64-bit draws skip numpy's per-value float path.

    Returns (words, first): ``first`` is -1, or a word numpy had buffered from an earlier 32-bit draw,
    which comes first (then only n - 1 of ``words`` are used). Little-endian words of a raw draw come
    low half first, as in numpy's ``next_uint32``.
    """
    bitgen = rng.bit_generator
    state = bitgen.state
    buffered = int(state["has_uint32"])
    first = int(state["uinteger"]) if buffered else -1
    m = n - buffered
    words = bitgen.random_raw((m + 1) // 2).view(np.uint32)
    if buffered or m % 2:  # the buffer was used up, or an odd count leaves a high half buffered
        state = bitgen.state
        state["has_uint32"] = m % 2
        if m % 2:
            state["uinteger"] = int(words[m])
        bitgen.state = state
    return words, first


def camera_effects(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Colour cast, contrast, defocus or motion blur, sensor noise, greyscale and JPEG: float RGB 0..1 -> uint8."""
    info = {}
    cast = rng.normal(1, 0.035, 3)
    img = cast_clip(np.ascontiguousarray(img, np.float32), cast)
    gamma = _u(rng, 0.8, 1.25)
    img = cv2.pow(img, gamma, dst=img)
    c = _u(rng, 0.8, 1.2)
    img *= np.float32(c)
    img += np.float32(0.5 - 0.5 * c + rng.normal(0, 0.04))
    img = _blur(img, rng, info)
    if rng.random() < 0.2:  # low resolution source, upsampled
        size = img.shape[0]
        small = int(size * _u(rng, 0.3, 0.7))
        img = cv2.resize(cv2.resize(img, (small, small), interpolation=cv2.INTER_AREA), (size, size))
        info["downscale"] = small
    out = _sensor_noise(img, rng)
    if rng.random() < 0.12:
        out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        info["grey"] = True
    if rng.random() < 0.7:
        q = int(rng.integers(30, 95))
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR_RGB)
        info["jpeg"] = q
    return out, info

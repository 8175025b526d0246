"""Per-image albedo textures: skin with features (lips, brows, lids, nostrils, beard), and the
label map that tells the shader where the eye openings and the mouth opening are.

The face texture lives in the head's (longitude, latitude) chart seen from ``head_mesh.CENTRE``,
so features are drawn once per image as 2D shapes through the mean-face landmarks' angles and
follow every identity and expression deformation for free (texture coordinates are neutral).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import cv2
import numpy as np

from zoo.pose import MEAN_FACE_68
from zoo.synth.head_mesh import angles_of
from zoo.synth.kernels import blend_into

TEX_PPD = 2.0  # texture pixels per degree
TEX_PHI = (-80.0, 80.0)  # the face; outside it the border colour (plain skin) repeats
TEX_THETA = (-62.0, 76.0)
TEX_W = int((TEX_PHI[1] - TEX_PHI[0]) * TEX_PPD)
TEX_H = int((TEX_THETA[1] - TEX_THETA[0]) * TEX_PPD)

LABEL_SKIN, LABEL_EYE_R, LABEL_EYE_L, LABEL_MOUTH, LABEL_LIPS = 0, 1, 2, 3, 4

_SKIN_TONES = np.array([  # sRGB 0..1, very light to very dark
    [0.97, 0.84, 0.75], [0.93, 0.76, 0.64], [0.85, 0.65, 0.52], [0.76, 0.55, 0.40],
    [0.62, 0.43, 0.30], [0.48, 0.32, 0.22], [0.36, 0.23, 0.16], [0.25, 0.16, 0.11],
])
_HAIR_COLOURS = np.array([
    [0.05, 0.04, 0.035], [0.12, 0.08, 0.05], [0.25, 0.16, 0.09], [0.42, 0.28, 0.16], [0.62, 0.48, 0.30],
    [0.80, 0.68, 0.45], [0.55, 0.22, 0.10], [0.55, 0.55, 0.55], [0.85, 0.85, 0.83],
])
_HAIR_P = np.array([0.3, 0.22, 0.16, 0.1, 0.07, 0.05, 0.04, 0.04, 0.02])
_IRIS = np.array([[0.30, 0.17, 0.08], [0.18, 0.10, 0.05], [0.35, 0.45, 0.60], [0.30, 0.42, 0.30], [0.42, 0.33, 0.18]])


def to_tex(angles: np.ndarray) -> np.ndarray:
    """(phi, theta) degrees -> texture pixel coordinates."""
    a = np.asarray(angles, dtype=np.float64)
    return np.stack([(a[..., 0] - TEX_PHI[0]) * TEX_PPD, (a[..., 1] - TEX_THETA[0]) * TEX_PPD], axis=-1)


@lru_cache(maxsize=1)
def landmark_angles() -> np.ndarray:
    """The 68 landmarks' (phi, theta) texture coordinates (neutral), in degrees (read-only)."""
    a = angles_of(MEAN_FACE_68)
    a.setflags(write=False)
    return a


@lru_cache(maxsize=1)
def landmark_tex() -> np.ndarray:
    """The 68 landmarks' texture coordinates (neutral), in texture pixels."""
    return to_tex(landmark_angles())


def _noise(rng: np.random.Generator, cells: int, shape: tuple[int, int]) -> np.ndarray:
    small = rng.standard_normal((cells, cells)).astype(np.float32)
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


@dataclass
class Appearance:
    """Colours of one person (all sRGB 0..1)."""

    skin: np.ndarray
    hair: np.ndarray
    iris: np.ndarray
    lips: np.ndarray
    beard: float  # 0 none .. 1 full beard
    tone: float  # 0 very light .. 1 very dark

    def to_dict(self) -> dict:
        return {"skin": self.skin.round(3).tolist(), "hair": self.hair.round(3).tolist(), "iris": self.iris.round(3).tolist(),
                "beard": round(float(self.beard), 3), "tone": round(float(self.tone), 3)}


def sample_appearance(rng: np.random.Generator) -> Appearance:
    tone = float(rng.uniform())
    pos = tone * (len(_SKIN_TONES) - 1)
    i = min(int(pos), len(_SKIN_TONES) - 2)
    skin = _SKIN_TONES[i] * (1 - (pos - i)) + _SKIN_TONES[i + 1] * (pos - i)
    skin = np.clip(skin * rng.normal(1, 0.04, 3) * rng.normal(1, 0.05), 0.05, 1)
    hair = _HAIR_COLOURS[rng.choice(len(_HAIR_COLOURS), p=_HAIR_P)] * rng.normal(1, 0.1, 3)
    if tone > 0.5:
        hair = np.minimum(hair, _HAIR_COLOURS[1] * 1.6)
    iris = _IRIS[rng.integers(len(_IRIS))] * rng.normal(1, 0.12, 3)
    if tone > 0.45:
        iris = _IRIS[1] * rng.normal(1, 0.1, 3)
    lips = skin * np.array([0.86, 0.58, 0.58]) * rng.normal(1, 0.06)
    if rng.uniform() < 0.15:
        lips = np.array([0.6, 0.08, 0.12]) * rng.normal(1, 0.2, 3)
    r = rng.uniform()
    beard = float(rng.uniform(0.15, 0.35)) if r < 0.12 else float(rng.uniform(0.6, 1.0)) if r < 0.17 else 0.0
    return Appearance(np.clip(skin, 0, 1), np.clip(hair, 0, 1), np.clip(iris, 0, 1), np.clip(lips, 0, 1), beard, tone)


def _poly(pts: np.ndarray) -> np.ndarray:
    return np.round(pts * 4).astype(np.int32)


@lru_cache(maxsize=1)
def _border_window() -> np.ndarray:
    """1 inside, 0 at the canvas edge: the edge colour is repeated outside, so it must be plain."""
    wy = np.clip(np.minimum(np.arange(TEX_H), TEX_H - 1 - np.arange(TEX_H)) / 12, 0, 1)
    wx = np.clip(np.minimum(np.arange(TEX_W), TEX_W - 1 - np.arange(TEX_W)) / 12, 0, 1)
    return np.outer(wy, wx).astype(np.float32)


def _roi(points: np.ndarray, margin: int) -> tuple[slice, slice, np.ndarray]:
    """Texture window around points (feature work stays small) and the window's origin."""
    lo = np.maximum(np.floor(points.min(0)) - margin, 0).astype(int)
    hi = np.minimum(np.ceil(points.max(0)) + margin, [TEX_W, TEX_H]).astype(int)
    return slice(lo[1], hi[1]), slice(lo[0], hi[0]), lo.astype(np.float64)


def _blend(tex: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    """tex += mask * (colour - tex), in place (``tex`` may be a window of the texture)."""
    blend_into(tex, np.ascontiguousarray(mask, np.float32), np.asarray(colour, np.float32))


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _window(points: np.ndarray, margin: int) -> tuple[tuple[slice, slice, np.ndarray], np.ndarray]:
    """A feature's texture window (see ``_roi``) and an empty float32 canvas of its size."""
    roi = _roi(points, margin)
    return roi, np.zeros((roi[0].stop - roi[0].start, roi[1].stop - roi[1].start), np.float32)


# The features' shapes follow the fixed mean-face landmarks, so their drawn and blurred masks are the
# same for every face: drawn once (cached, read-only) and only modulated per face by random values.
@lru_cache(maxsize=1)
def _beard_mask() -> tuple[tuple, np.ndarray]:
    lm = landmark_tex()
    jaw = np.vstack([lm[2:15], lm[[35]] + [10, -6], lm[[33]] + [0, -5], lm[[31]] + [-10, -6]])
    roi, m = _window(jaw, 8)
    o = roi[2]
    cv2.fillPoly(m, [_poly(jaw - o)], 1.0, cv2.LINE_AA, 2)
    cv2.fillPoly(m, [_poly(lm[48:60] - o + (lm[48:60] - lm[48:60].mean(0)) * 0.15)], 0.0, cv2.LINE_AA, 2)
    return roi, _frozen(cv2.GaussianBlur(m, (0, 0), 3))


@lru_cache(maxsize=1)
def _socket_mask() -> tuple[tuple, np.ndarray]:
    """Upper-lid crease and eye-socket shade."""
    lm = landmark_tex()
    roi, shade = _window(lm[36:48], 12)
    o = roi[2]
    for lo in (36, 42):
        cv2.polylines(shade, [_poly(lm[lo:lo + 4] + [0, -4.5] - o)], False, 1.0, 5, cv2.LINE_AA, 2)
        cv2.fillPoly(shade, [_poly(lm[lo:lo + 6] - o)], 0.7, cv2.LINE_AA, 2)
    return roi, _frozen(cv2.GaussianBlur(shade, (0, 0), 2.5))


@lru_cache(maxsize=1)
def _lips_mask() -> tuple[tuple, np.ndarray]:
    lm = landmark_tex()
    roi, lips = _window(lm[48:60], 4)
    cv2.fillPoly(lips, [_poly(lm[48:60] - roi[2])], 1.0, cv2.LINE_AA, 2)
    return roi, _frozen(cv2.GaussianBlur(lips, (0, 0), 0.9))


@lru_cache(maxsize=1)
def _nostril_mask() -> tuple[tuple, np.ndarray]:
    lm = landmark_tex()
    roi, nost = _window(lm[31:36], 6)
    for a, b in ((31, 32), (34, 35)):
        c = (lm[a] + lm[b]) / 2 + [0, -1.5] - roi[2]
        cv2.ellipse(nost, (int(c[0] * 4), int(c[1] * 4)), (int(abs(lm[b, 0] - lm[a, 0]) * 2.2), 5), 0, 0, 360, 1.0, -1,
                    cv2.LINE_AA, 2)
    return roi, _frozen(cv2.GaussianBlur(nost, (0, 0), 0.8) * 0.85)


@cache
def _brow_mask(widths: tuple[int, ...]) -> tuple[tuple, np.ndarray]:
    """Brows as tapered strokes of the given integer widths (four segments per brow; a few dozen distinct sets)."""
    lm = landmark_tex()
    roi, brow = _window(lm[17:27], 10)
    for b, lo in enumerate((17, 22)):
        pts = _poly(lm[lo:lo + 5] - roi[2])
        for j in range(4):
            cv2.line(brow, tuple(pts[j]), tuple(pts[j + 1]), 1.0, widths[4 * b + j], cv2.LINE_AA, 2)
    return roi, _frozen(cv2.GaussianBlur(brow, (0, 0), 1.0))


@lru_cache(maxsize=4)
def _lash_mask(widths: tuple[int, int]) -> tuple[tuple, np.ndarray]:
    """Lashes / liner on the upper lids (right eye's and left eye's stroke widths)."""
    lm = landmark_tex()
    roi, lash = _window(lm[36:48], 4)
    o = roi[2]
    for lo, width in zip((36, 42), widths, strict=True):
        cv2.polylines(lash, [_poly(lm[lo:lo + 4] - o + [0, -0.8])], False, 1.0, width, cv2.LINE_AA, 2)
        cv2.polylines(lash, [_poly(lm[[lo + 3, lo + 4, lo + 5, lo]] - o)], False, 0.35, 1, cv2.LINE_AA, 2)
    return roi, _frozen(lash)


@lru_cache(maxsize=1)
def _labels() -> np.ndarray:
    """Where the shader finds lips, the mouth opening and the eye openings (the same for every face)."""
    lm = landmark_tex()
    label = np.zeros((TEX_H, TEX_W), np.uint8)
    cv2.fillPoly(label, [_poly(lm[48:60])], LABEL_LIPS, cv2.LINE_8, 2)
    cv2.fillPoly(label, [_poly(lm[60:68])], LABEL_MOUTH, cv2.LINE_8, 2)
    cv2.fillPoly(label, [_poly(lm[36:42])], LABEL_EYE_R, cv2.LINE_8, 2)
    cv2.fillPoly(label, [_poly(lm[42:48])], LABEL_EYE_L, cv2.LINE_8, 2)
    return _frozen(label)


def face_texture(rng: np.random.Generator, app: Appearance) -> tuple[np.ndarray, np.ndarray]:
    """Albedo [H,W,3] float32 and label map [H,W] uint8 (shared, read-only) in the head's texture chart."""
    lm = landmark_tex()
    # low-frequency colour (blotches, warmth on cheeks, nose and around the mouth) at a quarter of
    # the resolution, then upscaled: it is smooth anyway and this is most of the texture's cost
    q = 4
    small = (TEX_H // q, TEX_W // q)
    window = _border_window()[::q, ::q][: small[0], : small[1]]
    blotch = 1 + (0.045 * _noise(rng, 10, small) + 0.02 * _noise(rng, 40, small)) * window
    red = np.zeros(small, np.float32)
    for k in (1, 15, 30, 33, 3, 13):
        x, y = (lm[k] if k not in (1, 15) else (lm[k] + lm[30]) / 2) / q
        cv2.circle(red, (int(x * 4), int(y * 4)), int(rng.uniform(8, 16) / q * 4), 1.0, -1, cv2.LINE_AA, 2)
    red = cv2.GaussianBlur(red, (0, 0), 7 / q) * rng.uniform(0.0, 0.12)
    low = (blotch[..., None] * (1 + red[..., None] * np.array([0.3, -0.25, -0.25], np.float32))) * app.skin.astype(np.float32)
    tex = cv2.resize(low, (TEX_W, TEX_H), interpolation=cv2.INTER_LINEAR)
    if app.beard > 0:  # beard / stubble, with per-texel grain (no blotches: those read as dirt)
        (ys, xs, _), m = _beard_mask()
        fine = rng.uniform(0, 1, m.shape).astype(np.float32)
        m = m * (np.clip(0.8 + 0.4 * (fine - 0.5), 0, 1) * app.beard)
        colour = app.hair * 0.9 if app.beard > 0.5 else app.hair * 0.5 + app.skin * 0.15  # stubble: a dark shadow
        _blend(tex[ys, xs], np.clip(m, 0, 0.97), colour)
    (ys, xs, _), socket = _socket_mask()  # eye sockets darker (+ eye shadow sometimes)
    shade = socket * rng.uniform(0.15, 0.35)
    _blend(tex[ys, xs], shade, np.zeros(3, np.float32))
    if rng.uniform() < 0.2:
        _blend(tex[ys, xs], shade * rng.uniform(0.5, 1.5), rng.uniform(0.1, 0.5, 3))
    (ys, xs, _), lips = _lips_mask()
    lips = lips * (1 + 0.08 * rng.standard_normal(lips.shape, dtype=np.float32))
    _blend(tex[ys, xs], np.clip(lips, 0, 1), app.lips)
    (ys, xs, _), nost = _nostril_mask()
    _blend(tex[ys, xs], nost, app.skin * 0.15)
    thick = rng.uniform(3.0, 7.0)  # brows: tapered strokes with hair texture
    widths = tuple(max(1, int(thick * (1.15 - 0.5 * abs(j + 0.5 - inner) / 4))) for inner in (4, 0) for j in range(4))
    (ys, xs, _), brow = _brow_mask(widths)
    brow = brow * np.clip(0.8 + 0.35 * rng.standard_normal(brow.shape, dtype=np.float32), 0, 1)
    _blend(tex[ys, xs], np.clip(brow * rng.uniform(0.55, 0.95), 0, 1), app.hair * 0.8)
    (ys, xs, _), lash = _lash_mask((int(rng.uniform(1, 3)), int(rng.uniform(1, 3))))
    _blend(tex[ys, xs], lash * rng.uniform(0.6, 0.95), np.array([0.05, 0.04, 0.04], np.float32))
    return np.clip(tex, 0, 1, out=tex), _labels()


def streaks(rng: np.random.Generator, shape: tuple[int, int] = (64, 256), curl: float = 0.0) -> np.ndarray:
    """Hair strand texture: fine noise across strands, stretched along them; values around 1."""
    fine = rng.standard_normal((shape[0] // 8, shape[1])).astype(np.float32)
    tex = cv2.resize(fine, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    if curl > 0:
        xs, ys = np.meshgrid(np.arange(shape[1], dtype=np.float32), np.arange(shape[0], dtype=np.float32))
        tex = cv2.remap(tex, xs + curl * np.sin(ys * 0.6).astype(np.float32), ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    return 1 + 0.22 * tex + 0.1 * _noise(rng, 8, shape)


def pattern(rng: np.random.Generator, colour: np.ndarray, shape: tuple[int, int] = (64, 64)) -> np.ndarray:
    """Clothing texture: plain knit, stripes, checks or print, as an RGB float tile."""
    tile = np.empty((*shape, 3), np.float32)
    tile[:] = colour
    kind = rng.integers(4)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    other = np.clip(colour * rng.uniform(0.3, 1.6, 3), 0, 1)
    if kind == 1:
        m = (np.sin(yy * rng.uniform(0.3, 1.2)) > 0)[..., None]
        tile = np.where(m, tile, other)
    elif kind == 2:
        f = rng.uniform(0.2, 0.8)
        m = ((np.sin(yy * f) > 0) ^ (np.sin(xx * f) > 0))[..., None]
        tile = np.where(m, tile, other)
    elif kind == 3:
        m = (_noise(rng, 12, shape) > 0.5)[..., None]
        tile = np.where(m, other, tile)
    return (tile * (1 + 0.06 * _noise(rng, 32, shape))[..., None]).astype(np.float32)

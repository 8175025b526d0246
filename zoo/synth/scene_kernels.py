"""Compiled (numba) pixel loops of the scene stage (see synth_scene.py).

Why compiled: numpy runs these per-pixel chains as several passes over full-size float temporaries,
broadcasting a last axis of 3 (slow), and OpenCV's cubic resize is slow for tiny grids; fused loops
cost a fraction. Plain IEEE arithmetic (no fastmath, no threads): the same inputs give the same bytes.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def noisy_to_u8(img: np.ndarray, words: np.ndarray, first: int, amp: np.float32, out: np.ndarray) -> None:
    """``out = round(clip(img + (u - 0.5) * amp, 0, 1) * 255)`` over flat float32 ``img``.

    ``u`` is the float32 uniform numpy makes from a 32-bit word, ``(w >> 8) * 2**-24``; the words are
    ``first`` (when >= 0) followed by ``words``, exactly what ``rng.random(n, dtype=np.float32)`` uses.
    Rounding is half to even, like OpenCV's ``convertScaleAbs``.
    """
    half = np.float32(0.5)
    unit = np.float32(1.0 / 16777216.0)
    zero, one, full = np.float32(0.0), np.float32(1.0), np.float32(255.0)
    start = 0
    if first >= 0:
        start = 1
        u = np.float32(first >> 8) * unit
        v = min(max(img[0] + (u - half) * amp, zero), one)
        out[0] = np.uint8(np.rint(v * full))
    for i in range(start, img.size):
        u = np.float32(words[i - start] >> 8) * unit
        v = min(max(img[i] + (u - half) * amp, zero), one)
        out[i] = np.uint8(np.rint(v * full))


@njit(cache=True, nogil=True, error_model="numpy")
def modulated_gradient(grad: np.ndarray, base: np.ndarray, other: np.ndarray, lum: np.ndarray, lum_amp: np.float32,
                       tint: np.ndarray, tint_amp: np.float32, add: np.ndarray, add_amp: np.float32) -> np.ndarray:
    """``(base + (other - base) * grad) * (1 + lum_amp * lum) * (1 + tint_amp * tint) + add_amp * add``.

    ``grad``, ``lum`` and ``add`` are (h, w), ``tint`` is (h, w, 3), colours are float32 RGB; returns
    float32 (h, w, 3). As numpy broadcasts over a last axis of 3 this costs ~0.7 ms per 128 px background.
    """
    h, w = grad.shape
    out = np.empty((h, w, 3), np.float32)
    one = np.float32(1.0)
    for y in range(h):
        for x in range(w):
            g = grad[y, x]
            m = one + lum_amp * lum[y, x]
            a = add_amp * add[y, x]
            for c in range(3):
                v = (other[c] - base[c]) * g + base[c]
                out[y, x, c] = v * m * (one + tint_amp * tint[y, x, c]) + a
    return out


def cubic_taps(src: int, dst: int) -> tuple[np.ndarray, np.ndarray]:
    """Source indices and weights (dst, 4) of OpenCV's INTER_CUBIC resize along one axis (A = -0.75,
    pixel-centre alignment, replicated border), in float32 as OpenCV computes them."""
    f = ((np.arange(dst) + 0.5) * (src / dst) - 0.5).astype(np.float32)
    s = np.floor(f)
    x = f - s
    a = np.float32(-0.75)
    w = np.empty((dst, 4), np.float32)
    w[:, 0] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a
    w[:, 1] = ((a + 2) * x - (a + 3)) * x * x + 1
    w[:, 2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1
    w[:, 3] = 1 - w[:, 0] - w[:, 1] - w[:, 2]
    idx = np.clip(s.astype(np.int64)[:, None] + np.arange(-1, 3), 0, src - 1)
    return idx, w


@njit(cache=True, nogil=True, error_model="numpy")
def upsample_cubic(src: np.ndarray, iy: np.ndarray, wy: np.ndarray, ix: np.ndarray, wx: np.ndarray) -> np.ndarray:
    """Separable 4-tap resize of float32 (h, w, ch) to (len(iy), len(ix), ch) with taps from ``cubic_taps``.

    Same result as ``cv2.resize(..., INTER_CUBIC)`` up to float rounding; OpenCV's generic path takes
    ~150 us to blow a 5x5 grid up to 128x128, this ~15 us (smooth noise fields are made this way).
    """
    h0, w0, ch = src.shape
    h, w = len(iy), len(ix)
    rows = np.empty((h0, w, ch), np.float32)  # horizontal pass on the few source rows first
    for y in range(h0):
        for x in range(w):
            for c in range(ch):
                acc = np.float32(0.0)
                for k in range(4):
                    acc += wx[x, k] * src[y, ix[x, k], c]
                rows[y, x, c] = acc
    flat = rows.reshape(h0, w * ch)
    out = np.empty((h, w * ch), np.float32)
    for y in range(h):  # vertical pass over contiguous rows (vectorises)
        r0, r1, r2, r3 = flat[iy[y, 0]], flat[iy[y, 1]], flat[iy[y, 2]], flat[iy[y, 3]]
        b0, b1, b2, b3 = wy[y, 0], wy[y, 1], wy[y, 2], wy[y, 3]
        o = out[y]
        for i in range(w * ch):
            o[i] = b0 * r0[i] + b1 * r1[i] + b2 * r2[i] + b3 * r3[i]
    return out.reshape(h, w, ch)


@njit(cache=True, nogil=True, error_model="numpy")
def composite_into(dst: np.ndarray, alpha: np.ndarray, shade: np.ndarray, colour: np.ndarray) -> None:
    """``dst = dst * (1 - alpha) + alpha * shade * colour`` in place: float32 (h, w, 3) ``dst`` (may be a
    view), (h, w) ``alpha`` and ``shade``, float32 RGB ``colour``; one pass instead of numpy broadcasting
    a last axis of 3 (~0.5 ms for a hand-sized occluder)."""
    h, w = alpha.shape
    one = np.float32(1.0)
    for y in range(h):
        for x in range(w):
            a = alpha[y, x]
            if a == 0:
                continue
            s = a * shade[y, x]
            for c in range(3):
                dst[y, x, c] = dst[y, x, c] * (one - a) + s * colour[c]


@njit(cache=True, nogil=True, error_model="numpy")
def cast_clip(img: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """``clip(img * gain, 0, 1)`` per channel: float32 (h, w, 3) -> new float32 array in one pass (for
    ``cv2.multiply`` + ``np.clip``; the product is rounded to float32 from float64 like OpenCV's)."""
    h, w, _ = img.shape
    out = np.empty((h, w, 3), np.float32)
    zero, one = np.float32(0.0), np.float32(1.0)
    for y in range(h):
        for x in range(w):
            for c in range(3):
                out[y, x, c] = min(max(np.float32(img[y, x, c] * gain[c]), zero), one)
    return out

"""Per-pixel shading of the rasterised fragments: lights, skin, hair, eyes, mouth, clothes.

Lighting is a key light with wrap-around diffuse (a cheap stand-in for light scattering in skin),
a fill light, a sky/ground ambient term scaled by the mesh's ambient occlusion, and Blinn-Phong
specular. Eyes are ray-cast per pixel against eyeball spheres wherever the skin texture says
"eye opening", so iris, pupil and highlight are sharp at any pose. The per-fragment passes are
compiled (``shade_kernels``); this module holds the lighting model, materials and the mouth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo.synth.kernels import light_terms, power_table

MAT_SKIN, MAT_HAIR, MAT_EAR, MAT_NECK, MAT_CLOTH, MAT_FRAME, MAT_LENS = range(7)
# attribute columns: normal xyz, ambient occlusion, texture u, v
A_N, A_AO, A_UV, A_X = slice(0, 3), 3, slice(4, 6), 6  # A_X: hair thickness (coverage)


@dataclass
class Lighting:
    key_dir: np.ndarray  # unit vector from the surface toward the light (camera axes)
    key: np.ndarray  # RGB intensity
    fill_dir: np.ndarray
    fill: np.ndarray
    sky: np.ndarray
    ground: np.ndarray
    wrap: float
    spec: float
    shininess: float

    def to_dict(self) -> dict:
        return {k: (v.round(3).tolist() if isinstance(v, np.ndarray) else round(float(v), 3)) for k, v in self.__dict__.items()}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v, axis=-1, keepdims=True) + 1e-9)


def sample_lighting(rng: np.random.Generator) -> Lighting:
    az, el = np.radians(rng.uniform(-100, 100)), np.radians(rng.uniform(-25, 70))
    key_dir = _unit(np.array([np.sin(az) * np.cos(el), -np.sin(el), -np.cos(az) * np.cos(el)]))
    temp = rng.normal(0, 0.08)
    key = rng.uniform(0.55, 1.15) * np.array([1 + temp, 1.0, 1 - temp])
    fill_dir = _unit(np.array([-key_dir[0], rng.uniform(-0.5, 0.3), -abs(rng.normal(0.8, 0.2))]))
    fill = rng.uniform(0.0, 0.35) * np.array([1 - temp, 1.0, 1 + temp])
    amb = rng.uniform(0.18, 0.5)
    sky = amb * np.array([1 - temp * 0.5, 1.0, 1 + temp * 0.5])
    ground = sky * rng.uniform(0.35, 0.8)
    f32 = [np.asarray(a, np.float32) for a in (key_dir, key, fill_dir, fill, sky, ground)]  # shading runs in float32
    return Lighting(*f32, float(rng.uniform(0.1, 0.45)), float(rng.uniform(0.04, 0.25)), float(rng.uniform(12, 40)))


def light(
    n: np.ndarray, v: np.ndarray, lt: Lighting, wrap: float, spec: float, shin: float, shadow: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Diffuse and ambient RGB factors and the specular RGB term for normals n (toward the viewer) and view rays v.

    ``shadow`` is the fraction of the key light that reaches each point (cast shadows); fill and
    ambient light are unshadowed.
    """
    n32, v32 = np.ascontiguousarray(n, np.float32), np.ascontiguousarray(v, np.float32)
    shadowed = shadow is not None
    sh = np.ascontiguousarray(shadow, np.float32) if shadowed else np.ones(1, np.float32)
    return light_terms(n32, v32, lt.key_dir, lt.key, lt.fill_dir, lt.fill, lt.sky, lt.ground, float(wrap), float(spec),
                       power_table(shin), sh, shadowed)


def _fraction(uv: np.ndarray, upper: list[int], lower: list[int], lm_angles: np.ndarray) -> np.ndarray:
    """0 at the upper contour, 1 at the lower one, along latitude (neutral texture coordinates)."""
    up, lo = lm_angles[upper], lm_angles[lower]
    yu = np.interp(uv[:, 0], *up[np.argsort(up[:, 0])].T)
    yl = np.interp(uv[:, 0], *lo[np.argsort(lo[:, 0])].T)
    return np.clip((uv[:, 1] - yu) / np.maximum(yl - yu, 1e-3), 0, 1)


def shade_mouth(frac: np.ndarray, skin: np.ndarray, teeth_lower: bool) -> np.ndarray:
    """Mouth opening: upper teeth near the upper lip, dark cavity and tongue below."""
    col = np.tile(np.array([0.22, 0.07, 0.07]) * (0.6 + 0.4 * skin.mean()), (len(frac), 1))
    tongue = np.clip((frac - 0.55) / 0.3, 0, 1)[:, None]
    col = col * (1 - tongue) + np.array([0.55, 0.25, 0.25]) * tongue * 0.7
    teeth = frac < 0.32
    if teeth_lower:
        teeth |= frac > 0.86
    col = np.where(teeth[:, None], np.array([0.85, 0.82, 0.74]) * (0.75 + 0.25 * (1 - np.abs(frac - 0.15) * 3))[:, None], col)
    return col * 0.85


def mouth_fraction(uv: np.ndarray, lm_angles: np.ndarray) -> np.ndarray:
    return _fraction(uv, [60, 61, 62, 63, 64], [60, 67, 66, 65, 64], lm_angles)


def eye_fraction(uv: np.ndarray, lm_angles: np.ndarray, lo: int) -> np.ndarray:
    return _fraction(uv, [lo, lo + 1, lo + 2, lo + 3], [lo, lo + 5, lo + 4, lo + 3], lm_angles)


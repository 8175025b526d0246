"""Compiled shading passes of the renderer: every fragment lit and textured in two loops.

Why fused: shading per material as numpy expressions gathered each material's fragments, sampled
textures through ``cv2.remap`` in 1024-wide rows and built a dozen [N,3] temporaries per light
term, which made shading about a third of a face's render time. Here each fragment is read once
and written once. The arithmetic is the same as ``synth_shade.light`` (see ``light_point``);
plain IEEE arithmetic without fastmath or threads, so a seed still gives the same bytes.

Two passes because eye and mouth openings are shaded in between (``eye_pass`` and
``synth_shade.shade_mouth``, on a few hundred fragments) and hair is blended over the finished skin colour.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from zoo.synth.kernels import light_point, power_table
from zoo.synth.shade import A_AO, A_UV, A_X, MAT_CLOTH, MAT_EAR, MAT_FRAME, MAT_HAIR, MAT_LENS, MAT_NECK, MAT_SKIN
from zoo.synth.texture import LABEL_LIPS

_U, _V = A_UV.start, A_UV.start + 1  # texture coordinate columns (numba freezes these module ints as constants)
NOT_SKIN = 255  # label of fragments the skin pass leaves to the material pass
# specular power tables of the fixed-shininess materials (hair and clothes 8, glasses 40, eyes: none)
_POW8, _POW40, _POW1 = power_table(8.0), power_table(40.0), power_table(1.0)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _clamp(i: int, n: int) -> int:
    return min(max(i, 0), n - 1)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _reflect(i: int, n: int) -> int:
    """OpenCV's BORDER_REFLECT (fedcba|abcdef|fedcba) for one step outside the image."""
    if i < 0:
        return -i - 1
    if i >= n:
        return 2 * n - i - 1
    return i


@njit(cache=True, nogil=True, error_model="numpy")
def hair_cover(thick: float, pore: float) -> float:
    """How much of a hair-shell fragment is hair (1) rather than the skin under a fuzzy hairline (0)."""
    return min(max((thick + 1.2 * pore + 0.5) / 2.5, 0.0), 1.0)


@njit(cache=True, nogil=True, error_model="numpy")
def skin_pass(material: np.ndarray, attrs: np.ndarray, n: np.ndarray, v: np.ndarray, vis: np.ndarray, pores: np.ndarray,
              tex: np.ndarray, label: np.ndarray, tex_origin: np.ndarray, tex_ppd: float, skin: np.ndarray,
              key_dir: np.ndarray, key: np.ndarray, fill_dir: np.ndarray, fill: np.ndarray, sky: np.ndarray,
              ground: np.ndarray, wrap: float, spec: float, shin_table: np.ndarray):  # noqa: ANN201
    """Lit skin of every skin-like fragment (skin, ears, neck, and the skin under a hairline fringe).

    Returns (colour [N,3] float32, zero where not skin-like; texture label [N] uint8, ``NOT_SKIN``
    where not skin-like). Head fragments take their albedo (bilinear) and label (nearest) from the
    face texture chart; ears and neck are plain skin. Albedo gets the pore grain; lips are less
    shiny; skin scatters red light into the terminator.
    """
    m = len(material)
    th, tw = label.shape
    col = np.zeros((m, 3), np.float32)
    lab = np.full(m, NOT_SKIN, np.uint8)
    for i in range(m):
        mat = material[i]
        fringe = mat == MAT_HAIR and hair_cover(attrs[i, A_X], pores[i]) < 1.0
        if not (mat in (MAT_SKIN, MAT_EAR, MAT_NECK) or fringe):
            continue
        a0, a1, a2 = skin[0], skin[1], skin[2]
        lb = 0
        if mat == MAT_SKIN or fringe:
            x = (attrs[i, _U] - tex_origin[0]) * tex_ppd
            y = (attrs[i, _V] - tex_origin[1]) * tex_ppd
            xf, yf = math.floor(x), math.floor(y)
            tx, ty = x - xf, y - yf
            x0, x1, y0, y1 = _clamp(int(xf), tw), _clamp(int(xf) + 1, tw), _clamp(int(yf), th), _clamp(int(yf) + 1, th)
            w00, w01, w10, w11 = (1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty
            a0 = w00 * tex[y0, x0, 0] + w01 * tex[y0, x1, 0] + w10 * tex[y1, x0, 0] + w11 * tex[y1, x1, 0]
            a1 = w00 * tex[y0, x0, 1] + w01 * tex[y0, x1, 1] + w10 * tex[y1, x0, 1] + w11 * tex[y1, x1, 1]
            a2 = w00 * tex[y0, x0, 2] + w01 * tex[y0, x1, 2] + w10 * tex[y1, x0, 2] + w11 * tex[y1, x1, 2]
            lb = label[_clamp(int(math.floor(y + 0.5)), th), _clamp(int(math.floor(x + 0.5)), tw)]
        lab[i] = lb
        grain = 1.0 + 0.03 * pores[i]
        sp = (0.35 if lb == LABEL_LIPS else 1.0) * spec
        kd, nf, up, s, nk = light_point(n[i, 0], n[i, 1], n[i, 2], v[i, 0], v[i, 1], v[i, 2], key_dir, fill_dir, wrap, shin_table,
                                         vis[i], True)
        ao = attrs[i, A_AO]
        sc = max(0.15 - abs(nk), 0.0)
        for ch in range(3):
            alb = (a0 if ch == 0 else a1 if ch == 1 else a2) * grain
            diff = kd * key[ch] + nf * fill[ch]
            amb = sky[ch] * up + ground[ch] * (1.0 - up)
            scatter = (0.5, 0.1, 0.05)[ch] * key[ch]
            col[i, ch] = alb * (diff * (0.55 + 0.45 * ao) + amb * ao + sc * scatter) + s * sp * key[ch]
    return col, lab


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _lit(n, v, i, key_dir, key, fill_dir, fill, sky, ground, wrap, spec, shin_table, shadow, shadowed):  # noqa: ANN001, ANN202
    """(diffuse + ambient) and specular RGB of fragment i as three-tuples."""
    kd, nf, up, s, _ = light_point(n[i, 0], n[i, 1], n[i, 2], v[i, 0], v[i, 1], v[i, 2], key_dir, fill_dir, wrap, shin_table,
                                    shadow, shadowed)
    d = (kd * key[0] + nf * fill[0], kd * key[1] + nf * fill[1], kd * key[2] + nf * fill[2])
    a = (sky[0] * up + ground[0] * (1.0 - up), sky[1] * up + ground[1] * (1.0 - up), sky[2] * up + ground[2] * (1.0 - up))
    return d, a, (s * spec * key[0], s * spec * key[1], s * spec * key[2])


@njit(cache=True, nogil=True, error_model="numpy")
def material_pass(col: np.ndarray, material: np.ndarray, attrs: np.ndarray, n: np.ndarray, v: np.ndarray,
                  vis: np.ndarray, pores: np.ndarray, hair: np.ndarray, streak: np.ndarray, tile: np.ndarray,
                  frame: np.ndarray, key_dir: np.ndarray, key: np.ndarray, fill_dir: np.ndarray, fill: np.ndarray,
                  sky: np.ndarray, ground: np.ndarray) -> None:
    """Hair (blended over the skin pass's colour by its coverage), clothes and glasses, then clip to 0..1.2, in place.

    Hair albedo is modulated by the strand texture ``streak`` (wrapped three times around the
    head, reflected at its edges); clothes repeat the 64 px ``tile``; glasses are unshadowed.
    """
    sh, sw = streak.shape
    ph, pw = tile.shape[0], tile.shape[1]
    hair_mean = (hair[0] + hair[1] + hair[2]) / 3.0
    for i in range(len(material)):
        mat = material[i]
        ao = attrs[i, A_AO]
        if mat == MAT_HAIR:
            x = (attrs[i, _U] + 180.0) / 360.0 * sw * 3 % sw
            y = (attrs[i, _V] + 90.0) / 180.0 * sh
            xf, yf = math.floor(x), math.floor(y)
            tx, ty = x - xf, y - yf
            x0, x1, y0, y1 = _reflect(int(xf), sw), _reflect(int(xf) + 1, sw), _reflect(int(yf), sh), _reflect(int(yf) + 1, sh)
            s = ((1 - tx) * (1 - ty) * streak[y0, x0] + tx * (1 - ty) * streak[y0, x1]
                 + (1 - tx) * ty * streak[y1, x0] + tx * ty * streak[y1, x1])
            d, a, sp = _lit(n, v, i, key_dir, key, fill_dir, fill, sky, ground, 0.15, 0.3, _POW8, vis[i], True)
            cover = hair_cover(attrs[i, A_X], pores[i])
            for ch in range(3):
                c = hair[ch] * s * (d[ch] * 0.9 + a[ch]) * ao + sp[ch] * (0.5 + hair_mean) * s
                col[i, ch] = c * cover + col[i, ch] * (1.0 - cover)
        elif mat == MAT_CLOTH:
            px = int(attrs[i, _U] / (2 * np.pi) * 512 % pw)
            py = int(attrs[i, _V] * 0.5 % ph)
            d, a, sp = _lit(n, v, i, key_dir, key, fill_dir, fill, sky, ground, 0.3, 0.05, _POW8, vis[i], True)
            for ch in range(3):
                col[i, ch] = tile[py, px, ch] * (d[ch] + a[ch]) * ao + sp[ch]
        elif mat in (MAT_FRAME, MAT_LENS):
            d, a, sp = _lit(n, v, i, key_dir, key, fill_dir, fill, sky, ground, 0.0, 0.8, _POW40, 1.0, False)
            for ch in range(3):
                alb = (0.035 if ch == 2 else 0.03) if mat == MAT_LENS else frame[ch]
                col[i, ch] = alb * (d[ch] + a[ch]) + sp[ch]
        for ch in range(3):
            col[i, ch] = min(max(col[i, ch], 0.0), 1.2)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _unit3(x: float, y: float, z: float) -> tuple[float, float, float]:
    n = math.sqrt(x * x + y * y + z * z) + 1e-9
    return x / n, y / n, z / n


@njit(cache=True, nogil=True, error_model="numpy")
def eye_pass(col: np.ndarray, idx: np.ndarray, xs: np.ndarray, ys: np.ndarray, lid_frac: np.ndarray, cam: np.ndarray,
             centre: np.ndarray, gaze: np.ndarray, radius: float, iris: np.ndarray, looks: np.ndarray,
             key_dir: np.ndarray, key: np.ndarray, fill_dir: np.ndarray, fill: np.ndarray, sky: np.ndarray,
             ground: np.ndarray) -> None:
    """Eye-opening fragments ``idx`` of one eye, in place: the pixel ray hits the eyeball sphere, and the angle from
    the gaze picks sclera, iris (with radial fibres and a dark limbal ring) or pupil; lids shade the top; a key-light
    highlight and a camera-side catchlight keep the eye wet and readable. ``cam`` = (fx, fy, cx, cy);
    ``looks`` = (pupil size in degrees, two fibre phases); ``lid_frac`` 0 at the upper lid, 1 at the lower.
    """
    iris_deg = 30.0
    rx, ry, rz = _unit3(-gaze[2], 0.0, gaze[0])  # gaze x (0, 1, 0): the iris fibres' azimuth reference
    bx, by, bz = gaze[1] * rz - gaze[2] * ry, gaze[2] * rx - gaze[0] * rz, gaze[0] * ry - gaze[1] * rx
    cc = centre[0] * centre[0] + centre[1] * centre[1] + centre[2] * centre[2] - radius * radius
    for j in range(len(idx)):
        i = idx[j]
        vx, vy, vz = _unit3((xs[j] - cam[2]) / cam[0], (ys[j] - cam[3]) / cam[1], 1.0)
        b = vx * centre[0] + vy * centre[1] + vz * centre[2]
        t = b - math.sqrt(max(b * b - cc, 0.0))
        qx, qy, qz = _unit3(vx * t - centre[0], vy * t - centre[1], vz * t - centre[2])
        cosang = qx * gaze[0] + qy * gaze[1] + qz * gaze[2]
        ang = math.degrees(math.acos(min(max(cosang, -1.0), 1.0)))
        az = math.atan2(qx * bx + qy * by + qz * bz, qx * rx + qy * ry + qz * rz)
        fib = 1.0 + 0.25 * math.sin(az * 23 + looks[1]) * math.sin(az * 7 + looks[2])
        ring = min(max((ang - (iris_deg - 5)) / 5, 0.0), 1.0)
        iris_k = fib * (1 - 0.55 * ring) * (1.25 - 0.5 * min(max(ang / iris_deg, 0.0), 1.0))
        sclera_k = 1 - 0.2 * min(max((ang - 35) / 40, 0.0), 1.0)
        lid = 0.55 + 0.45 * min(max(lid_frac[j] / 0.35, 0.0), 1.0) ** 0.7
        kd, nf, up, _, _ = light_point(qx, qy, qz, vx, vy, vz, key_dir, fill_dir, 0.3, _POW1, 1.0, False)
        hx, hy, hz = _unit3(key_dir[0] - vx, key_dir[1] - vy, key_dir[2] - vz)
        sp = min(max(qx * hx + qy * hy + qz * hz, 0.0), 1.0) ** 300 * 1.5
        cx_, cy_, cz_ = _unit3(-0.2 - vx, -0.4 - vy, -1.0 - vz)
        catch = min(max(qx * cx_ + qy * cy_ + qz * cz_, 0.0), 1.0) ** 400 * 0.8
        glint = (sp + catch) if lid > 0.5 else 0.0
        for ch in range(3):
            if ang < looks[0]:
                base = (0.02, 0.02, 0.025)[ch]
            elif ang < iris_deg:
                base = iris[ch] * iris_k
            else:
                base = (0.92, 0.89, 0.86)[ch] * sclera_k
            light_rgb = 0.6 * (kd * key[ch] + nf * fill[ch]) + sky[ch] * up + ground[ch] * (1.0 - up) + 0.25
            col[i, ch] = base * light_rgb * lid + glint

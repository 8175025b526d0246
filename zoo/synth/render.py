"""``render_face``: one synthetic face photo with exact 70-point landmarks and its metadata.

Scene: a deformed head (identity + expression) with hair, ears, eyes, neck, shoulders and maybe
glasses, posed by yaw/pitch/roll and lit, in front of a cluttered background, sometimes partly
covered, then put through camera effects. Landmarks are projections of the 3D landmark points
(occluded ones included), pupils are the iris centres.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from zoo.pose import camera_matrix, rotation_matrix
from zoo.synth import head_parts as parts
from zoo.synth.head_deform import sample_expression, sample_identity
from zoo.synth.head_scene import FLIP, TAG_EYE_L, TAG_EYE_R, TAG_FACE, TAG_MOUTH, View, classic_head
from zoo.synth.head_scene import attrs as _attrs
from zoo.synth.kernels import paste_and_soften, power_table, surface_rays, vertex_normals
from zoo.synth.options import DEFAULT, RenderOptions
from zoo.synth.raster import MeshPart, rasterize
from zoo.synth.scene import background, camera_effects, flyaway_strands, occluders
from zoo.synth.shade import (
    A_UV,
    A_X,
    MAT_CLOTH,
    MAT_FRAME,
    MAT_HAIR,
    MAT_LENS,
    MAT_SKIN,
    Lighting,
    eye_fraction,
    light,
    mouth_fraction,
    sample_lighting,
    shade_mouth,
)
from zoo.synth.shade_kernels import eye_pass, material_pass, skin_pass
from zoo.synth.shadow import key_visibility
from zoo.synth.texture import (
    LABEL_EYE_L,
    LABEL_EYE_R,
    LABEL_LIPS,
    LABEL_MOUTH,
    LABEL_SKIN,
    TEX_PHI,
    TEX_PPD,
    TEX_THETA,
    Appearance,
    face_texture,
    landmark_angles,
    pattern,
    sample_appearance,
    streaks,
)

_EDGE_BLUR = cv2.getGaussianKernel(3, 0.8).ravel()  # softens the silhouette (paste_and_soften)


def sample_pose(rng: np.random.Generator, pitch_mean: float = 0.0) -> tuple[float, float, float]:
    """Yaw uniform over -90..90; pitch mostly near ``pitch_mean`` (negative looks down, as in ``zoo.pose``),
    always within +-30 of it; roll mostly near 0, within +-30. The same draws whatever ``pitch_mean`` is."""
    yaw = float(rng.uniform(-90, 90))
    if rng.uniform() < 0.7:
        pitch, roll = float(np.clip(rng.normal(0, 11), -30, 30)), float(np.clip(rng.normal(0, 8), -30, 30))
    else:
        pitch, roll = float(rng.uniform(-30, 30)), float(rng.uniform(-30, 30))
    return yaw, pitch + pitch_mean, roll


@dataclass
class FaceParams:
    """Everything random about one rendered face; seeds make textures repeatable across video frames."""

    identity: dict | np.ndarray  # classic: head_deform's dict; ICT: [60] weights ~ N(0, 1)
    expression: dict | np.ndarray  # classic: head_deform's dict; ICT: [53] blendshape weights in [0, 1]
    appearance: Appearance
    hair: dict
    lighting: Lighting
    yaw: float
    pitch: float
    roll: float
    body: tuple[float, float, float]
    focal_scale: float
    face_frac: float  # face width as a fraction of the image
    offset: tuple[float, float]  # face centre offset as a fraction of the image
    glasses: str | None
    occluded: bool
    seed: int  # textures, background, occluders and camera effects
    options: RenderOptions = field(default=DEFAULT)  # the head model and labels to render with (not drawn)


def sample_params(rng: np.random.Generator, options: RenderOptions = DEFAULT) -> FaceParams:
    """Draw all scene parameters of one face under ``options`` (camera range and pitch centre).

    The number and order of draws do not depend on the camera or pitch options: with
    ``RenderOptions.V3`` this is RENDER_VERSION 3's draw exactly."""
    if options.head == "ict":
        from zoo.synth.render_ict import sample_face

        ident, expr = sample_face(rng, options.population)
    else:
        ident, expr = sample_identity(rng), sample_expression(rng)
    app = sample_appearance(rng)
    hair = parts.sample_hair(rng)
    lt = sample_lighting(rng)
    yaw, pitch, roll = sample_pose(rng, options.pitch_mean)
    body = (float(yaw * rng.uniform(0.2, 0.8) + rng.normal(0, 8)), float(rng.normal(0, 4)), float(rng.normal(0, 4)))
    r = rng.uniform()
    wear = None if r > 0.12 else "sunglasses" if r < 0.03 else "glasses"
    return FaceParams(ident, expr, app, hair, lt, yaw, pitch, roll, body, float(rng.uniform(*options.focal_range)),
                      float(rng.uniform(0.36, 0.62)), (float(rng.normal(0, 0.07)), float(rng.normal(0, 0.07))), wear,
                      bool(rng.uniform() < 0.25), int(rng.integers(2**31)), options)


def render_face(rng: np.random.Generator, size: int = 256, options: RenderOptions = DEFAULT,
                **overrides: object) -> tuple[np.ndarray, np.ndarray, dict]:
    """Render one face: (RGB uint8 [size,size,3], landmarks [70,2] float pixels, meta dict).

    ``overrides`` replace sampled ``FaceParams`` fields (e.g. ``yaw=30``) for tests and video clips.
    """
    params = replace(sample_params(rng, options), **overrides)
    return render_params(params, size)


def view_of(params: FaceParams, size: int = 256) -> View:
    """The camera and the head's and body's poses of a face: shared by the renderer and label-only sampling."""
    k = camera_matrix((size, size))
    k[0, 0] = k[1, 1] = size * params.focal_scale
    tz = k[0, 0] * 150.0 / (size * params.face_frac)
    t = np.array([params.offset[0] * size * tz / k[0, 0], params.offset[1] * size * tz / k[0, 0] + 10.0, tz])
    rh = rotation_matrix(params.yaw, params.pitch, params.roll)
    rb = rotation_matrix(*params.body)
    return View(k, t, rh, rb, rh @ (parts.NECK_PIVOT * FLIP) + t, (params.yaw, params.pitch, params.roll))


def render_params(params: FaceParams, size: int = 256) -> tuple[np.ndarray, np.ndarray, dict]:
    """Render a face from explicit parameters (deterministic)."""
    rng = np.random.default_rng(params.seed)
    app, hair, lt = params.appearance, params.hair, params.lighting
    yaw, pitch, roll = params.yaw, params.pitch, params.roll
    body = params.body
    view = view_of(params, size)
    k, t = view.k, view.t

    if params.options.head == "ict":
        from zoo.synth.render_ict import ict_head

        head = ict_head(params.identity, params.expression, hair, rng, view, size, params.options.labels)
    else:
        head = classic_head(params.identity, params.expression, hair, rng, view)
    scene = head.parts
    tv, tt, tuv, tao = parts.torso(rng)
    tcam = view.body_cam(tv)
    scene.append(MeshPart(tcam, tt, _attrs(vertex_normals(tcam * FLIP, tt) * FLIP, tao, tuv), MAT_CLOTH, layer=0))
    wear = params.glasses
    if wear:
        gv, gt, guv, kind = parts.glasses(head.eye_landmarks, rng, wear == "sunglasses")
        gcam = view.to_cam(gv)
        gn = np.tile([0.0, 0.0, -1.0], (len(gv), 1))
        mats = np.where(kind == 1, MAT_LENS, MAT_FRAME).astype(np.uint8)
        scene.append(MeshPart(gcam, gt, _attrs(gn, np.ones(len(gv)), guv), mats, layer=3, two_sided=True))

    frags = rasterize(scene, k, (size, size))
    # separate streams per stage: what is visible in one frame must not change another stage's
    # randomness (a video clip keeps one background, skin and hair texture while the head turns)
    streams = [np.random.default_rng([params.seed, s]) for s in range(1, 6)]
    colour = _shade(frags, streams[0], app, lt, k, head.eye_centres, head.gaze, head.eye_radius, np.vstack(head.casters),
                    head.tagged)

    img = background(streams[1], size)
    img = paste_and_soften(img, frags.flat, colour, frags.ids, _EDGE_BLUR)
    hair_px = np.zeros(frags.ids.shape, bool)
    hair_px.reshape(-1)[frags.flat[frags.material == MAT_HAIR]] = True
    flyaway_strands(img, hair_px, streams[2])

    pts = head.landmarks
    occ = occluders(img, streams[3], pts, app.skin) if params.occluded else []
    out, cam_info = camera_effects(img, streams[4])
    meta = {
        "yaw": yaw, "pitch": pitch, "roll": roll, "body": [round(float(b), 2) for b in body],
        "focal": float(k[0, 0]), "seed": params.seed, "tvec": t.round(2).tolist(),
        **head.meta, "appearance": app.to_dict(), "hair": hair,
        "lighting": lt.to_dict(), "occluders": occ + ([wear] if wear else []), "camera": cam_info,
        "options": params.options.to_dict(),
    }
    return out, pts.astype(np.float32), meta


def _shade(frags, rng, app, lt, k, centres_cam, gaze_cam, radius, casters, tagged=False) -> np.ndarray:  # noqa: ANN001
    """Colour every fragment by its material: the compiled skin pass, the mouth and eye openings over it, then
    the material pass (hair blended over that skin, clothes, glasses); see ``shade_kernels``."""
    # unit normals (turned toward the viewer where two-sided parts are seen from behind) and view rays
    n_all, v, points = surface_rays(frags.attrs, frags.xs, frags.ys, frags.depth, k[0, 0], k[1, 1], k[0, 2], k[1, 2])
    vis = key_visibility(casters, points, n_all, lt.key_dir)
    # soften in image space: hides the shadow map's cells and gives a penumbra
    size = frags.ids.shape[0]
    img = np.ones(frags.ids.shape, np.float32)
    img.reshape(-1)[frags.flat] = vis
    vis = cv2.GaussianBlur(img, (0, 0), max(1.0, size / 160)).reshape(-1)[frags.flat]
    skin_c, hair_c = app.skin.astype(np.float32), app.hair.astype(np.float32)
    mat = frags.material
    # every random draw up front, whatever is visible, so the stream never shifts between frames
    pores = cv2.resize(rng.standard_normal((size // 2, size // 2)).astype(np.float32), (size, size)).reshape(-1)[frags.flat]
    tex, label = face_texture(rng, app)
    teeth_lower = bool(rng.uniform() < 0.4)
    eye_vals = np.array([rng.uniform(7, 13), rng.uniform(0, 6), rng.uniform(0, 6)])
    st = streaks(rng, curl=float(rng.uniform(0, 4)) if rng.uniform() < 0.3 else 0.0)
    tile = pattern(rng, np.clip(rng.uniform(0.03, 0.9, 3) * rng.uniform(0.5, 1.2), 0, 1))
    frame = np.clip(rng.uniform(0.0, 0.5, 3) * (rng.uniform() < 0.7), 0, 1)

    tex_origin = np.array([TEX_PHI[0], TEX_THETA[0]])
    col, lab = skin_pass(mat, frags.attrs, n_all, v, vis, pores, tex, label, tex_origin, TEX_PPD, skin_c, lt.key_dir, lt.key,
                         lt.fill_dir, lt.fill, lt.sky, lt.ground, float(lt.wrap), float(lt.spec), power_table(lt.shininess))
    if tagged:
        relabel_parts(lab, mat, frags.attrs)
    lm_ang = landmark_angles()
    cam = np.array([k[0, 0], k[1, 1], k[0, 2], k[1, 2]])
    m = np.nonzero(lab == LABEL_MOUTH)[0]
    if len(m):
        f = mouth_fraction(frags.attrs[m, A_UV].astype(np.float64), lm_ang)
        diff, amb, _ = light(n_all[m], v[m], lt, lt.wrap, 1.0, lt.shininess, vis[m])
        col[m] = shade_mouth(f, app.skin, teeth_lower) * (amb + 0.5 * diff)
    for label_id, which, lo in ((LABEL_EYE_R, 0, 36), (LABEL_EYE_L, 1, 42)):
        e = np.nonzero(lab == label_id)[0]
        if len(e):
            f = eye_fraction(frags.attrs[e, A_UV].astype(np.float64), lm_ang, lo)
            eye_pass(col, e, frags.xs[e], frags.ys[e], f, cam, centres_cam[which], gaze_cam[which], radius, app.iris,
                     eye_vals, lt.key_dir, lt.key, lt.fill_dir, lt.fill, lt.sky, lt.ground)
    material_pass(col, mat, frags.attrs, n_all, v, vis, pores, hair_c, st, tile, frame.astype(np.float32), lt.key_dir,
                  lt.key, lt.fill_dir, lt.fill, lt.sky, lt.ground)
    return col


def relabel_parts(lab: np.ndarray, mat: np.ndarray, attrs: np.ndarray) -> None:
    """Texture labels from the ICT head's part tags (in place): its eyeballs and mouth cavity are real parts, so
    only their fragments are eye or mouth; face skin the texture calls eye or mouth is lid skin or lips."""
    tag = np.rint(attrs[:, A_X])
    skin = mat == MAT_SKIN
    face = skin & (tag == TAG_FACE)
    lab[face & ((lab == LABEL_EYE_R) | (lab == LABEL_EYE_L))] = LABEL_SKIN
    lab[face & (lab == LABEL_MOUTH)] = LABEL_LIPS
    lab[skin & (tag == TAG_MOUTH)] = LABEL_MOUTH
    lab[skin & (tag == TAG_EYE_R)] = LABEL_EYE_R
    lab[skin & (tag == TAG_EYE_L)] = LABEL_EYE_L

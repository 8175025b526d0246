"""A head from a scanned morphable model (ICT-FaceKit, MIT): load, sample, pose and project its 68 points.

Why: the hand-built head's mean shape is 5-10 % IOD off the photos' (issue 25); ICT's identities come
from light-stage scans of real people. The package ships a compact derivative of ICT's model
(``zoo/synth/ict/ict_compact.npz``, how it was cut is in ``zoo/synth/ict/README.md``, licence beside
it), so nothing is downloaded at run time.

Frames: ICT's own is centimetres, x to the subject's left (image right), y up, z toward the camera.
``to_pose_frame`` turns that into ``zoo.pose``'s frame (millimetres, y down), so poses and the
pinhole camera mean exactly what they mean for the renderer and the pose estimator.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from zoo.pose import HeadPose, camera_matrix, rotation_matrix

COMPACT = Path(__file__).with_name("ict") / "ict_compact.npz"
#: Leading identity modes kept in the compact file (98.5 % of the 68 landmarks' identity variance).
IDENTITY_MODES = 60
#: Vertex ranges of the source model that the compact file keeps (face, head and neck; eyeballs).
KEPT_RANGES = ((0, 11248), (21451, 24591))
#: ICT's neutral head, posed at pitch 0 in its own frame, looks 4.2 degrees down to solvePnP on
#: ``zoo.pose``'s mean face (yaw and roll agree within 1.2 and 0.1 degrees). The head is tilted up
#: by this much before posing (found by search: solvePnP then reads 0 at pitch 0, and within
#: 2.5 degrees over +-10), so that the pose a render writes is the pose ``zoo.pose`` reads back.
PITCH_OFFSET = 5.2
_FIX = rotation_matrix(0.0, PITCH_OFFSET, 0.0)
#: Parts of the compact file's vertices, by index range after cutting.
PART_RANGES = {"face": (0, 9409), "head": (9409, 11248), "eyeballs": (11248, 14388)}


@dataclass(frozen=True)
class ICTHead:
    """The compact ICT model: vertices = neutral + identity @ id_modes + expression @ ex_modes (centimetres)."""

    neutral: np.ndarray  # [V, 3] float32
    id_modes: np.ndarray  # [K, V, 3] float32 (float16 on disk)
    ex_modes: np.ndarray  # [53, V, 3] float32
    ex_names: tuple[str, ...]
    polygons: np.ndarray  # [P, 4] int32, -1 pads triangles
    landmarks68: np.ndarray  # [68] vertex ids (ICT's Multi-PIE/iBUG points)

    def vertices(self, identity: np.ndarray | None = None, expression: np.ndarray | None = None) -> np.ndarray:
        """[V, 3] float64 vertices in ICT's frame for identity weights (~N(0,1)) and expression weights ([0,1])."""
        from zoo.synth.ict_kernels import mode_sum

        # float32 sums in one compiled pass (numpy's w @ modes took 5-10 ms here, this ~0.4 ms)
        v = np.empty(self.neutral.size, np.float32)
        id_w = np.zeros(0, np.float32) if identity is None else np.asarray(identity, np.float32)
        ex_w = np.zeros(0, np.float32) if expression is None else np.asarray(expression, np.float32)
        mode_sum(self.neutral.reshape(-1), self.id_modes.reshape(len(self.id_modes), -1), id_w,
                 self.ex_modes.reshape(len(self.ex_modes), -1), ex_w, v)
        return v.reshape(-1, 3).astype(np.float64)

    def expression_index(self, name: str) -> int:
        return self.ex_names.index(name)


@lru_cache(maxsize=2)
def load_head(path: Path = COMPACT) -> ICTHead:
    """The shipped compact ICT head (cached per process)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: the compact ICT head is missing; reinstall zoo (it ships as package data)")
    with np.load(path) as z:
        # float32 in memory (10 MB): sampling a head is then one small matrix product, not a float16 conversion
        return ICTHead(z["neutral"], z["identity_modes"].astype(np.float32), z["expression_modes"].astype(np.float32),
                       tuple(str(s) for s in z["expression_names"]), z["polygons"], z["landmarks68"])


def sample_identity(rng: np.random.Generator, modes: int = IDENTITY_MODES) -> np.ndarray:
    """Identity weights ~ N(0, 1): ICT's modes are scaled so that this gives plausible people."""
    return rng.standard_normal(modes)


# Expression programs: (probability, {blendshape stem: (low, high)}); a stem without _L/_R moves both
# sides (with a little asymmetry). Several programs can fire at once; all weights end in [0, 1].
_PROGRAMS: tuple[tuple[float, dict[str, tuple[float, float]]], ...] = (
    (0.35, {"mouthSmile": (0.2, 1.0), "cheekSquint": (0.0, 0.6), "eyeSquint": (0.0, 0.4), "mouthDimple": (0.0, 0.3)}),
    (0.25, {"jawOpen": (0.1, 0.8), "mouthLowerDown": (0.0, 0.5), "mouthUpperUp": (0.0, 0.3)}),
    (0.12, {"eyeBlink": (0.5, 1.0)}),
    (0.15, {"browInnerUp": (0.2, 1.0), "browOuterUp": (0.1, 0.9), "eyeWide": (0.0, 0.5)}),
    (0.12, {"browDown": (0.2, 1.0), "noseSneer": (0.0, 0.5), "eyeSquint": (0.0, 0.5)}),
    (0.08, {"mouthPucker": (0.2, 1.0), "mouthFunnel": (0.0, 0.6)}),
    (0.08, {"mouthFrown": (0.2, 1.0), "mouthShrugLower": (0.0, 0.6), "mouthPress": (0.0, 0.5)}),
    (0.06, {"mouthStretch": (0.2, 0.8), "jawOpen": (0.0, 0.3)}),
    (0.06, {"mouthRollLower": (0.0, 0.7), "mouthRollUpper": (0.0, 0.7)}),
)
#: One-sided programs (winks, a lopsided mouth, a sideways jaw): (probability, names, range).
_ONE_SIDED = ((0.04, ("eyeBlink_L", "eyeBlink_R"), (0.6, 1.0)), (0.08, ("mouthLeft", "mouthRight"), (0.1, 0.6)),
              (0.06, ("jawLeft", "jawRight"), (0.1, 0.5)), (0.08, ("mouthSmile_L", "mouthSmile_R"), (0.1, 0.5)))


def sample_expression(rng: np.random.Generator, names: tuple[str, ...] | None = None) -> np.ndarray:
    """Expression weights [53] in [0, 1] with realistic co-activation: smiles with cheek and eye squint,
    an open jaw with lowered lip, blinks of both eyes, brows up or down together, plus winks and
    lopsided mouths, and a little activity everywhere (nobody is exactly neutral)."""
    names = names or load_head().ex_names
    index = {n: i for i, n in enumerate(names)}
    w = np.clip(rng.normal(0.0, 0.03, len(names)), 0.0, None)
    for prob, program in _PROGRAMS:
        if rng.uniform() >= prob:
            continue
        strength = rng.uniform()
        for stem, (lo, hi) in program.items():
            value = lo + (hi - lo) * strength * rng.uniform(0.7, 1.0)
            sides = [stem] if stem in index else [stem + "_L", stem + "_R"]
            for name in sides:
                w[index[name]] += value * (rng.uniform(0.85, 1.0) if len(sides) == 2 else 1.0)
    for prob, pair, (lo, hi) in _ONE_SIDED:
        if rng.uniform() < prob:
            w[index[pair[int(rng.integers(2))]]] += rng.uniform(lo, hi)
    return np.clip(w, 0.0, 1.0)


def to_pose_frame(points_cm: np.ndarray) -> np.ndarray:
    """ICT frame (cm, y up) -> ``zoo.pose`` frame (mm, y down, z toward the camera); no pitch correction."""
    return np.asarray(points_cm, np.float64) * np.array([10.0, -10.0, 10.0])


@dataclass(frozen=True)
class Camera:
    """Where a head stands: pose angles (degrees), image side, focal length and distance (pixels, mm)."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    size: int = 256
    focal: float = 320.0
    distance: float = 450.0
    offset: tuple[float, float] = (0.0, 0.0)  # pixels from the image centre

    def pose(self) -> HeadPose:
        tx, ty = (self.offset[0] * self.distance / self.focal, self.offset[1] * self.distance / self.focal)
        return HeadPose.from_angles(self.yaw, self.pitch, self.roll, np.array([tx, ty, self.distance]))

    def matrix(self) -> np.ndarray:
        k = camera_matrix((self.size, self.size))
        k[0, 0] = k[1, 1] = self.focal
        return k


def sample_camera(rng: np.random.Generator, size: int = 256, yaw_range: tuple[float, float] = (-90.0, 90.0),
                  focal_range: tuple[float, float] = (1.0, 1.5)) -> Camera:
    """A pose and framing drawn like the renderer's: yaw uniform, pitch and roll mostly near 0 (within +-30),
    focal ``focal_range`` image widths (the renderer's 1.0-1.5 put the camera 30-60 cm away), a
    150 mm face 36-62 % of the image wide."""
    yaw = float(rng.uniform(*yaw_range))
    if rng.uniform() < 0.7:
        pitch, roll = float(np.clip(rng.normal(0, 11), -30, 30)), float(np.clip(rng.normal(0, 8), -30, 30))
    else:
        pitch, roll = float(rng.uniform(-30, 30)), float(rng.uniform(-30, 30))
    focal = size * float(rng.uniform(*focal_range))
    distance = focal * 150.0 / (size * float(rng.uniform(0.36, 0.62)))
    offset = (float(rng.normal(0, 0.07)) * size, float(rng.normal(0, 0.07)) * size)
    return Camera(yaw, pitch, roll, size, focal, distance, offset)


def project(points_cm: np.ndarray, camera: Camera) -> np.ndarray:
    """[N, 3] ICT-frame points -> [N, 2] pixels (0-based, pixel centres on integers) under ``camera``."""
    return to_pixels(camera_points(points_cm, camera), camera)


def to_pixels(p: np.ndarray, camera: Camera) -> np.ndarray:
    """[N, 3] camera coordinates (``camera_points``) -> [N, 2] pixels through ``camera``'s pinhole."""
    k = camera.matrix()
    return np.stack([k[0, 0] * p[:, 0] / p[:, 2] + k[0, 2], k[1, 1] * p[:, 1] / p[:, 2] + k[1, 2]], axis=1)


def camera_points(points_cm: np.ndarray, camera: Camera) -> np.ndarray:
    """[N, 3] ICT-frame points in camera coordinates (mm; x right, y down, z away from the camera)."""
    pose = camera.pose()
    return (to_pose_frame(points_cm) * np.array([1.0, 1.0, -1.0])) @ (pose.rotation @ _FIX).T + pose.tvec


def raw_landmarks(head: ICTHead, vertices: np.ndarray, camera: Camera) -> np.ndarray:
    """[68, 2] pixels: ICT's own landmark vertices projected (the 'raw' definition)."""
    return project(vertices[head.landmarks68], camera)


def build_compact(source: Path, out: Path, identity_modes: int = IDENTITY_MODES) -> Path:
    """Cut ICT-FaceKit's full model (``ict_face_model.npz``) to the compact file the package ships.

    Keeps the face, head-and-neck and eyeball vertices, the leading identity modes and every
    expression mode as float16 (errors below 0.01 mm), the polygons among kept vertices (reindexed)
    with their materials and UVs, and the 68 landmark vertex ids.
    """
    with np.load(source) as z:
        keep = np.concatenate([np.arange(a, b) for a, b in KEPT_RANGES])
        remap = np.full(len(z["neutral"]), -1, np.int64)
        remap[keep] = np.arange(len(keep))
        polys = z["polygons"]
        ok = np.all((polys < 0) | (remap[np.maximum(polys, 0)] >= 0), axis=1)
        new_polys = np.where(polys[ok] < 0, -1, remap[np.maximum(polys[ok], 0)]).astype(np.int32)
        used = z["polygon_uvs"][ok]
        uv_used = np.unique(used[used >= 0])
        uv_remap = np.full(len(z["uvs"]), -1, np.int64)
        uv_remap[uv_used] = np.arange(len(uv_used))
        lm = remap[z["landmarks68"]]
        if np.any(lm < 0):
            raise ValueError(f"{source}: a landmark vertex lies outside the kept ranges {KEPT_RANGES}")
        arrays = {
            "neutral": z["neutral"][keep].astype(np.float32),
            "identity_modes": z["identity_modes"][:identity_modes][:, keep].astype(np.float16),
            "expression_modes": z["expression_modes"][:, keep].astype(np.float16),
            "expression_names": z["expression_names"],
            "polygons": new_polys,
            "polygon_material": z["polygon_material"][ok],
            "polygon_uvs": np.where(polys[ok] < 0, -1, uv_remap[np.maximum(z["polygon_uvs"][ok], 0)]).astype(np.int32),
            "uvs": z["uvs"][uv_used].astype(np.float32),
            "material_names": z["material_names"],
            "landmarks68": lm.astype(np.int32),
        }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    return out

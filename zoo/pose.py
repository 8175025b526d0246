"""6DoF head pose from 2D landmarks: cv2.solvePnP on a 3D mean face.

Conventions (shared by the renderer, the predictor and the tracker, so that a pose written by
one is read the same way by the others):

* ``MEAN_FACE_68`` is the widely used public 68-point iBUG mean face (the one shipped with
  OpenFace / dlib head-pose tutorials), in millimetres, centred near the head's middle.
  Axes: **x to the subject's left (image right), y down, z toward the camera** (the nose tip has
  the largest z). That frame is left-handed when seen from the camera, so for solvePnP it is
  used with z negated (``MODEL_POINTS_CAM``): then a face looking straight into the camera has
  the identity rotation and the camera's own axes (x right, y down, z away from the camera).
* Camera: pinhole, focal length = image width in pixels, principal point = image centre,
  no distortion (``camera_matrix``).
* Angles in degrees. ``R = Ry(-yaw) @ Rx(-pitch) @ Rz(roll)`` in camera axes (the head turns
  about the neck first, then nods, then tilts):
  yaw > 0: the subject turns to their left (the nose moves to image right);
  pitch > 0: the subject looks up (the nose moves up in the image);
  roll > 0: the head tilts clockwise in the image (the top of the head moves to image right).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

# Columns x, y, z of the public mean face as usually published (z away from the camera).
_X = (
    -73.393523, -72.775014, -70.533638, -66.850058, -59.790187, -48.368973, -34.121101, -17.875411, 0.098749,
    17.477031, 32.648966, 46.372358, 57.343480, 64.388482, 68.212038, 70.486405, 71.375822,
    -61.119406, -51.287588, -37.804800, -24.022754, -11.635713, 12.056636, 25.106256, 38.338588, 51.191007, 60.053851,
    0.653940, 0.804809, 0.992204, 1.226783, -14.772472, -7.180239, 0.555920, 8.272499, 15.214351,
    -46.047290, -37.674688, -27.883856, -19.648268, -28.272965, -38.082418,
    19.265868, 27.894191, 37.437529, 45.170805, 38.196454, 28.764989,
    -28.916267, -17.533194, -6.684590, 0.381001, 8.375443, 18.876618, 28.794412, 19.057574, 8.956375, 0.381549,
    -7.428895, -18.160634, -24.377490, -6.897633, 0.340663, 8.444722, 24.474473, 8.449166, 0.205322, -7.198266,
)
_Y = (
    -29.801432, -10.949766, 7.929818, 26.074280, 42.564390, 56.481080, 67.246992, 75.056892, 77.061286,
    74.758448, 66.929021, 56.311389, 42.419126, 25.455880, 6.990805, -11.666193, -30.365191,
    -49.361602, -58.769795, -61.996155, -61.033399, -56.686759, -57.391033, -61.902186, -62.777713, -59.302347, -50.190255,
    -42.193790, -30.993721, -19.944596, -8.414541, 2.598255, 4.751589, 6.562900, 4.661005, 2.643046,
    -37.471411, -42.730510, -42.711517, -36.754742, -35.134493, -34.919043,
    -37.032306, -43.342445, -43.110822, -38.086515, -35.532024, -35.484289,
    28.612716, 22.172187, 19.029051, 20.721118, 19.035460, 22.394109, 28.079924, 36.298248, 39.634575, 40.395647,
    39.836405, 36.677899, 28.677771, 25.475976, 26.014269, 25.326198, 28.323008, 30.596216, 31.408738, 30.844876,
)
_Z = (
    47.667532, 45.909403, 44.842580, 43.141114, 38.635298, 30.750622, 18.456453, 3.609035, -0.881698,
    5.181201, 19.176563, 30.770570, 37.628629, 40.886309, 42.281449, 44.142567, 47.140426,
    14.254422, 7.268147, 0.442051, -6.606501, -11.967398, -12.051204, -7.315098, -1.022953, 5.349435, 11.615746,
    -13.380835, -21.150853, -29.284036, -36.948060, -20.132003, -23.536684, -25.944448, -23.695741, -20.858157,
    7.037989, 3.021217, 1.353629, -0.111088, -0.147273, 1.476612,
    -0.665746, 0.247660, 1.696435, 4.894163, 0.282961, -1.172675,
    -2.240310, -15.934335, -22.611355, -23.748437, -22.721995, -15.610679, -3.217393, -14.987997, -22.554245, -23.591626,
    -22.406106, -15.121907, -4.785684, -20.893742, -22.220479, -21.025520, -5.712776, -20.671489, -21.903670, -20.328022,
)

#: [68, 3] mean face in mm: x to the subject's left (image right), y down, z toward the camera.
MEAN_FACE_68: np.ndarray = np.stack([_X, _Y, [-z for z in _Z]], axis=1).astype(np.float64)
MEAN_FACE_68.setflags(write=False)

#: The same points in camera-aligned axes (z away from the camera) as solvePnP wants them.
MODEL_POINTS_CAM: np.ndarray = MEAN_FACE_68 * np.array([1.0, 1.0, -1.0])
MODEL_POINTS_CAM.setflags(write=False)

# Initial yaw guesses (degrees) when no previous pose is known: solvePnP's own start can land on
# the mirrored (Necker) solution for turned heads, so try a few and keep the best reprojection.
_START_YAWS = (0.0, -50.0, 50.0)


@dataclass
class HeadPose:
    """A head pose: Euler angles in degrees plus the solvePnP rotation/translation (mm)."""

    yaw: float
    pitch: float
    roll: float
    rvec: np.ndarray = field(repr=False)
    tvec: np.ndarray = field(repr=False)
    #: mean reprojection error in pixels of the points the pose was fitted to (0 when unknown).
    error: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready dict (plain floats and lists)."""
        return {
            "yaw": float(self.yaw),
            "pitch": float(self.pitch),
            "roll": float(self.roll),
            "rvec": [float(v) for v in np.ravel(self.rvec)],
            "tvec": [float(v) for v in np.ravel(self.tvec)],
            "error": float(self.error),
        }

    @property
    def rotation(self) -> np.ndarray:
        """3x3 rotation matrix (model camera-aligned axes -> camera)."""
        return cv2.Rodrigues(np.asarray(self.rvec, dtype=np.float64).reshape(3, 1))[0]

    @classmethod
    def from_angles(cls, yaw: float, pitch: float, roll: float, tvec: np.ndarray) -> HeadPose:
        """Build a pose from angles (degrees) and a translation (mm), e.g. for rendering."""
        rvec = cv2.Rodrigues(rotation_matrix(yaw, pitch, roll))[0].ravel()
        return cls(float(yaw), float(pitch), float(roll), rvec, np.asarray(tvec, dtype=np.float64).ravel())


def camera_matrix(image_size: tuple[int, int]) -> np.ndarray:
    """Pinhole intrinsics for an image of (width, height): focal = width, centre = middle."""
    w, h = image_size
    return np.array([[w, 0.0, w / 2.0], [0.0, w, h / 2.0], [0.0, 0.0, 1.0]], dtype=np.float64)


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation (camera axes) for angles in degrees, per the module's convention."""
    t, p, r = math.radians(-yaw), math.radians(-pitch), math.radians(roll)
    ry = np.array([[math.cos(t), 0, math.sin(t)], [0, 1, 0], [-math.sin(t), 0, math.cos(t)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return ry @ rx @ rz


def euler_from_matrix(rot: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from a rotation matrix; inverse of ``rotation_matrix``."""
    phi = math.asin(max(-1.0, min(1.0, -rot[1, 2])))
    theta = math.atan2(rot[0, 2], rot[2, 2])
    psi = math.atan2(rot[1, 0], rot[1, 1])
    return -math.degrees(theta), -math.degrees(phi), math.degrees(psi)


def project_points(
    pose: HeadPose, image_size: tuple[int, int], points: np.ndarray | None = None
) -> np.ndarray:
    """Project 3D points given in ``MEAN_FACE_68``'s axes (mm; default the mean face) to pixels."""
    pts = MEAN_FACE_68 if points is None else np.asarray(points, dtype=np.float64)
    cam = pts.reshape(-1, 3) * np.array([1.0, 1.0, -1.0])
    out, _ = cv2.projectPoints(
        cam, np.asarray(pose.rvec, np.float64), np.asarray(pose.tvec, np.float64), camera_matrix(image_size), None
    )
    return out.reshape(-1, 2)


def _initial_tvec(points: np.ndarray, cam: np.ndarray) -> np.ndarray:
    """Translation guess from the landmarks' image spread and centre (weak perspective)."""
    f, cx, cy = cam[0, 0], cam[0, 2], cam[1, 2]
    spread = float(np.sqrt(np.mean(np.sum((points - points.mean(0)) ** 2, axis=1))))
    model_spread = float(np.sqrt(np.mean(np.sum(MODEL_POINTS_CAM[:, :2] ** 2, axis=1))))
    z = f * model_spread / max(spread, 1e-6)
    c = points.mean(0)
    return np.array([(c[0] - cx) * z / f, (c[1] - cy) * z / f, z], dtype=np.float64)


def _solve(points: np.ndarray, cam: np.ndarray, rvec: np.ndarray, tvec: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    rvec, tvec = rvec.reshape(3, 1).copy(), tvec.reshape(3, 1).copy()
    ok, rvec, tvec = cv2.solvePnP(MODEL_POINTS_CAM, points, cam, None, rvec, tvec, True, cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return rvec, tvec, math.inf
    proj, _ = cv2.projectPoints(MODEL_POINTS_CAM, rvec, tvec, cam, None)
    err = float(np.mean(np.linalg.norm(proj.reshape(-1, 2) - points, axis=1)))
    return rvec, tvec, err


def estimate_pose(points: np.ndarray, image_size: tuple[int, int], prev: HeadPose | None = None) -> HeadPose:
    """Head pose from >= 68 landmarks in image pixels (only the first 68 are used).

    With ``prev`` (the tracker's last pose) one solvePnP refinement starts from it, which is fast
    and temporally stable. Without it a few yaw starts are tried and the lowest reprojection error
    wins, because a single start can converge to the mirrored solution on turned heads.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] < 68 or pts.shape[1] != 2:
        raise ValueError(f"estimate_pose needs [K>=68, 2] landmarks, got shape {tuple(pts.shape)}")
    pts = np.ascontiguousarray(pts[:68])
    if not np.all(np.isfinite(pts)):
        raise ValueError("estimate_pose got non-finite landmarks")
    cam = camera_matrix(image_size)
    if prev is not None:
        starts = [(np.asarray(prev.rvec, np.float64), np.asarray(prev.tvec, np.float64))]
    else:
        t0 = _initial_tvec(pts, cam)
        starts = [(cv2.Rodrigues(rotation_matrix(y, 0.0, 0.0))[0].ravel(), t0) for y in _START_YAWS]
    best = None
    for rvec0, tvec0 in starts:
        rvec, tvec, err = _solve(pts, cam, rvec0, tvec0)
        if tvec[2, 0] > 0 and (best is None or err < best[2]):
            best = (rvec, tvec, err)
    if best is None:  # every start put the head behind the camera: keep the last answer anyway
        best = (rvec, tvec, err)
    rvec, tvec, err = best
    yaw, pitch, roll = euler_from_matrix(cv2.Rodrigues(rvec)[0])
    return HeadPose(yaw, pitch, roll, rvec.ravel(), tvec.ravel(), err)


def draw_axes(
    image: np.ndarray,
    pose: HeadPose,
    length_mm: float = 60.0,
    thickness: int = 2,
    image_size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Draw the head's axes in place on an RGB image and return it.

    Red = subject's left (x), green = up, blue = facing direction; they start at the nose
    bridge (point 27). ``image_size`` (w, h) defaults to the image's own size, i.e. the pose
    must have been estimated on this image.
    """
    size = image_size or (image.shape[1], image.shape[0])
    o = MEAN_FACE_68[27]
    pts3 = np.array([o, o + [length_mm, 0, 0], o + [0, -length_mm, 0], o + [0, 0, length_mm]])
    p = project_points(pose, size, pts3)
    if not np.all(np.isfinite(p)):
        return image
    p = np.round(p).astype(int)
    for end, colour in ((1, (255, 0, 0)), (2, (0, 200, 0)), (3, (0, 80, 255))):
        cv2.line(image, tuple(p[0]), tuple(p[end]), colour, thickness, cv2.LINE_AA)
    return image

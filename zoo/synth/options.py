"""``RenderOptions``: the renderer's switchable choices (head model, camera distance, pitch centre, labels).

Why: issue 25 measured (docs/real-faces.md) that the shape gap to photos depends on choices a
training run should be able to ablate: a camera 0.9-1.8 m away halves the jaw gap (finding 1), the
photos look 7.6 degrees down (finding 2), and ICT's head with the annotators' labels is closest
(findings 3-5). One frozen value names such a choice; it goes into every ``_meta.json``, the
dataset YAML's ``synth:`` block and the folder's ``.render.json`` (a resume with other options is
refused), so sets rendered with different options never mix.

``DEFAULT`` is what ``default_dataset``, ``zoo data synth`` and training render unless told
otherwise; ``RenderOptions.V3`` draws exactly RENDER_VERSION 3's random stream (an ablation row).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

#: Head models: the hand-built spline head ("classic") or ICT-FaceKit's scanned morphable model ("ict").
HEADS = ("classic", "ict")
#: Focal length ranges in image widths. With a 150 mm face 36-62 % of the image wide, "near" puts the
#: camera 30-60 cm away (RENDER_VERSION 3), "far" 0.9-1.8 m (docs/real-faces.md, finding 1).
CAMERAS = {"near": (1.0, 1.5), "far": (3.0, 6.0)}
#: Landmark definitions for the ICT head (``zoo.synth.ict_landmarks``): the annotators' (jaw on the
#: visible outline, brows 5 mm down, nose tip as seen) or ICT's own vertices. The classic head has one.
LABELS = ("annotators", "raw")
#: Identity populations of the ICT head (their means: ``zoo.synth.population``, which reads this list).
POPULATIONS = ("ict", "lfpw")
#: Pitch centres further than this from 0 would push faces past what the pose sampler is meant for.
PITCH_MEAN_LIMIT = 30.0


@dataclass(frozen=True)
class RenderOptions:
    """The renderer's choices; see the module docstring and docs/renderer.md.

    ``pitch_mean`` (degrees) is added to every sampled pitch, so pitches are centred on it and lie
    within +-30 degrees of it. Sign: the convention of ``zoo.pose`` (its ``rotation_matrix`` poses the
    head, and ``estimate_pose``'s solvePnP reads it back with the same sign): **negative pitch looks
    down**, as in lfpw-train's mean solvePnP pitch of -7.6 (photos look down). A face rendered at
    pitch -10 is read back by ``zoo.pose.estimate_pose`` at a negative pitch
    (tests/synth/test_options.py checks it).
    """

    head: str = "ict"
    camera: str = "far"
    pitch_mean: float = -7.6
    labels: str = "annotators"
    #: where the ICT head's identity weights are centred (``zoo.synth.population``): ICT's own prior or one fitted
    #: to photos' mean shape; the classic head has its own sampler and takes "ict" only
    population: str = "ict"

    V3: ClassVar[RenderOptions]

    def __post_init__(self) -> None:
        if self.head not in HEADS:
            raise ValueError(f"unknown head {self.head!r}; choose one of {', '.join(HEADS)}")
        if self.camera not in CAMERAS:
            raise ValueError(f"unknown camera {self.camera!r}; choose one of {', '.join(CAMERAS)}")
        if self.labels not in LABELS:
            raise ValueError(f"unknown labels {self.labels!r}; choose one of {', '.join(LABELS)}")
        if self.population not in POPULATIONS:
            raise ValueError(f"unknown population {self.population!r}; choose one of {', '.join(POPULATIONS)}")
        if self.head != "ict" and self.population != "ict":
            raise ValueError(f"population {self.population!r} is a population of ICT heads; use head=ict")
        pitch = float(self.pitch_mean)
        if not abs(pitch) <= PITCH_MEAN_LIMIT:  # also refuses NaN
            raise ValueError(f"pitch mean must be within +-{PITCH_MEAN_LIMIT:g} degrees, not {self.pitch_mean}")
        object.__setattr__(self, "pitch_mean", pitch)

    @property
    def focal_range(self) -> tuple[float, float]:
        """Focal length range in image widths."""
        return CAMERAS[self.camera]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RenderOptions:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def key(self) -> str:
        """A short stable hash of the options, for folder names of non-default sets."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:8]


#: RENDER_VERSION 3's renderer: the classic head, the near camera, pitch centred on 0. Draws the same
#: ``FaceParams`` random stream as version 3 did (same draws in the same order), so a v3-like set can
#: still be rendered as an ablation row (pixels differ only where version 4 changed the renderer).
RenderOptions.V3 = RenderOptions(head="classic", camera="near", pitch_mean=0.0, labels="annotators")

#: What ``default_dataset``, ``zoo data synth`` and training render unless told otherwise. Chosen by the
#: transfer protocol (docs/transfer.md): on render version 4, fine-tuned on these renders the shipped default
#: scored 7.24 on lfpw-train, against 7.80 with the classic head (same camera and pitch) and 8.33 with version
#: 3's settings. On version 5 the fine-tune from the version 4 default (dd66885f) scores 6.77 on version 4's
#: renders, 6.55 with the annotators' positions along contours, 6.38 with a population fitted at matched yaw,
#: and 6.33 with the pitch centre at -14 (where solvePnP reads the renders' pitch as it reads the photos', -7.8)
#: and the population fitted at matched yaw and pitch (a step within noise on photos, taken for the shape gap:
#: pitch-matched, 1.94 -> 1.51 % IOD on the held-out half of lfpw-train).
DEFAULT = RenderOptions(head="ict", camera="far", pitch_mean=-14.0, labels="annotators", population="lfpw")

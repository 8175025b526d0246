"""Multi-face landmark tracking: detect rarely, re-crop every face from its own landmarks.

Per frame, each live track crops the face from the box its previous landmarks give (shifted
by the face's recent motion), runs the landmark model, and is dropped once the model's face
score has stayed under ``min_score`` for ``patience`` frames; the detector never ends a
track, so ids survive the detector's misses. Detections (from a background thread, at a
capped rate, and promptly after a track is lost or while there is none) only start tracks:
they are associated with live tracks by IoU with the Hungarian method, and an unmatched one
becomes a new track when the model scores the face. Landmarks are smoothed per track and the
head pose comes from solvePnP seeded with the track's previous pose.

Re-verification (``zoo.track.cuts``): at a shot cut every track is checked against a detection run
on the cut frame itself; a track whose face crop stops looking like the previous frame's, or whose
pose jumps by more than ``pose_jump`` degrees in one frame, is re-seeded from the detector's box.
After a cut a face keeps its track's id only when it still looks like the track's face; otherwise
the old track ends and the face there starts a new one, so an identity never crosses a cut onto
another person.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import linear_sum_assignment

from zoo.pose import estimate_pose

from .cuts import CutDetector, appearance, appearance_distance
from .detectors import DetectionResult, DetectorThread, InlineDetector
from .filters import make_filter
from .geometry import crop_from_landmarks, iou_matrix
from .records import FrameResult, TrackedFace
from .state import LandmarkPredictor, Settled, Track, TrackerConfig, reported_points

__all__ = ["STAGES", "FrameResult", "LandmarkPredictor", "Track", "TrackedFace", "Tracker", "TrackerConfig",
           "crop_from_landmarks", "iou_matrix"]

STAGES = ("crop", "landmarks", "filter", "pose")


class Tracker:
    """Tracks faces through frames given a landmark predictor and a detector runner."""

    def __init__(self, predictor: LandmarkPredictor, detector: DetectorThread | InlineDetector | None,
                 config: TrackerConfig | None = None) -> None:
        self.predictor, self.runner = predictor, detector
        self.config = config or TrackerConfig()
        make_filter(self.config.filter)  # fail early on a bad name
        self.tracks: list[Track] = []
        self._next_id = 0
        self._last_submit = -np.inf
        self._need_detect = True
        self.stats = {"detections": 0, "detector_calls": 0, "detector_ms": 0.0, "tracks_started": 0, "tracks_dropped": 0,
                      "cuts": 0, "reverified": 0, "restarted": 0}
        self._cuts = CutDetector(self.config.cut_threshold) if self.config.cut_threshold > 0 else None
        self._last_check = -np.inf

    # ------------------------------------------------------------------ per-frame update
    def update(self, image_rgb: np.ndarray, frame: int, t: float) -> FrameResult:
        """Advance every track to this frame, fold in detections, return this frame's faces."""
        h, w = image_rgb.shape[:2]
        timings: dict[str, float | None] = dict.fromkeys(STAGES, 0.0)
        t_start = time.perf_counter()
        cut = self._cuts is not None and self._cuts.update(image_rgb)
        cut_ms = (time.perf_counter() - t_start) * 1e3  # the cut test is part of the tracker's own time
        if cut:
            self.stats["cuts"] += 1
        else:
            self._maybe_detect(image_rgb, frame, t)  # not timed: normally a hand-off to the background thread
        if not cut and not self.tracks and isinstance(self.runner, DetectorThread):
            # Nothing to track until the detector answers: waiting costs no tracking, and a file read
            # faster than real time would otherwise run past every face before the first detection.
            self.runner.wait_idle()
        t_start = time.perf_counter()
        for tr in list(self.tracks):
            if cut:  # the old shot's landmarks say nothing about this one: check every track
                tr.suspect = True
            elif not self._step(tr, image_rgb, t, timings):
                self._end(tr)
        self._merge_duplicates()
        sync = self._reverify(image_rgb, frame, t, timings, cut)
        n_det, det_ms = sync if sync is not None else self._fold_detections(image_rgb, frame, t, timings)
        if not self.tracks:
            self._need_detect = True
        faces = [TrackedFace(tr.id, crop_from_landmarks(tr.landmarks), tr.score, reported_points(tr), tr.pose,
                             frame - tr.start_frame, tr.event, frame - tr.event_frame,
                             None if tr.reported is None else f"adapted:{len(tr.reported)}")
                 for tr in sorted(self.tracks, key=lambda tr: tr.id)]
        timings["total"] = (time.perf_counter() - t_start) * 1e3 + cut_ms
        timings["detect"] = det_ms
        return FrameResult(frame, float(t), w, h, faces, n_det, timings, cut)

    def seed(self, image_rgb: np.ndarray, box: np.ndarray, frame: int, t: float) -> Track | None:
        """Start a track from a crop box (e.g. ground truth when no detector fires), as a detection would.

        None when the landmarks are implausible (mostly outside the image, tiny), the face is already
        tracked, or ``max_tracks`` are live.
        """
        timings: dict[str, float | None] = dict.fromkeys(STAGES, 0.0)
        return self._start(image_rgb, np.asarray(box, np.float64), frame, t, timings)

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()

    # ------------------------------------------------------------------ internals
    def _maybe_detect(self, image: np.ndarray, frame: int, t: float) -> None:
        if self.runner is None or self.runner.busy:
            return
        due = (t - self._last_submit) >= 1.0 / max(self.config.detect_hz, 1e-6)
        if (due or self._need_detect) and self.runner.submit(frame, image.copy() if isinstance(self.runner, DetectorThread)
                                                             else image):
            self._last_submit, self._need_detect = t, False
            self.stats["detector_calls"] += 1

    def _predict(self, image: np.ndarray, box: np.ndarray, timings: dict) -> tuple[np.ndarray, float | None, np.ndarray | None]:
        """(the network's own points, which crops, filters and pose follow; face score; the points it reports
        when they differ: an adapted model's target convention, see ``reported_points``)."""
        stages = getattr(self.predictor, "predict_stages", None)
        t0 = time.perf_counter()
        if stages is not None:  # a predictor that times crop and model separately
            pred, split = stages(image, box)
            timings["crop"] += split.get("crop", 0.0)
            timings["landmarks"] += split.get("landmarks", (time.perf_counter() - t0) * 1e3 - split.get("crop", 0.0))
        else:
            pred = self.predictor.predict(image, box)
            timings["landmarks"] += (time.perf_counter() - t0) * 1e3
        score = getattr(pred, "face_score", None)
        reported = getattr(pred, "reported", None)
        return (np.asarray(pred.landmarks, np.float64), None if score is None else float(score),
                None if reported is None else np.asarray(reported, np.float64))

    def _face_ok(self, lm: np.ndarray, score: float | None, w: int, h: int) -> bool:
        inside = np.mean((lm[:, 0] >= 0) & (lm[:, 0] < w) & (lm[:, 1] >= 0) & (lm[:, 1] < h))
        side = float(np.ptp(lm, axis=0).max())
        return inside >= 0.5 and side >= 8 and (score is None or score >= self.config.min_score)

    def _step(self, tr: Track, image: np.ndarray, t: float, timings: dict) -> bool:
        h, w = image.shape[:2]
        box = tr.next_box(self.config.motion)
        lm, score, reported = self._predict(image, box, timings)
        tr.score = score
        if score is not None:
            tr.score_ema = score if tr.score_ema is None else 0.6 * tr.score_ema + 0.4 * score
        if not self._face_ok(lm, tr.score_ema, w, h):
            tr.low += 1
            # A face the detector found within the last detection interval (plus half of one for the
            # detector's own latency) is kept regardless, so a face the detector keeps finding keeps its id.
            return tr.low < self.config.patience or t - tr.confirmed_t <= 1.5 / self.config.detect_hz
        tr.low = 0
        t0 = time.perf_counter()
        look = appearance(image, lm) if self.config.crop_jump > 0 else None
        jumped = look is not None and tr.look is not None and appearance_distance(look, tr.look) > self.config.crop_jump
        timings["crop"] += (time.perf_counter() - t0) * 1e3
        centre_move = lm.mean(0) - tr.raw.mean(0)
        tr.velocity = 0.7 * centre_move + 0.3 * tr.velocity
        tr.raw, tr.reported = lm, reported
        before = tr.pose
        self._smooth_and_pose(tr, t, (w, h), timings)
        if before is not None and tr.pose is not None and max(abs(tr.pose.yaw - before.yaw), abs(tr.pose.pitch - before.pitch),
                                                              abs(tr.pose.roll - before.roll)) > self.config.pose_jump:
            tr.pose, jumped = None, True  # re-solved without the old pose as a prior on the next frame
        if jumped:
            tr.suspect = True
        elif look is not None:  # looks like its face again (a hand passed): nothing left to check
            tr.suspect, tr.look = False, look
        return True

    def _end(self, tr: Track) -> None:
        self.tracks.remove(tr)
        self.stats["tracks_dropped"] += 1
        self._need_detect = True

    def _smooth_and_pose(self, tr: Track, t: float, size: tuple[int, int], timings: dict) -> None:
        t0 = time.perf_counter()
        tr.landmarks = tr.filter(tr.raw, t, scale=float(np.ptp(tr.raw, axis=0).max()))
        t1 = time.perf_counter()
        timings["filter"] += (t1 - t0) * 1e3
        if self.config.pose and tr.landmarks.shape[0] >= 68:
            try:
                tr.pose = estimate_pose(tr.landmarks, size, prev=tr.pose)
            except ValueError:
                tr.pose = None
            timings["pose"] += (time.perf_counter() - t1) * 1e3

    def _settle(self, image: np.ndarray, box: np.ndarray, timings: dict) -> Settled | None:
        """``init_passes`` landmark passes from a box (each re-crops from the last): (landmarks, scores,
        reported points), or None when the landmarks are implausible."""
        h, w = image.shape[:2]
        lm, scores, reported = None, [], None
        for _ in range(max(1, self.config.init_passes)):
            lm, score, reported = self._predict(image, box, timings)
            scores.append(score)
            if not self._face_ok(lm, None, w, h):
                return None
            box = crop_from_landmarks(lm)
        return lm, scores, reported

    def _start(self, image: np.ndarray, box: np.ndarray, frame: int, t: float, timings: dict,
               settled: Settled | None = None, look: np.ndarray | None = None) -> Track | None:
        """A new track from a detection box, or from landmarks already ``settled`` there (and their ``look``)."""
        if len(self.tracks) >= self.config.max_tracks:
            return None
        h, w = image.shape[:2]
        settled = settled or self._settle(image, box, timings)
        if settled is None:
            return None
        lm, scores, reported = settled
        # The detector starts tracks, whatever the model's score: a track holds its face at least
        # until the next detection, and from then on the score (or new detections) keeps it alive.
        best = None if scores[-1] is None else max(s for s in scores if s is not None)
        tr = Track(self._next_id, lm, lm, scores[-1], make_filter(self.config.filter), frame, score_ema=best, confirmed_t=t,
                   event="new", event_frame=frame, reported=reported)
        if self._duplicate_of_live(tr):
            return None
        self._next_id += 1
        if look is None and (self.config.crop_jump > 0 or self._cuts is not None):
            look = appearance(image, lm)
        tr.look = look
        self._smooth_and_pose(tr, t, (w, h), timings)
        self.tracks.append(tr)
        self.stats["tracks_started"] += 1
        return tr

    def _reverify(self, image: np.ndarray, frame: int, t: float, timings: dict,
                  cut: bool) -> tuple[int | None, float | None] | None:
        """Check the suspect tracks (all of them at a cut) against a detection run on this very frame.

        Each checked track re-settles its landmarks from the detection it overlaps (at a cut with none,
        from its own last crop). At a cut the face there keeps the track's id only when it looks like
        the track's face (``same_face``); otherwise the track ends and the face starts a new id
        ("restarted"), and a track with no face left ends. Elsewhere a face the detector confirms is
        re-seeded and keeps its id; with no detection there the model's score decides, as on any
        frame. Outside cuts, checks run at most ``detect_hz`` times a second.
        Returns (detections, detector ms) when it ran, else None.
        """
        suspects = [tr for tr in self.tracks if tr.suspect]
        if not suspects or (not cut and (self.runner is None or t - self._last_check < 1.0 / max(self.config.detect_hz, 1e-6))):
            return None
        self._last_check = t
        result = self._detect_now(image, frame)
        boxes = [self.runner.detector.crop_box(d.box) for d in result.detections] if result is not None else []
        free = list(boxes)
        h, w = image.shape[:2]
        for tr in suspects:
            tr.suspect = False
            old, box = crop_from_landmarks(tr.raw), None
            if free:
                iou = iou_matrix(np.array(free), old)[:, 0]
                k = int(np.argmax(iou))
                box = free.pop(k) if iou[k] >= self.config.iou_match else None
            if box is None and not cut:  # nothing new to check against: the model's score decides, as on any frame
                continue
            settled = self._settle(image, old if box is None else box, timings)
            # Without a detection behind it, the face there must also convince the model's face score.
            if settled is None or (box is None and not self._face_ok(settled[0], settled[1][-1], w, h)):
                if cut:
                    self._end(tr)
                continue  # elsewhere the detection box held no plausible face: leave the track as it was
            look = appearance(image, settled[0])
            if not cut or tr.look is None or appearance_distance(look, tr.look) <= self.config.same_face:
                self._restart_landmarks(tr, settled[0], settled[1][-1], t, (w, h), timings, settled[2])
                tr.look, tr.event, tr.event_frame = look, "reverified", frame
                tr.confirmed_t = t if box is not None else tr.confirmed_t
                self.stats["reverified"] += 1
                continue
            self._end(tr)
            new = self._start(image, old, frame, t, timings, settled, look)
            if new is not None:
                new.event = "restarted"
                self.stats["restarted"] += 1
        self._start_all(image, free, frame, t, timings)
        if result is None:
            return None, None
        self._last_submit, self._need_detect = t, False
        return len(result.detections), result.ms

    def _detect_now(self, image: np.ndarray, frame: int) -> DetectionResult | None:
        if self.runner is None:
            return None
        result = self.runner.detect_now(frame, image)
        self.stats["detector_calls"] += 1
        self.stats["detections"] += len(result.detections)
        self.stats["detector_ms"] += result.ms
        return result

    def _restart_landmarks(self, tr: Track, lm: np.ndarray, score: float | None, t: float, size: tuple[int, int],
                           timings: dict, reported: np.ndarray | None = None) -> None:
        """Jump a track to new landmarks: no smoothing across the jump, no pose prior from before it."""
        tr.raw, tr.score, tr.velocity, tr.pose, tr.low = lm, score, np.zeros(2), None, 0
        tr.reported = reported
        tr.filter.reset()
        self._smooth_and_pose(tr, t, size, timings)

    def _same_face(self, a: np.ndarray, b: np.ndarray) -> bool:
        side = max(float(np.ptp(a, axis=0).max()), 1.0)
        return float(np.mean(np.linalg.norm(a - b, axis=1))) < self.config.duplicate_distance * side

    def _duplicate_of_live(self, tr: Track) -> bool:
        return any(self._same_face(tr.raw, other.raw) for other in self.tracks)

    def _merge_duplicates(self) -> None:
        """Two tracks that converged onto one face (e.g. after an occlusion): keep the older."""
        keep: list[Track] = []
        for tr in sorted(self.tracks, key=lambda tr: tr.id):
            if any(self._same_face(tr.raw, k.raw) for k in keep):
                self.stats["tracks_dropped"] += 1
                continue
            keep.append(tr)
        self.tracks = keep

    def _fold_detections(self, image: np.ndarray, frame: int, t: float, timings: dict) -> tuple[int | None, float | None]:
        result = self.runner.poll() if self.runner is not None else None
        if result is None:
            return None, None
        self.stats["detections"] += len(result.detections)
        self.stats["detector_ms"] += result.ms
        boxes = [self.runner.detector.crop_box(d.box) for d in result.detections]
        new, matched = self._associate(boxes, t)
        stale = frame - result.frame > 1  # from the background thread, a few frames old
        for box, tr in matched:
            self._reseed(tr, image, box, t, timings, stale)
        self._start_all(image, new, frame, t, timings)
        return len(result.detections), result.ms

    def _associate(self, boxes: list[np.ndarray], t: float) -> tuple[list[np.ndarray], list[tuple[np.ndarray, Track]]]:
        """Match detections to tracks (IoU, Hungarian): (unmatched boxes, matched (box, track) pairs).

        A detector hit confirms a track's face even when the model's score wavers, so a track holds
        its face on every frame the detector finds it.
        """
        if not boxes or not self.tracks:
            return boxes, []
        iou = iou_matrix(np.array(boxes), np.array([crop_from_landmarks(tr.raw) for tr in self.tracks]))
        rows, cols = linear_sum_assignment(-iou)
        matched = []
        for r, c in zip(rows, cols, strict=True):
            if iou[r, c] >= self.config.iou_match:
                tr = self.tracks[c]
                tr.low, tr.confirmed_t = 0, t
                matched.append((boxes[r], tr))
        done = {id(b) for b, _ in matched}
        # A detection overlapping any live track is that face seen again, even if Hungarian gave
        # the track to another detection, and one lying inside a tracked face is a part of it (MTCNN
        # fires on a mouth and chin at times); only clearly new boxes start tracks.
        return [b for i, b in enumerate(boxes) if id(b) not in done and iou[i].max() < self.config.iou_match
                and not self._inside_a_track(b)], matched

    def _start_all(self, image: np.ndarray, boxes: list[np.ndarray], frame: int, t: float, timings: dict) -> None:
        """Start tracks from new detections, larger first, skipping one inside a face just started."""
        for box in sorted(boxes, key=lambda b: -(b[2] - b[0])):
            if not self._inside_a_track(box):
                self._start(image, box, frame, t, timings)

    def _inside_a_track(self, box: np.ndarray, share: float = 0.6) -> bool:
        """``box`` lies mostly (``share`` of its area) inside a live track's crop box."""
        for tr in self.tracks:
            c = crop_from_landmarks(tr.raw)
            w = max(0.0, min(box[2], c[2]) - max(box[0], c[0]))
            h = max(0.0, min(box[3], c[3]) - max(box[1], c[1]))
            if w * h >= share * max((box[2] - box[0]) * (box[3] - box[1]), 1e-9):
                return True
        return False

    def _reseed(self, tr: Track, image: np.ndarray, box: np.ndarray, t: float, timings: dict, stale: bool = False) -> None:
        """A doubtful track (low score, or drifted off its detection) restarts its landmarks from the detection.

        A stale detection (computed on an older frame) only re-seeds a low-scoring track: on a moving
        face its box would pull a good track back to where the face was.
        """
        confident = tr.score_ema is None or tr.score_ema >= self.config.min_score
        if confident and (stale or iou_matrix(box, crop_from_landmarks(tr.raw))[0, 0] >= self.config.reseed_iou):
            return
        h, w = image.shape[:2]
        lm, score, reported = self._predict(image, box, timings)
        for _ in range(max(1, self.config.init_passes) - 1):
            lm, score, reported = self._predict(image, crop_from_landmarks(lm), timings)
        if not self._face_ok(lm, None, w, h):
            return
        self._restart_landmarks(tr, lm, score, t, (w, h), timings, reported)
        if tr.look is not None:
            tr.look = appearance(image, lm)

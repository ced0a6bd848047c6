"""Is the face in front of the camera a live person? A challenge-response
check on short bursts of camera frames, one burst per asked action.

The server asks for two or three actions in a random order, always with a
blink: a print or a screen cannot blink, and a bent print fakes a head turn
(../shared/liveness/presentation_attacks_minivision_demo_seq). Each burst is
measured with dlib's 68-point landmarks (face-recognition-models):

- the eye aspect ratio (EAR: the eye's height over its width, both eyes
  averaged) for a blink: open, then closed, then open again, relative to the
  person's own open-eye EAR (the median over the whole capture), since eyes
  differ in shape;
- the head's yaw (the nose tip's offset from the midpoint of the outer eye
  corners along the eye line, over the outer inter-ocular distance; 0 is
  frontal, 0.1 about 14 degrees, positive when the person turns to their
  own left) for a turn, as the movement within the burst.

Around the actions: exactly one face in every frame (the whole frame searched
at the start of each action, the region around the face in between), big
enough to measure; no frame repeated (a still sent many times); the face
where the previous frame had it; and the same person throughout, by the
128-d encodings of the most frontal, eyes-open frame and of the frame of
each burst that shows its action (an encoding costs about 90 ms, a frame's
detection and landmarks 15 ms, so not every frame is encoded). README
"Liveness thresholds" says why each threshold sits where it does
(python manage.py liveness_calibrate prints the figures).
"""

import secrets
import time
from dataclasses import dataclass, field

import face_recognition
import numpy as np
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .faces import _DLIB, distance

BLINK = "blink"
TURN_LEFT = "turn_left"
TURN_RIGHT = "turn_right"
ACTIONS = (BLINK, TURN_LEFT, TURN_RIGHT)
MAX_ACTIONS = 3  # a challenge asks for two or three

INSTRUCTIONS = {
    BLINK: _("Blink your eyes once"),
    TURN_LEFT: _("Turn your head a little to your left"),
    TURN_RIGHT: _("Turn your head a little to your right"),
}

# Why a capture was refused; shown to the participant.
REASONS = {
    "liveness_no_face": _("We lost your face in some pictures. Hold the phone at arm's length, face in the oval."),
    "liveness_many_faces": _("More than one face was in the pictures. Do the check with nobody else in view."),
    "liveness_face_small": _("Your face was too small in the pictures. Hold the phone closer, face in the oval."),
    "liveness_still": _("The pictures did not move like a live face. Do the check yourself, live, not with a photo."),
    "liveness_face_jumped": _("Your face jumped between pictures. Hold the phone still and do the check again."),
    "liveness_not_same_person": _("The pictures show more than one person. Do the check yourself, alone."),
    "liveness_blink_missing": _("We did not see you blink when asked. Do the check again and blink once, slowly."),
    "liveness_turn_left_missing": _(
        "We did not see you turn your head to your left when asked. Do the check again and turn a little further."
    ),
    "liveness_turn_right_missing": _(
        "We did not see you turn your head to your right when asked. Do the check again and turn a little further."
    ),
}


def new_actions() -> list[str]:
    """A fresh random challenge: two or three actions, a blink among them,
    in a random order. A test may fix it (LIVENESS_FIXED_ACTIONS)."""
    fixed = settings.LIVENESS_FIXED_ACTIONS
    if fixed:
        return list(fixed)
    rng = secrets.SystemRandom()
    count = rng.choice((2, MAX_ACTIONS))
    actions = [BLINK] + [rng.choice(ACTIONS) for _ in range(count - 1)]
    rng.shuffle(actions)
    return actions


@dataclass(frozen=True)
class FramePose:
    box: tuple[int, int, int, int]  # top, right, bottom, left
    ear: float
    yaw: float
    eye_distance: float  # outer eye corners, pixels


@dataclass
class ActionResult:
    action: str
    passed: bool
    frames: int
    ear_min: float
    ear_max: float
    yaw_min: float
    yaw_max: float
    movement: float  # what was measured for the action: the blink's depth or the turn's size

    def as_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class LivenessResult:
    passed: bool
    reason_code: str = ""
    actions: list[ActionResult] = field(default_factory=list)
    baseline_ear: float | None = None
    identity_spread: float | None = None  # largest distance between the bursts' encodings
    encoding: np.ndarray | None = None  # of the best frame, for the match to the KTP
    best_frame: tuple[int, int] | None = None  # (burst, frame) of that frame
    frames: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "passed": self.passed,
            "reason_code": self.reason_code,
            "frames": self.frames,
            "baseline_ear": None if self.baseline_ear is None else round(self.baseline_ear, 3),
            "identity_spread": None if self.identity_spread is None else round(self.identity_spread, 3),
            "best_frame": list(self.best_frame) if self.best_frame else None,
            "actions": [a.as_dict() for a in self.actions],
        }


def _ear(eye: list[tuple[int, int]]) -> float:
    p = np.asarray(eye, dtype=np.float64)
    width = np.linalg.norm(p[0] - p[3])
    if width == 0:
        return 0.0
    return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2 * width))


def pose(landmarks: dict) -> tuple[float, float, float]:
    """(EAR, yaw, outer eye distance) from face_recognition's 68 landmarks."""
    ear = (_ear(landmarks["left_eye"]) + _ear(landmarks["right_eye"])) / 2
    outer_a = np.asarray(landmarks["left_eye"][0], dtype=np.float64)
    outer_b = np.asarray(landmarks["right_eye"][3], dtype=np.float64)
    nose = np.asarray(landmarks["nose_tip"][2], dtype=np.float64)
    axis = outer_b - outer_a
    span = float(np.linalg.norm(axis))
    if span == 0:
        return ear, 0.0, 0.0
    yaw = float(np.dot(nose - (outer_a + outer_b) / 2, axis / span) / span)
    return ear, yaw, span


def locate(pixels: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Face boxes; small faces get one look at twice the size."""
    with _DLIB:
        boxes = face_recognition.face_locations(pixels, number_of_times_to_upsample=0)
        if not boxes:
            boxes = face_recognition.face_locations(pixels, number_of_times_to_upsample=1)
    return boxes


def locate_near(pixels: np.ndarray, box: tuple[int, int, int, int]) -> list[tuple[int, int, int, int]]:
    """Face boxes in the region around where the face was a frame ago (its
    box grown by half its size each way): a fifth of the pixels of a whole
    frame to search, so most of the detection's cost saved. Nothing there:
    the whole frame is searched."""
    height, width = pixels.shape[:2]
    top, right, bottom, left = box
    grow_y, grow_x = (bottom - top) // 2, (right - left) // 2
    y0, y1 = max(0, top - grow_y), min(height, bottom + grow_y)
    x0, x1 = max(0, left - grow_x), min(width, right + grow_x)
    with _DLIB:
        found = face_recognition.face_locations(
            np.ascontiguousarray(pixels[y0:y1, x0:x1]), number_of_times_to_upsample=0
        )
    if not found:
        return locate(pixels)
    return [(t + y0, r + x0, b + y0, lft + x0) for t, r, b, lft in found]


def measure(pixels: np.ndarray, box: tuple[int, int, int, int]) -> FramePose:
    with _DLIB:
        landmarks = face_recognition.face_landmarks(pixels, face_locations=[box], model="large")[0]
    ear, yaw, span = pose(landmarks)
    return FramePose(box=box, ear=ear, yaw=yaw, eye_distance=span)


def encode(pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    with _DLIB:
        return face_recognition.face_encodings(pixels, known_face_locations=[box])[0]


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    top, right, bottom, left = max(a[0], b[0]), min(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    area = (a[1] - a[3]) * (a[2] - a[0]) + (b[1] - b[3]) * (b[2] - b[0]) - inter
    return inter / area if area else 0.0


def _same_picture(a: np.ndarray, b: np.ndarray) -> bool:
    """Two frames that are one picture (a still sent twice), compared on a
    small grey copy: a live camera's noise alone differs more."""
    small_a = a[::8, ::8].astype(np.int16).mean(axis=2)
    small_b = b[::8, ::8].astype(np.int16).mean(axis=2)
    if small_a.shape != small_b.shape:
        return False
    return float(np.abs(small_a - small_b).mean()) < settings.LIVENESS_MIN_FRAME_DIFFERENCE


def _blink(ears: list[float], baseline: float) -> tuple[bool, float]:
    """Open, then closed, then open again, within the burst; returns the
    depth (the lowest EAR over the person's open-eye EAR)."""
    open_at = settings.LIVENESS_BLINK_OPEN_RATIO * baseline
    closed_at = settings.LIVENESS_BLINK_CLOSED_RATIO * baseline
    depth = min(ears) / baseline if baseline else 1.0
    seen_open = False
    seen_closed = False
    for ear in ears:
        if ear >= open_at:
            if seen_closed:
                return True, depth
            seen_open = True
        elif ear <= closed_at and seen_open:
            seen_closed = True
    return False, depth


def _turn(yaws: list[float], direction: int) -> float:
    """The largest movement of the head within the burst in the asked
    direction (+1: the person's left), later frame minus earlier frame."""
    best = 0.0
    lowest = highest = yaws[0]
    for yaw in yaws[1:]:
        best = max(best, (yaw - lowest) if direction > 0 else (highest - yaw))
        lowest, highest = min(lowest, yaw), max(highest, yaw)
    return best


def analyse(bursts: list[list[np.ndarray]], actions: list[str]) -> LivenessResult:
    """Checks a capture: ``bursts[i]`` are the frames (RGB arrays) taken
    while the page asked for ``actions[i]``. Writes nothing."""
    started = time.perf_counter()
    result = LivenessResult(passed=False, frames=sum(len(b) for b in bursts))
    poses: list[list[FramePose]] = []
    previous: tuple[np.ndarray, FramePose] | None = None
    for burst in bursts:
        burst_poses = []
        for index, pixels in enumerate(burst):
            if previous is not None and _same_picture(previous[0], pixels):
                result.reason_code = "liveness_still"
                return result
            # The whole frame is searched at the start of each action (anyone
            # else in view is found there), near the face in between.
            boxes = locate(pixels) if index == 0 or previous is None else locate_near(pixels, previous[1].box)
            if not boxes:
                result.reason_code = "liveness_no_face"
                return result
            if len(boxes) > 1:
                result.reason_code = "liveness_many_faces"
                return result
            frame = measure(pixels, boxes[0])
            if frame.eye_distance < settings.LIVENESS_MIN_EYE_DISTANCE:
                result.reason_code = "liveness_face_small"
                return result
            if previous is not None and _iou(previous[1].box, frame.box) < settings.LIVENESS_MIN_BOX_OVERLAP:
                result.reason_code = "liveness_face_jumped"
                return result
            burst_poses.append(frame)
            previous = (pixels, frame)
        poses.append(burst_poses)
    result.timings["landmarks"] = round(time.perf_counter() - started, 4)

    all_ears = [p.ear for burst in poses for p in burst]
    baseline = float(np.percentile(all_ears, settings.LIVENESS_OPEN_EYE_PERCENTILE))
    result.baseline_ear = baseline
    first_failure = ""
    for action, burst in zip(actions, poses, strict=True):
        ears = [p.ear for p in burst]
        yaws = [p.yaw for p in burst]
        if action == BLINK:
            passed, movement = _blink(ears, baseline)
        else:
            movement = _turn(yaws, +1 if action == TURN_LEFT else -1)
            passed = movement >= settings.LIVENESS_TURN_YAW
        result.actions.append(
            ActionResult(action, passed, len(burst), min(ears), max(ears), min(yaws), max(yaws), movement)
        )
        if not passed and not first_failure:
            first_failure = f"liveness_{action}_missing"
    if first_failure:
        result.reason_code = first_failure
        return result

    # One person throughout: the most frontal, eyes-open frame of the first
    # burst (the face matched to the KTP) and, in every burst, the frame that
    # shows its action (the blink's closed eyes, the turn's furthest point),
    # so no frame of the proof can come from someone else or another picture.
    encode_started = time.perf_counter()
    first = poses[0]
    best = max(range(len(first)), key=lambda i: first[i].ear - abs(first[i].yaw))
    result.best_frame = (0, best)
    encodings = [encode(bursts[0][best], first[best].box)]
    for b, (action, burst_poses) in enumerate(zip(actions, poses, strict=True)):
        if action == BLINK:
            shown = min(range(len(burst_poses)), key=lambda i: burst_poses[i].ear)
        elif action == TURN_LEFT:
            shown = max(range(len(burst_poses)), key=lambda i: burst_poses[i].yaw)
        else:
            shown = min(range(len(burst_poses)), key=lambda i: burst_poses[i].yaw)
        if (b, shown) != result.best_frame:
            encodings.append(encode(bursts[b][shown], burst_poses[shown].box))
    spread = max((distance(a, b) for i, a in enumerate(encodings) for b in encodings[i + 1 :]), default=0.0)
    result.identity_spread = spread
    result.timings["encodings"] = round(time.perf_counter() - encode_started, 4)
    if spread > settings.LIVENESS_SAME_PERSON_THRESHOLD:
        result.reason_code = "liveness_not_same_person"
        return result
    result.encoding = encodings[0]
    result.passed = True
    return result

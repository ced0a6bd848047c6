"""Finding faces and comparing them, with the real face_recognition (dlib)
models: HOG detector, 68-point landmarks' 5-point variant, 128-d encodings."""

import threading
from dataclasses import dataclass

import face_recognition
import numpy as np

# face_recognition shares one dlib detector and two models per process, and
# they are not safe to use from two threads at once (a segfault, seen when
# two checks ran in threads). Celery's prefork workers never contend for it.
_DLIB = threading.Lock()


@dataclass(frozen=True)
class Face:
    top: int
    right: int
    bottom: int
    left: int
    encoding: np.ndarray

    @property
    def area(self) -> int:
        return (self.bottom - self.top) * (self.right - self.left)

    def touches_edge(self, shape: tuple[int, ...]) -> bool:
        """dlib clips boxes to the image: a box on the border is a face cut off."""
        height, width = shape[:2]
        return self.top <= 0 or self.left <= 0 or self.bottom >= height or self.right >= width


def find_faces(pixels: np.ndarray) -> list[Face]:
    """Every face found, with its encoding. Detection runs on the image as
    given first; only if it finds nothing does it look again at twice the
    size (four times the work), for small faces such as a KTP's photo."""
    with _DLIB:
        locations = face_recognition.face_locations(pixels, number_of_times_to_upsample=0)
        if not locations:
            locations = face_recognition.face_locations(pixels, number_of_times_to_upsample=1)
        if not locations:
            return []
        encodings = face_recognition.face_encodings(pixels, known_face_locations=locations)
    return [Face(t, r, b, lft, enc) for (t, r, b, lft), enc in zip(locations, encodings, strict=True)]


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def _looks_upright(pixels: np.ndarray, face: Face) -> bool:
    """The eyes above the nose tip, and the nose above the mouth: dlib's
    detector also finds some faces upside down, whose landmarks are not."""
    box = (face.top, face.right, face.bottom, face.left)
    with _DLIB:
        marks = face_recognition.face_landmarks(pixels, face_locations=[box])[0]
    eyes = np.mean([*marks["left_eye"], *marks["right_eye"]], axis=0)[1]
    nose = np.mean(marks["nose_tip"], axis=0)[1]
    mouth = np.mean([*marks["top_lip"], *marks["bottom_lip"]], axis=0)[1]
    return bool(eyes < nose < mouth)


def find_faces_upright(pixels: np.ndarray) -> tuple[list[Face], np.ndarray, int]:
    """Faces in a photo that may be turned sideways or upside down without
    an EXIF orientation to say so: the photo as given, then turned a quarter
    clockwise, a quarter counter-clockwise and a half turn, until faces are
    found that stand upright. Returns the faces, the picture turned the way
    they were found, and the quarter turns (counter-clockwise) it took."""
    for turns in (0, 3, 1, 2):
        turned = np.ascontiguousarray(np.rot90(pixels, k=turns)) if turns else pixels
        found = find_faces(turned)
        if found and (turns == 0 or _looks_upright(turned, max(found, key=lambda f: f.area))):
            return found, turned, turns
    return [], pixels, 0

"""1:N search for a face among every participant's accepted selfie.

``FaceIndex`` is the interface; ``BruteForceIndex`` compares against every
encoding with one matrix-vector product (float32, |x-q|^2 = |x|^2 - 2x.q +
|q|^2), about 20 ms for a million encodings on this hardware; ``kyc.ann``'s
approximate HNSW index (usearch) holds the templates up to its last build.

``template_index()`` keeps, per process, the built index (if any) and a
BruteForceIndex of the templates accepted since, in step with the
FaceTemplate table: each search first loads the templates added since the
last one, and candidates are confirmed against the table, so a template
that is gone (or a test's rolled-back one) is never reported.
"""

import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

DIMENSIONS = 128


@dataclass(frozen=True)
class Match:
    key: int  # the participant's id
    distance: float


class FaceIndex(Protocol):
    def add(self, keys: np.ndarray, encodings: np.ndarray) -> None: ...

    def search(self, encoding: np.ndarray, *, k: int = 5, exclude: int | None = None) -> list[Match]: ...

    def __len__(self) -> int: ...


class BruteForceIndex:
    def __init__(self, capacity: int = 1024):
        self._keys = np.empty(capacity, dtype=np.int64)
        self._vectors = np.empty((capacity, DIMENSIONS), dtype=np.float32)
        self._norms = np.empty(capacity, dtype=np.float32)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        return self._keys.nbytes + self._vectors.nbytes + self._norms.nbytes

    def add(self, keys: np.ndarray, encodings: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        encodings = np.asarray(encodings, dtype=np.float32).reshape(-1, DIMENSIONS)
        needed = self._size + len(keys)
        if needed > len(self._keys):
            capacity = max(needed, 2 * len(self._keys))
            self._keys = np.resize(self._keys, capacity)
            vectors = np.empty((capacity, DIMENSIONS), dtype=np.float32)
            vectors[: self._size] = self._vectors[: self._size]
            self._vectors = vectors
            self._norms = np.resize(self._norms, capacity)
        end = self._size + len(keys)
        self._keys[self._size : end] = keys
        self._vectors[self._size : end] = encodings
        self._norms[self._size : end] = np.einsum("ij,ij->i", encodings, encodings)
        self._size = end

    def search(self, encoding: np.ndarray, *, k: int = 5, exclude: int | None = None) -> list[Match]:
        if self._size == 0:
            return []
        q = np.asarray(encoding, dtype=np.float32).reshape(DIMENSIONS)
        squared = self._norms[: self._size] - 2.0 * (self._vectors[: self._size] @ q) + float(q @ q)
        if exclude is not None:
            squared[self._keys[: self._size] == exclude] = np.inf
        k = min(k, self._size)
        nearest = np.argpartition(squared, k - 1)[:k]
        nearest = nearest[np.argsort(squared[nearest])]
        return [
            Match(key=int(self._keys[i]), distance=float(np.sqrt(max(squared[i], 0.0))))
            for i in nearest
            if np.isfinite(squared[i])
        ]


class _TemplateIndex:
    """The process's view of every accepted face: the built approximate
    index (``FACE_INDEX_PATH``, memory-mapped, reopened when a new build
    replaces it) for the templates up to its build, and an exact index of
    the templates accepted since. Without a built file, everything is exact."""

    def __init__(self):
        self._lock = threading.Lock()
        self._index = BruteForceIndex()
        self._last_id = 0
        self._ann = None
        self._ann_stamp = None

    def _open_ann(self) -> None:
        from django.conf import settings

        from .ann import AnnIndex, meta_path

        path = settings.FACE_INDEX_PATH
        stamp = None
        if path and path.exists() and meta_path(path).exists():
            stamp = (path.stat().st_mtime_ns, meta_path(path).stat().st_mtime_ns)
        if stamp == self._ann_stamp:
            return
        self._ann = AnnIndex.open(path) if stamp else None
        self._ann_stamp = stamp
        # The exact part starts again after what the build covers.
        self._index, self._last_id = BruteForceIndex(), (self._ann.last_id if self._ann else 0)

    def _refresh(self) -> None:
        from .models import FaceTemplate

        self._open_ann()
        newest = FaceTemplate.objects.order_by("-id").values_list("id", flat=True).first() or 0
        if newest < self._last_id and self._ann is None:  # the table was emptied (a test database flush)
            self._index, self._last_id = BruteForceIndex(), 0
        rows = list(
            FaceTemplate.objects.filter(id__gt=self._last_id)
            .order_by("id")
            .values_list("id", "participant_id", "encoding")
        )
        if rows:
            keys = np.array([r[1] for r in rows], dtype=np.int64)
            vectors = np.stack([np.frombuffer(bytes(r[2]), dtype=np.float64) for r in rows])
            self._index.add(keys, vectors)
            self._last_id = rows[-1][0]

    def search(self, encoding: np.ndarray, *, k: int = 5, exclude: int | None = None) -> list[Match]:
        from .models import FaceTemplate

        with self._lock:
            self._refresh()
            candidates = self._index.search(encoding, k=k, exclude=exclude)
            if self._ann is not None:
                candidates += self._ann.search(encoding, k=k, exclude=exclude)
        best: dict[int, Match] = {}
        for match in candidates:
            if match.key not in best or match.distance < best[match.key].distance:
                best[match.key] = match
        candidates = sorted(best.values(), key=lambda m: m.distance)[:k]
        present = set(
            FaceTemplate.objects.filter(participant_id__in=[m.key for m in candidates]).values_list(
                "participant_id", flat=True
            )
        )
        return [m for m in candidates if m.key in present]


_template_index = _TemplateIndex()


def template_index() -> _TemplateIndex:
    return _template_index

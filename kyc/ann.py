"""The approximate 1:N face index (issue 16: 40 million faces): usearch's
HNSW graph over the face templates in half precision, built to a file by
``manage.py face_index_build`` and memory-mapped read-only by every process
of a node (the operating system's page cache holds one copy for all).

The file covers the templates up to the id written beside it (``.json``);
``kyc.index.template_index()`` searches it and, exactly, every template
accepted since, so no face is missed between two builds. Distances are
Euclidean, as face_recognition's (usearch's ``l2sq`` is their square).
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .index import DIMENSIONS, Match

CONNECTIVITY = 32  # HNSW edges per node
EXPANSION_ADD = 400
EXPANSION_SEARCH = 256


def _new_index():
    from usearch.index import Index

    return Index(
        ndim=DIMENSIONS,
        metric="l2sq",
        dtype="f16",
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )


class AnnIndex:
    """A built index, read-only (memory-mapped) or in memory while built."""

    def __init__(self, index, last_id: int = 0):
        self._index = index
        self.last_id = last_id

    @classmethod
    def build(cls, keys: np.ndarray, encodings: np.ndarray, *, threads: int = 0) -> "AnnIndex":
        index = _new_index()
        if len(keys):
            index.add(
                np.asarray(keys, dtype=np.uint64),
                np.asarray(encodings, dtype=np.float32).reshape(-1, DIMENSIONS),
                threads=threads,
            )
        return cls(index)

    def __len__(self) -> int:
        return len(self._index)

    @property
    def nbytes(self) -> int:
        return self._index.memory_usage

    def search(self, encoding: np.ndarray, *, k: int = 5, exclude: int | None = None) -> list[Match]:
        if len(self._index) == 0:
            return []
        found = self._index.search(np.asarray(encoding, dtype=np.float32).reshape(DIMENSIONS), k + 1)
        matches = [
            Match(key=int(key), distance=float(np.sqrt(max(float(d), 0.0))))
            for key, d in zip(found.keys, found.distances, strict=True)
            if int(key) != exclude
        ]
        return matches[:k]

    def save(self, path: Path, *, last_id: int) -> None:
        """Writes the index and its meta beside it, each replaced whole (a
        reader never sees half a file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".usearch.tmp")
        os.close(fd)
        self._index.save(tmp)
        os.replace(tmp, path)
        meta = {"last_id": last_id, "count": len(self._index)}
        meta_tmp = path.with_suffix(".json.tmp")
        meta_tmp.write_text(json.dumps(meta))
        os.replace(meta_tmp, meta_path(path))
        self.last_id = last_id

    @classmethod
    def open(cls, path: Path) -> "AnnIndex":
        from usearch.index import Index

        meta = json.loads(meta_path(path).read_text())
        restored = Index.restore(str(path), view=True)
        restored.expansion_search = EXPANSION_SEARCH  # a search setting: the file does not keep it
        return cls(restored, last_id=int(meta["last_id"]))


def meta_path(path: Path) -> Path:
    return Path(path).with_suffix(".json")

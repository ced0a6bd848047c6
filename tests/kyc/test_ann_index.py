"""Issue 16: the 1:N duplicate search runs on an approximate HNSW index
(usearch, half precision) built from the face templates and memory-mapped,
with an exact scan over the faces accepted since the build, so a duplicate
is found whether its face is in the build or came after it."""

import numpy as np
import pytest
from django.core.management import call_command

from kyc import index as face_index
from kyc.models import FaceTemplate, KycSubmission
from tests.factories import make_participant

pytestmark = pytest.mark.django_db

RNG = np.random.default_rng(15)


def accept(encoding: np.ndarray):
    """A participant whose selfie was accepted with this face."""
    participant = make_participant()
    submission = KycSubmission.objects.create(participant=participant, attempt=1, status="verified")
    FaceTemplate.objects.create(
        participant=participant, submission=submission, encoding=encoding.astype(np.float64).tobytes()
    )
    return participant


def face() -> np.ndarray:
    return RNG.normal(0, 0.09, 128)  # face_recognition's encodings: different people about 0.8-1.0 apart


@pytest.fixture
def fresh_index(settings, tmp_path):
    settings.FACE_INDEX_PATH = tmp_path / "faces.usearch"
    face_index._template_index = face_index._TemplateIndex()
    yield settings.FACE_INDEX_PATH
    face_index._template_index = face_index._TemplateIndex()


def test_duplicates_are_found_in_the_built_index_and_among_faces_accepted_since(fresh_index):
    built_faces = [face() for _ in range(300)]
    people = [accept(f) for f in built_faces]
    call_command("face_index_build")
    assert fresh_index.exists()
    index = face_index.template_index()

    # The same person under another NIK: a new photo, close to the stored face.
    probe = built_faces[123] + RNG.normal(0, 0.01, 128)
    (best,) = index.search(probe, k=1)
    assert best.key == people[123].pk and best.distance < 0.2
    assert index._ann is not None and len(index._ann) == 300 and len(index._index) == 0

    # Accepted after the build: found by the exact part.
    late_face = face()
    late = accept(late_face)
    (best,) = index.search(late_face + RNG.normal(0, 0.01, 128), k=1)
    assert best.key == late.pk
    assert len(index._index) == 1

    # The participant's own face is left out; a new build takes the late face in.
    assert all(m.key != people[5].pk for m in index.search(built_faces[5], k=3, exclude=people[5].pk))
    call_command("face_index_build")
    (best,) = index.search(late_face, k=1)
    assert best.key == late.pk and len(index._ann) == 301 and len(index._index) == 0


def test_without_a_built_index_the_search_is_exact(settings):
    settings.FACE_INDEX_PATH = None
    face_index._template_index = face_index._TemplateIndex()
    faces = [face() for _ in range(20)]
    people = [accept(f) for f in faces]
    (best,) = face_index.template_index().search(faces[7], k=1)
    # The exact scan works in float32 through the dot product: the same face
    # comes out within 1e-3 (another person is 0.8 or more away).
    assert best.key == people[7].pk and best.distance == pytest.approx(0, abs=1e-3)
    assert face_index.template_index()._ann is None

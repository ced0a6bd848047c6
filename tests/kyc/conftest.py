"""Real photos from ../shared/faces (settings.KYC_TEST_FACES_DIR) and
participants brought to the point where they may send them."""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFilter

from accounts.services.phone import participant_send_phone_code, participant_verify_phone
from kyc import samples
from kyc.models import LivenessChallenge
from kyc.samples import card_image
from kyc.services import LiveCapture, liveness_challenge_issue
from tests.factories import make_participant


def face_path(name: str) -> Path:
    path = Path(settings.KYC_TEST_FACES_DIR) / name
    assert path.is_file(), f"test photo missing: {path} (set KYC_TEST_FACES_DIR)"
    return path


def photo(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, face_path(name).read_bytes())


def as_upload(image: Image.Image, name: str = "ktp.jpg") -> SimpleUploadedFile:
    """Saved as a phone saves a photo (JPEG)."""
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def ktp_card(face_name: str, *, nik: str = "3273015708950001", **options) -> SimpleUploadedFile:
    return as_upload(card_image(face_path(face_name), nik=nik, **options))


def grid_face() -> Image.Image:
    """The GRID man's face for his KTP: from a frame the fake camera's clip
    leaves out, softened as a printed card photo is (unsoftened, a frame of
    the same second of video is within the same-photo distance of the live
    frames, which rightly flags it)."""
    with Image.open(samples.frame_files("grid_bbaf2n_blink")[39]) as frame:
        return frame.convert("RGB").crop((60, 20, 300, 288)).filter(ImageFilter.GaussianBlur(2))


def grid_ktp(nik: str, **options) -> SimpleUploadedFile:
    return as_upload(card_image(grid_face(), nik=nik, **options))


def frame_upload(path: Path, *, scale: float = 1.0) -> SimpleUploadedFile:
    data = path.read_bytes()
    if scale != 1.0:
        with Image.open(path) as image:
            image = image.resize((int(image.width * scale), int(image.height * scale)))
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=85)
            data = out.getvalue()
    return SimpleUploadedFile(path.name, data, content_type="image/jpeg")


def capture_of(case: samples.Case) -> list[list[SimpleUploadedFile]]:
    """A recorded sequence's bursts as the page uploads them."""
    return [[frame_upload(p, scale=case.scale) for p in burst] for burst in samples.burst_files(case)]


GRID = samples.GENUINE[0]


@pytest.fixture
def live(settings):
    """Challenges fixed to a case's actions, and its capture sent as the
    camera page sends it: ``live(participant, case)`` returns a LiveCapture."""

    def make(participant, case: samples.Case = GRID, *, bursts=None):
        settings.LIVENESS_FIXED_ACTIONS = list(case.actions)
        challenge = liveness_challenge_issue(participant=participant, purpose=LivenessChallenge.Purpose.KYC)
        return LiveCapture(challenge.nonce, bursts if bursts is not None else capture_of(case))

    return make


@pytest.fixture
def ready_participant(committed, sms_outbox):
    """Makes participants whose profile is complete (phone verified)."""

    def make(**profile):
        participant = make_participant(**profile)
        committed(participant_send_phone_code, participant=participant)
        code = re.search(r"\b(\d{6})\b", sms_outbox[-1].body).group(1)
        return participant_verify_phone(participant=participant, code=code)

    return make

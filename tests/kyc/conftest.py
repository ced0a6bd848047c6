"""Real photos from ../shared/faces (settings.KYC_TEST_FACES_DIR) and
participants brought to the point where they may send them."""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from accounts.services.phone import participant_send_phone_code, participant_verify_phone
from tests.factories import make_participant


def face_path(name: str) -> Path:
    path = Path(settings.KYC_TEST_FACES_DIR) / name
    assert path.is_file(), f"test photo missing: {path} (set KYC_TEST_FACES_DIR)"
    return path


def photo(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, face_path(name).read_bytes())


def ktp_card(face_name: str, *, nik: str = "3273015708950001") -> SimpleUploadedFile:
    """A KTP drawn with Pillow: blue card, printed fields, the face photo
    pasted where a KTP has it, then photographed as a phone JPEG would be."""
    card = Image.new("RGB", (1012, 638), (140, 190, 230))
    draw = ImageDraw.Draw(card)
    draw.text((330, 20), "PROVINSI JAWA BARAT", fill=(0, 0, 0))
    draw.text((360, 45), "KOTA BANDUNG", fill=(0, 0, 0))
    lines = [
        "NIK : " + nik,
        "Nama : SITI AMINAH",
        "Tempat/Tgl Lahir : BANDUNG, 17-08-1995",
        "Jenis Kelamin : PEREMPUAN",
    ]
    for i, line in enumerate(lines):
        draw.text((40, 110 + 40 * i), line, fill=(0, 0, 0))
    with Image.open(face_path(face_name)) as face:
        face = face.convert("RGB")
        face.thumbnail((240, 300))
        card.paste(face, (730, 120))
    out = io.BytesIO()
    card.save(out, format="JPEG", quality=88)
    return SimpleUploadedFile("ktp.jpg", out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def ready_participant(committed, sms_outbox):
    """Makes participants whose profile is complete (phone verified)."""

    def make(**profile):
        participant = make_participant(**profile)
        committed(participant_send_phone_code, participant=participant)
        code = re.search(r"\b(\d{6})\b", sms_outbox[-1].body).group(1)
        return participant_verify_phone(participant=participant, code=code)

    return make

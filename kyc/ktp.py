"""Is the "KTP photo" a photo of an ID card, and what NIK does it show?

A KTP is a card with a small portrait on its right and printed fields on its
left. Two things tell a card from a selfie or a portrait sent in its place:
the face is small beside the picture (a card's portrait is about a third of
the card's height; a selfie's face fills a third or more of the picture's
width), and there is printed text beside it. Tesseract (Debian's
tesseract-ocr with the Indonesian data) reads that text; a 16-digit run in
it is the NIK read off the card.

Reading a phone photo of a card is not always possible (glare, blur): an
unreadable NIK is never a refusal, but it sends the case to a reviewer (a
finger over one's own card's NIK must not let another NIK pass), as does a
readable NIK that differs from the one typed.
"""

import os
import re
from dataclasses import dataclass, field

import numpy as np
import pytesseract
from django.conf import settings
from PIL import Image

from .faces import Face

# Tesseract's OpenMP threads slowed one read from 0.17 s to 1.5 s on two
# cores with other work running; a check is one process per core anyway.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

# Printed on every KTP (Indonesian), in any of the ways OCR tends to read them.
CARD_WORDS = frozenset(
    {
        "nik",
        "nama",
        "provinsi",
        "kabupaten",
        "kota",
        "lahir",
        "kelamin",
        "alamat",
        "agama",
        "pekerjaan",
        "kewarganegaraan",
        "berlaku",
        "perkawinan",
        "darah",
        "kecamatan",
        "kel/desa",
    }
)
# What OCR confuses with digits in a printed NIK.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "B": "8", "S": "5"})
_NIK_RUN = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")


class ReadFailed(Exception):
    """Tesseract is missing or failed: the reading is skipped, not the check."""


@dataclass
class Reading:
    card_words: list[str] = field(default_factory=list)
    nik: str = ""  # the 16 digits read, or "" if none
    text_lines: int = 0

    @property
    def looks_printed(self) -> bool:
        return len(self.card_words) >= settings.KYC_CARD_MIN_WORDS


def face_too_big_for_a_card(face: Face, shape: tuple[int, ...]) -> bool:
    """A face this big beside the picture is a selfie or a portrait, not a
    card's photo, however the card is framed."""
    height, width = shape[:2]
    face_width = (face.right - face.left) / width
    face_height = (face.bottom - face.top) / height
    return face_width > settings.KYC_CARD_MAX_FACE_WIDTH or face_height > settings.KYC_CARD_MAX_FACE_HEIGHT


def _nik_in(text: str) -> str:
    for line in text.splitlines():
        # "NIK : 3273 0157 0895 0001" and lookalike letters inside the number.
        candidate = line.split(":", 1)[-1] if ":" in line else line
        digits = re.sub(r"[\s.\-]", "", candidate.translate(_DIGIT_LOOKALIKES))
        match = _NIK_RUN.search(digits)
        if match:
            return match.group(0)
    return ""


def read(pixels: np.ndarray, face: Face) -> Reading:
    """OCR of the card's printed side: the part of the picture left of the
    portrait (the whole picture if the portrait is not on the right)."""
    image = Image.fromarray(pixels).convert("L")
    if face.left > image.width * 0.4:
        image = image.crop((0, 0, face.left, image.height))
    try:
        text = pytesseract.image_to_string(
            image, lang=settings.KYC_OCR_LANGUAGE, config="--psm 4", timeout=settings.KYC_OCR_TIMEOUT_SECONDS
        )
    except (pytesseract.TesseractError, pytesseract.TesseractNotFoundError, RuntimeError, OSError) as exc:
        raise ReadFailed(str(exc)) from exc
    words = {w.strip(":;.,").lower() for w in text.split()}
    return Reading(
        card_words=sorted(words & CARD_WORDS),
        nik=_nik_in(text),
        text_lines=sum(1 for line in text.splitlines() if line.strip()),
    )

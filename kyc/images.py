"""Decoding uploaded photos safely, and only as large as face matching needs.

Refused with a reason a participant understands: an empty file, not an
image, a format we do not take, more than KYC_MAX_UPLOAD_BYTES, more than
KYC_MAX_PIXELS (a decompression bomb: the limit is checked on the declared
size, before any pixel is decoded). Accepted photos are turned upright by
their EXIF orientation, lose any alpha channel and are scaled down so their
longest side is about KYC_WORK_SIZE (up to 1.5 times that is left as it
is, as scaling would cost more than it saves): detection time grows with pixels,
and the encodings come from a 150-pixel face chip anyway. A JPEG is decoded
straight at reduced size (its DCT allows 1/2, 1/4, 1/8), which is what makes
a 12-megapixel phone photo cheap.
"""

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

register_heif_opener()

ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "HEIF"})
# Scaling costs more than it saves for a photo barely over the work size.
_SCALE_SLACK = 1.5


class PhotoRefused(Exception):
    """A photo that cannot be used; ``code`` and ``message`` say why."""

    def __init__(self, code: str, message):
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Photo:
    pixels: np.ndarray  # RGB, uint8, at most KYC_WORK_SIZE on its longest side
    original_size: tuple[int, int]
    format: str


def _not_an_image() -> PhotoRefused:
    return PhotoRefused("not_an_image", _("This file is not a photo we can read. Send a JPEG, PNG or HEIC photo."))


def _check_size(source: BinaryIO) -> None:
    source.seek(0, 2)
    size = source.tell()
    source.seek(0)
    if size == 0:
        raise PhotoRefused("empty", _("The file is empty. Choose the photo again."))
    if size > settings.KYC_MAX_UPLOAD_BYTES:
        raise PhotoRefused(
            "too_large",
            _("The photo is larger than %(mb)d MB. Take it again at a lower resolution.")
            % {"mb": settings.KYC_MAX_UPLOAD_BYTES // (1024 * 1024)},
        )


@contextmanager
def _decoding() -> Iterator[None]:
    """Pillow's errors, and its bomb warning, as refusals."""
    Image.MAX_IMAGE_PIXELS = settings.KYC_MAX_PIXELS
    # face_recognition turns this on for the whole process when imported; a
    # truncated upload must be refused, not completed with grey.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            # Pillow only warns between the limit and twice the limit.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused(
            "too_many_pixels",
            _("The photo has more than %(mp)d megapixels. Take it again at a lower resolution.")
            % {"mp": settings.KYC_MAX_PIXELS // 1_000_000},
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise _not_an_image() from None


def _open(source: BinaryIO) -> Image.Image:
    """Reads the header only: format and declared size."""
    # Only these formats' decoders ever see the bytes.
    image = Image.open(source, formats=["JPEG", "PNG", "HEIF"])
    if image.format not in ACCEPTED_FORMATS:
        raise _not_an_image()
    return image


# Enough to prove every byte of the picture decodes; a JPEG is decoded at an
# eighth of its size (its whole data stream is still read), so this is cheap.
_INSPECT_SIZE = 256


def inspect(source: BinaryIO) -> None:
    """The check at upload, before an attempt is counted: the whole picture
    is decoded (a header check alone passed a truncated JPEG, which then used
    an attempt and failed in the identity check)."""
    try:
        load(source, work_size=_INSPECT_SIZE)
    finally:
        source.seek(0)


def load(source: BinaryIO, *, work_size: int | None = None, exact: bool = False) -> Photo:
    """Decodes, turns upright, drops alpha and scales down a photo (to at
    most ``work_size`` if ``exact``, else leaving up to 1.5 times that)."""
    work_size = work_size or settings.KYC_WORK_SIZE
    _check_size(source)
    with _decoding():
        image = _open(source)
        fmt, original_size = image.format, image.size
        if fmt in ("JPEG", "MPO"):
            image.draft("RGB", (work_size, work_size))
        image.load()
        image = ImageOps.exif_transpose(image)
        transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = image.convert("RGBA" if transparent else "RGB")
        # Scale first: the alpha composite then works on the small image.
        if max(image.size) > work_size * (1 if exact else _SCALE_SLACK):
            image.thumbnail((work_size, work_size), Image.Resampling.BILINEAR)
        if transparent:
            # Transparent parts become white, not black.
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
            image = flat
    return Photo(pixels=np.asarray(image), original_size=original_size, format=fmt)


def as_jpeg(source: BinaryIO, *, size: int = 800) -> bytes:
    """A photo re-encoded for viewing: upright, at most ``size`` pixels, as
    JPEG (browsers show it, unlike HEIC) and without its EXIF data, which
    may hold the place it was taken."""
    photo = load(source, work_size=size, exact=True)
    out = io.BytesIO()
    Image.fromarray(photo.pixels).save(out, format="JPEG", quality=85)
    return out.getvalue()

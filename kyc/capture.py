"""The camera check's frames on their way in and at rest: checked as they
arrive (how many, how big, each a picture), kept as one zip of JPEGs (a
folder per action, in the challenge's order), decoded for the check, and
drawn as one contact sheet for the reviewer."""

import io
import zipfile
from typing import BinaryIO

import numpy as np
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image

from . import images


class CaptureRefused(Exception):
    def __init__(self, code: str, message):
        super().__init__(code)
        self.code = code
        self.message = message


def _read(upload) -> bytes:
    upload.seek(0, 2)
    size = upload.tell()
    if size > settings.LIVENESS_MAX_FRAME_BYTES:
        raise CaptureRefused("frame_too_large", _("A camera picture was too large. Do the check again."))
    upload.seek(0)
    return upload.read()


def read_frames(bursts: list[list]) -> list[list[bytes]]:
    """Each uploaded frame checked by content, before any lock is taken: a
    JPEG (what the page's canvas makes), at most LIVENESS_MAX_FRAME_BYTES
    and twice LIVENESS_FRAME_SIZE on its longest side (declared size, read
    before decoding), that decodes whole. Trailing empty bursts are dropped."""
    while bursts and not bursts[-1]:
        bursts = bursts[:-1]
    frames = []
    for burst in bursts:
        if len(burst) > settings.LIVENESS_MAX_FRAMES:
            raise CaptureRefused(
                "capture_frame_count", _("The camera check sent too few or too many pictures. Do it again.")
            )
        read = []
        for upload in burst:
            data = _read(upload)
            try:
                with Image.open(io.BytesIO(data), formats=["JPEG"]) as header:
                    too_big = max(header.size) > 2 * settings.LIVENESS_FRAME_SIZE
                if too_big:
                    raise CaptureRefused("frame_too_large", _("A camera picture was too large. Do the check again."))
                images.inspect(io.BytesIO(data))
            except (images.PhotoRefused, OSError, ValueError, SyntaxError):
                raise CaptureRefused(
                    "frame_not_image", _("A camera picture could not be read. Do the check again.")
                ) from None
            read.append(data)
        frames.append(read)
    return frames


def fit(frames: list[list[bytes]], actions: list[str]) -> list[list[bytes]]:
    """The frames, if there is a burst of a usable length for every action."""
    if len(frames) != len(actions):
        raise CaptureRefused(
            "capture_incomplete", _("The camera check did not send a picture for every step. Do it again.")
        )
    for burst in frames:
        if len(burst) < settings.LIVENESS_MIN_FRAMES:
            raise CaptureRefused(
                "capture_frame_count", _("The camera check sent too few or too many pictures. Do it again.")
            )
    return frames


def accept(bursts: list[list], actions: list[str]) -> list[list[bytes]]:
    """The uploaded frames of each action, checked; refused with a reason."""
    return fit(read_frames(bursts), actions)


def pack(bursts: list[list[bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for b, frames in enumerate(bursts):
            for f, data in enumerate(frames):
                archive.writestr(f"{b}/{f:02d}.jpg", data)
    return out.getvalue()


def _members(source: BinaryIO) -> list[list[bytes]]:
    bursts: dict[int, list[tuple[int, bytes]]] = {}
    with zipfile.ZipFile(source) as archive:
        for name in archive.namelist():
            burst, frame = name.removesuffix(".jpg").split("/")
            bursts.setdefault(int(burst), []).append((int(frame), archive.read(name)))
    return [[data for _, data in sorted(bursts[b])] for b in sorted(bursts)]


def unpack(source: BinaryIO) -> list[list[np.ndarray]]:
    """Each action's frames, decoded as the check measures them."""
    return [
        [images.load(io.BytesIO(data), work_size=settings.LIVENESS_FRAME_SIZE, exact=True).pixels for data in burst]
        for burst in _members(source)
    ]


def frame(source: BinaryIO, burst: int, index: int) -> bytes:
    return _members(source)[burst][index]


def contact_sheet(source: BinaryIO, *, tile: int = 160) -> bytes:
    """Every frame, small, one row per action, as one JPEG for the reviewer."""
    bursts = _members(source)
    columns = max(len(b) for b in bursts)
    sheet = Image.new("RGB", (columns * tile, len(bursts) * tile), (255, 255, 255))
    for row, burst in enumerate(bursts):
        for column, data in enumerate(burst):
            pixels = images.load(io.BytesIO(data), work_size=tile, exact=True).pixels
            picture = Image.fromarray(pixels)
            sheet.paste(
                picture, (column * tile + (tile - picture.width) // 2, row * tile + (tile - picture.height) // 2)
            )
    out = io.BytesIO()
    sheet.save(out, format="JPEG", quality=80)
    return out.getvalue()

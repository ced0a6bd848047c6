"""The real frame sequences of ../shared/liveness (settings.LIVENESS_SAMPLES_DIR),
cut into bursts as a phone would send them for a fixed challenge: used by the
tests, `manage.py liveness_calibrate` and `bench/liveness_check.py`.

Each genuine sequence holds different actions (the GRID clips blink without
turning, the openmpf clip turns without blinking, the Pexels clip does both),
so each case names the challenge its bursts answer. The attack cases are cut
the same way; they must be refused. And a KTP card drawn around a face."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from . import images
from .liveness import BLINK, TURN_LEFT, TURN_RIGHT


@dataclass(frozen=True)
class Case:
    name: str
    folder: str
    bursts: tuple[tuple[int, int], ...]  # [start, end) frame ranges, one per action
    actions: tuple[str, ...]
    genuine: bool
    note: str = ""
    scale: float = 1.0  # the demo sequence's faces are tiny: as a phone held closer would see them


GENUINE = (
    Case("grid_bbaf2n", "grid_bbaf2n_blink", ((0, 24), (24, 40)), (BLINK, BLINK), True, "two blinks, frontal"),
    Case("openmpf_turn", "openmpf_video01_woman_crop", ((0, 15),), (TURN_RIGHT,), True, "a turn to her right"),
    Case(
        "pexels_turn_blink",
        "pexels_wolfganglanger_headturn_blink",
        ((0, 10), (10, 18), (18, 32)),
        (TURN_LEFT, BLINK, BLINK),
        True,
        "a turn to her left, then two blinks",
    ),
)
# Kept out of the tests; its result is reported (README "Liveness thresholds").
HELD_OUT = Case("grid_swwp2s", "grid_swwp2s_blink", ((0, 16), (16, 40)), (BLINK, BLINK), True, "held out")

ATTACKS = (
    Case(
        "screen_replay_video",
        "presentation_attacks_minivision_demo_seq",
        ((11, 16), (16, 21)),
        (BLINK, TURN_LEFT),
        False,
        "a phone screen replaying a face",
        scale=2.5,
    ),
    Case(
        "bent_print",
        "presentation_attacks_minivision_demo_seq",
        ((21, 24), (27, 30)),
        (BLINK, TURN_LEFT),
        False,
        "a printed photo being bent: an apparent turn, no blink",
        scale=2.5,
    ),
    Case(
        "pexels_wrong_order",
        "pexels_wolfganglanger_headturn_blink",
        ((0, 10), (10, 18), (18, 32)),
        (BLINK, TURN_LEFT, BLINK),
        False,
        "the genuine Pexels bursts against a challenge in another order",
    ),
)

STILLS = (
    "presentation_attacks_minivision/a_live_image_T1_upright.jpg",
    "presentation_attacks_minivision/b_print_attack_image_F1_upright.jpg",
    "presentation_attacks_minivision/c_screen_replay_image_F2_upright.jpg",
)


def samples_dir() -> Path:
    return Path(settings.LIVENESS_SAMPLES_DIR)


def frame_files(folder: str) -> list[Path]:
    root = samples_dir() / folder
    files = sorted(root.glob("f*.jpg"))
    assert files, f"no frames in {root} (set LIVENESS_SAMPLES_DIR)"
    return files


def decode(path: Path, *, scale: float = 1.0) -> np.ndarray:
    """A frame as the server decodes one (upright, at most LIVENESS_FRAME_SIZE)."""
    with path.open("rb") as f:
        pixels = images.load(f, work_size=settings.LIVENESS_FRAME_SIZE, exact=True).pixels
    if scale != 1.0:
        image = Image.fromarray(pixels)
        pixels = np.asarray(image.resize((int(image.width * scale), int(image.height * scale))))
    return pixels


def bursts_of(case: Case) -> list[list[np.ndarray]]:
    files = frame_files(case.folder)
    return [[decode(files[i], scale=case.scale) for i in range(start, end)] for start, end in case.bursts]


def burst_files(case: Case) -> list[list[Path]]:
    files = frame_files(case.folder)
    return [files[start:end] for start, end in case.bursts]


def card_image(face: Path | Image.Image, *, nik: str = "3273015708950001", print_nik: bool = True) -> Image.Image:
    """A KTP drawn with Pillow: blue card, its printed fields in a plain
    font at a KTP's proportions, the face photo pasted where a KTP has it."""
    card = Image.new("RGB", (1012, 638), (140, 190, 230))
    draw = ImageDraw.Draw(card)
    heading, field = ImageFont.load_default(size=30), ImageFont.load_default(size=26)
    draw.text((300, 18), "PROVINSI JAWA BARAT", fill=(0, 0, 0), font=heading)
    draw.text((360, 55), "KOTA BANDUNG", fill=(0, 0, 0), font=heading)
    if print_nik:
        draw.text((40, 110), "NIK : " + nik, fill=(0, 0, 0), font=ImageFont.load_default(size=34))
    lines = [
        "Nama : SITI AMINAH",
        "Tempat/Tgl Lahir : BANDUNG, 17-08-1995",
        "Jenis Kelamin : PEREMPUAN",
        "Alamat : JL. MERDEKA 10",
    ]
    for i, line in enumerate(lines):
        draw.text((40, 170 + 42 * i), line, fill=(0, 0, 0), font=field)
    portrait = face.copy() if isinstance(face, Image.Image) else Image.open(face)
    portrait = portrait.convert("RGB")
    portrait.thumbnail((240, 300))
    card.paste(portrait, (740, 130))
    return card

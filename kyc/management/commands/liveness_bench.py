"""Benchmark of the camera (liveness) check beside a plain selfie check, in
one run, on one core (BLAS and Tesseract limited to one thread,
re-executing if needed), on the real sequences of ../shared/liveness.

    python manage.py liveness_bench [--rounds N]

For each capture: the frames as the page sends them (JPEG, packed as the
submission keeps them), then what a check does with them: decode, find the
face and its 68 landmarks in every frame, pose (EAR, yaw), the encodings of
the best frame per action, and the match to a KTP encoding. The plain
check: one uploaded selfie decoded, its face found (up to four rotations)
and encoded, and matched to the same KTP encoding. The KTP photo's own cost
(decode, face, OCR), the same for both, is printed apart. Aim: a liveness
check under 1 s per core.
"""

import io
import os
import statistics
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

CAPTURES = [
    # (label, folder, bursts, actions): the genuine cases of kyc.samples, and
    # one cut as a live site's challenge is: three actions of about 12 frames.
    ("grid 2 x blink (40 frames)", "grid_bbaf2n_blink", ((0, 24), (24, 40)), ("blink", "blink")),
    ("openmpf turn (15 frames)", "openmpf_video01_woman_crop", ((0, 15),), ("turn_right",)),
    (
        "pexels turn+2 blinks (32 frames)",
        "pexels_wolfganglanger_headturn_blink",
        ((0, 10), (10, 18), (18, 32)),
        ("turn_left", "blink", "blink"),
    ),
    (
        "pexels 3 actions, 11-12 frames (35)",
        "pexels_wolfganglanger_headturn_blink",
        ((0, 11), (11, 23), (23, 35)),
        ("turn_left", "blink", "blink"),
    ),
]


class Command(BaseCommand):
    help = "Cost of one liveness check per core, beside a plain selfie check."

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=3)

    def handle(self, *args, rounds=3, **options):
        if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
            os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", OMP_THREAD_LIMIT="1")
            os.execv(sys.executable, [sys.executable, *sys.argv])  # noqa: S606 - the same command again
        from PIL import Image

        from kyc import capture, faces, images, ktp, liveness, samples

        out = self.stdout.write
        faces_dir = settings.KYC_TEST_FACES_DIR
        selfie_bytes = (faces_dir / "obama2.jpg").read_bytes()
        card = io.BytesIO()
        with Image.open(faces_dir / "obama.jpg") as face:
            samples.card_image(face.convert("RGB")).save(card, format="JPEG", quality=88)
        card_bytes = card.getvalue()

        def ktp_part():
            picture = images.load(io.BytesIO(card_bytes))
            found, pixels, _turns = faces.find_faces_upright(picture.pixels)
            portrait = max(found, key=lambda f: f.area)
            started = time.perf_counter()
            ktp.read(pixels, portrait)
            return portrait.encoding, time.perf_counter() - started

        ktp_part()  # warm up: models loaded, Tesseract's data read
        ktp_times, ocr_times = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            ktp_encoding, ocr = ktp_part()
            ktp_times.append(time.perf_counter() - started)
            ocr_times.append(ocr)

        def plain():
            photo = images.load(io.BytesIO(selfie_bytes))
            found, _pixels, _turns = faces.find_faces_upright(photo.pixels)
            return faces.distance(found[0].encoding, ktp_encoding)

        packed = {}
        for label, folder, bursts, _actions in CAPTURES:
            files = samples.frame_files(folder)
            packed[label] = capture.pack([[files[i].read_bytes() for i in range(a, b)] for a, b in bursts])

        def live(label, actions):
            frames = capture.unpack(io.BytesIO(packed[label]))
            result = liveness.analyse(frames, list(actions))
            distance = faces.distance(result.encoding, ktp_encoding) if result.passed else None
            return result, distance

        out(f"Liveness benchmark: one core, {rounds} rounds each, frames measured at {settings.LIVENESS_FRAME_SIZE}px")
        plain()
        plain_times = []
        for _ in range(rounds):
            started = time.perf_counter()
            plain()
            plain_times.append(time.perf_counter() - started)
        plain_s = statistics.median(plain_times)
        out(f"\n{'check':38}{'frames':>7}{'median s':>10}{'landmarks':>10}{'encodings':>10}{'x plain':>9}  verdict")
        out(f"{'plain selfie (obama2.jpg, 626x1200)':38}{1:>7}{plain_s:>10.3f}{'':>10}{'':>10}{1:>9.2f}")
        worst = 0.0
        for label, _folder, bursts, actions in CAPTURES:
            live(label, actions)
            times, result = [], None
            for _ in range(rounds):
                started = time.perf_counter()
                result, _distance = live(label, actions)
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            worst = max(worst, median)
            frames = sum(b - a for a, b in bursts)
            verdict = "passed" if result.passed else f"refused ({result.reason_code})"
            out(
                f"{label:38}{frames:>7}{median:>10.3f}{result.timings.get('landmarks', 0):>10.3f}"
                f"{result.timings.get('encodings', 0):>10.3f}{median / plain_s:>9.2f}  {verdict}"
            )
        out(
            f"\nKTP photo (both kinds of check): {statistics.median(ktp_times):.3f} s, "
            f"of which OCR {statistics.median(ocr_times):.3f} s"
        )
        out(f"slowest liveness check: {worst:.3f} s per core (aim under 1 s): {'met' if worst < 1 else 'NOT met'}")

"""Benchmark of the identity check, on the photos of KYC_TEST_FACES_DIR.

    python manage.py kyc_bench [--rounds N] [--skip-task]

Prints, on one core (BLAS limited to one thread, re-executing if needed):
- verifications per second of the pipeline (check_photos: decode, EXIF,
  scale, detect, encode, compare) and of bare face_recognition calls on the
  same images: as naively written (load_image_file, default upsampling) and
  on the pipeline's own working-size pixels with its detector settings,
  whose ratio is the pipeline's overhead;
- the whole Celery task body (kyc_process: claim, check, 1:N search,
  writes) on the configured database, inside a transaction rolled back;
- the time for a 12-megapixel selfie;
- 1:N search against 10,000, 100,000 and 1,000,000 synthetic encodings,
  median and 95th percentile, with the index's memory.

The "KTP" of each pair is a plain photo, so the pipeline stops at the card
check (kyc/ktp.py), after both faces are found and encoded, and reads no
text; `manage.py liveness_bench` prints the cost of reading a KTP card.
"""

import io
import os
import resource
import statistics
import sys
import time

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand

PAIRS = [
    ("obama.jpg", "obama2.jpg"),
    ("obama3.jpg", "obama2.jpg"),
    ("obama.jpg", "biden.jpg"),
    ("obama2.jpg", "obama_small.jpg"),
    ("obama.jpg", "obama2_rgba.png"),
]


def _rate(fn, rounds: int) -> float:
    fn()  # warm up (model loading)
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return rounds * len(PAIRS) / (time.perf_counter() - start)


class Command(BaseCommand):
    help = "Speed and memory figures of the KYC check and the 1:N index."

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--skip-task", action="store_true", help="leave out the database-backed task")
        parser.add_argument("--sizes", default="10000,100000,1000000")

    def handle(self, *args, rounds=3, skip_task=False, sizes="", **options):
        if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
            # One core: BLAS must not spread the 1:N product over both.
            os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
            os.execv(sys.executable, [sys.executable, *sys.argv])  # noqa: S606 - the same command again
        import face_recognition

        from kyc import faces, images
        from kyc.services import check_photos

        root = settings.KYC_TEST_FACES_DIR
        data = {name: (root / name).read_bytes() for pair in PAIRS for name in pair}
        out = self.stdout.write
        out(
            f"KYC benchmark, one core, {len(PAIRS)} photo pairs x {rounds} rounds, work size {settings.KYC_WORK_SIZE}px"
        )

        def pipeline():
            for ktp, selfie in PAIRS:
                check_photos(ktp_photo=io.BytesIO(data[ktp]), selfie=io.BytesIO(data[selfie]))

        def bare_naive():
            for ktp, selfie in PAIRS:
                encodings = []
                for name in (ktp, selfie):
                    image = face_recognition.load_image_file(io.BytesIO(data[name]))
                    found = face_recognition.face_encodings(image, face_recognition.face_locations(image))
                    encodings.append(found[0])
                face_recognition.face_distance([encodings[0]], encodings[1])

        def bare_files_same_settings():
            for ktp, selfie in PAIRS:
                encodings = []
                for name in (ktp, selfie):
                    image = face_recognition.load_image_file(io.BytesIO(data[name]))
                    locations = face_recognition.face_locations(image, number_of_times_to_upsample=0)
                    encodings.append(face_recognition.face_encodings(image, known_face_locations=locations)[0])
                face_recognition.face_distance([encodings[0]], encodings[1])

        pixels = {name: images.load(io.BytesIO(raw)).pixels for name, raw in data.items()}

        def bare_same_pixels():
            for ktp, selfie in PAIRS:
                encodings = []
                for name in (ktp, selfie):
                    image = pixels[name]
                    locations = face_recognition.face_locations(image, number_of_times_to_upsample=0)
                    encodings.append(face_recognition.face_encodings(image, known_face_locations=locations)[0])
                face_recognition.face_distance([encodings[0]], encodings[1])

        rate_pipeline = _rate(pipeline, rounds)
        rate_same = _rate(bare_same_pixels, rounds)
        rate_files = _rate(bare_files_same_settings, rounds)
        rate_naive = _rate(bare_naive, rounds)
        out(f"  pipeline (check_photos)                               {rate_pipeline:6.2f} verifications/s")
        out(f"  bare, decoded working-size pixels, same detector      {rate_same:6.2f} verifications/s")
        out(f"  bare, whole files (load_image_file), same detector    {rate_files:6.2f} verifications/s")
        out(f"  bare, whole files, library defaults (upsample 1)      {rate_naive:6.2f} verifications/s")
        out(
            f"  pipeline time / bare time: {rate_same / rate_pipeline:.2f} against bare on already decoded pixels "
            f"(the difference is decoding the files), {rate_files / rate_pipeline:.2f} against bare on the same "
            f"files, {rate_naive / rate_pipeline:.2f} against the library defaults"
        )

        if not skip_task:
            rate_task = self._task_rate(data, rounds)
            out(f"  whole task (kyc_process) on the database              {rate_task:6.2f} verifications/s")

        # A 12-megapixel phone selfie.
        from PIL import Image

        with Image.open(io.BytesIO(data["obama2.jpg"])) as im:
            big = im.convert("RGB").resize((3000, 4000), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        big.save(buf, format="JPEG", quality=90)
        twelve = buf.getvalue()
        times = []
        for _ in range(5):
            start = time.perf_counter()
            found = faces.find_faces(images.load(io.BytesIO(twelve)).pixels)
            times.append(time.perf_counter() - start)
        assert len(found) == 1
        out(
            f"  12-megapixel selfie ({len(twelve) / 1e6:.1f} MB JPEG): decode + detect + encode "
            f"median {statistics.median(times) * 1000:.0f} ms"
        )

        self._index_bench([int(s) for s in sizes.split(",") if s])

    def _task_rate(self, data: dict[str, bytes], rounds: int) -> float:
        """kyc_process on real rows, all inside one transaction that is
        rolled back (and the stored photos deleted) at the end."""
        import datetime

        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.db import transaction
        from django.utils import timezone

        from accounts.models import Participant, User
        from accounts.nik import compose_nik
        from accounts.services.registration import ProfileInput, participant_register
        from kyc.models import KycSubmission
        from kyc.services import kyc_process, kyc_submit

        class _Rollback(Exception):
            pass

        elapsed, count, serial = 0.0, 0, 9000
        try:
            with transaction.atomic():
                for _ in range(rounds):
                    for ktp, selfie in PAIRS:
                        serial += 1
                        born = datetime.date(1990, 1, 1)
                        user = User.objects.create_user(email=f"kyc-bench-{serial}@example.invalid")
                        participant = participant_register(
                            user=user,
                            profile=ProfileInput(
                                full_name="PESERTA UJI",
                                nik=compose_nik(region="327301", birth_date=born, gender="M", serial=serial),
                                kk_number=f"3171{serial:012d}",
                                birth_place="Bandung",
                                birth_date=born,
                                gender="M",
                                phone=f"0812{serial:08d}",
                                address="Jl. Uji 1",
                                education="sma",
                                employment_status="unemployed",
                            ),
                        )
                        # Phone verification needs a code from an SMS; skipped here, rolled back below.
                        Participant.objects.filter(pk=participant.pk).update(
                            status=Participant.Status.PROFILE_COMPLETE, phone_verified_at=timezone.now()
                        )
                        participant.refresh_from_db()
                        submission = kyc_submit(
                            participant=participant,
                            ktp_photo=SimpleUploadedFile(ktp, data[ktp]),
                            selfie=SimpleUploadedFile(selfie, data[selfie]),
                        )
                        start = time.perf_counter()
                        kyc_process(submission_id=submission.pk)
                        elapsed += time.perf_counter() - start
                        count += 1
                        stored = KycSubmission.objects.get(pk=submission.pk)
                        stored.ktp_photo.delete(save=False)
                        stored.selfie.delete(save=False)
                raise _Rollback
        except _Rollback:
            pass
        return count / elapsed

    def _index_bench(self, sizes: list[int]) -> None:
        from kyc.index import BruteForceIndex

        out = self.stdout.write
        rng = np.random.default_rng(42)
        for n in sizes:
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            index = BruteForceIndex(capacity=n)
            chunk = 100_000
            for start in range(0, n, chunk):
                size = min(chunk, n - start)
                vectors = rng.normal(0.0, 0.09, size=(size, 128)).astype(np.float32)
                index.add(np.arange(start, start + size), vectors)
            queries = rng.normal(0.0, 0.09, size=(60, 128))
            times = []
            for q in queries:
                start = time.perf_counter()
                index.search(q, k=5, exclude=7)
                times.append(time.perf_counter() - start)
            times = sorted(times[10:])
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            out(
                f"  1:N search over {n:>9,} encodings: median {statistics.median(times) * 1000:6.2f} ms, "
                f"p95 {times[int(len(times) * 0.95) - 1] * 1000:6.2f} ms; index {index.nbytes / 1e6:6.1f} MB, "
                f"peak RSS +{(rss_after - rss_before) / 1024:6.1f} MB"
            )
            del index

"""Builds the approximate face index (kyc.ann) from every face template, to
FACE_INDEX_PATH (or --path), replacing the previous build whole. Run it on a
schedule (nightly): searches cover the templates accepted after the build
exactly, so the index may lag without missing a face."""

import time

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kyc.ann import AnnIndex
from kyc.models import FaceTemplate


class Command(BaseCommand):
    help = "Build the approximate 1:N face index from the face templates."

    def add_arguments(self, parser):
        parser.add_argument("--path", help="where to write it (default FACE_INDEX_PATH)")

    def handle(self, *args, path=None, **options):
        from pathlib import Path

        target = Path(path) if path else settings.FACE_INDEX_PATH
        if target is None:
            raise CommandError("Set FACE_INDEX_PATH (or give --path).")
        started = time.perf_counter()
        last_id = FaceTemplate.objects.order_by("-id").values_list("id", flat=True).first() or 0
        keys, vectors = [], []
        rows = FaceTemplate.objects.filter(id__lte=last_id).values_list("participant_id", "encoding")
        for participant_id, encoding in rows.iterator(chunk_size=10_000):
            keys.append(participant_id)
            vectors.append(np.frombuffer(bytes(encoding), dtype=np.float64))
        matrix = np.stack(vectors).astype(np.float32) if vectors else np.empty((0, 128), dtype=np.float32)
        index = AnnIndex.build(np.array(keys, dtype=np.uint64), matrix)
        index.save(target, last_id=last_id)
        self.stdout.write(
            f"face index: {len(index):,} templates (up to id {last_id}) in {time.perf_counter() - started:.1f} s, "
            f"{target.stat().st_size / 1e6:.1f} MB at {target}"
        )

"""Prints face distances and the decisions they lead to, for a folder of
labelled photos, to choose the KYC thresholds.

    python manage.py kyc_calibrate [FOLDER]

Each photo's person is the leading letters of its file name (obama2.jpg ->
obama), or the second column of FOLDER/labels.csv (file,person) if present.
Photos without exactly one face are listed and left out.
"""

import csv
import itertools
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kyc import faces, images
from kyc.services import face_decision as decision


class Command(BaseCommand):
    help = "Distances and decisions for a folder of labelled face photos."

    def add_arguments(self, parser):
        parser.add_argument("folder", nargs="?", default=None, help="default: settings.KYC_TEST_FACES_DIR")

    def handle(self, *args, folder=None, **options):
        root = Path(folder or settings.KYC_TEST_FACES_DIR)
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder")
        labels = {}
        if (root / "labels.csv").is_file():
            with (root / "labels.csv").open(newline="") as f:
                labels = {row[0]: row[1] for row in csv.reader(f) if len(row) >= 2}
        encodings = {}
        for path in sorted(p for p in root.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".heic"}):
            try:
                with path.open("rb") as f:
                    found = faces.find_faces(images.load(f).pixels)
            except images.PhotoRefused as exc:
                self.stdout.write(f"skip {path.name}: {exc.code}")
                continue
            if len(found) != 1:
                self.stdout.write(f"skip {path.name}: {len(found)} faces")
                continue
            person = labels.get(path.name) or re.match(r"[A-Za-z]*", path.stem).group(0).lower()
            encodings[path.name] = (person, found[0].encoding)

        s = settings
        self.stdout.write(
            f"\nthresholds: verified <= {s.KYC_MATCH_THRESHOLD}, rejected > {s.KYC_REJECT_THRESHOLD}, "
            f"duplicate <= {s.KYC_DUPLICATE_THRESHOLD}, same photo <= {s.KYC_SAME_PHOTO_THRESHOLD}\n"
        )
        self.stdout.write(f"{'photo A':26}{'photo B':26}{'distance':>9}  {'truth':9} decision")
        same, different, errors = [], [], []
        for (a, (pa, ea)), (b, (pb, eb)) in itertools.combinations(encodings.items(), 2):
            d = faces.distance(ea, eb)
            truth = "same" if pa == pb else "different"
            verdict = decision(d)
            note = "  (same photo?)" if d <= s.KYC_SAME_PHOTO_THRESHOLD else ""
            self.stdout.write(f"{a:26}{b:26}{d:9.3f}  {truth:9} {verdict}{note}")
            (same if truth == "same" else different).append(d)
            if (truth == "same" and verdict == "rejected") or (truth == "different" and verdict == "verified"):
                errors.append((a, b))
        self.stdout.write("")
        if same:
            self.stdout.write(f"same person:      {len(same)} pairs, distance {min(same):.3f} to {max(same):.3f}")
        if different:
            self.stdout.write(
                f"different people: {len(different)} pairs, distance {min(different):.3f} to {max(different):.3f}"
            )
        reviews = sum(decision(d) == "review" for d in same + different)
        self.stdout.write(f"wrong decisions: {len(errors)}; sent to review: {reviews}")
        for a, b in errors:
            self.stdout.write(f"  WRONG: {a} / {b}")

"""Showing identity photos to their owner and reviewers (logged), and
deleting them after the retention time."""

import datetime
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from prakerja import ratelimit

from ..models import (
    FINAL_STATUSES,
    KycPhotoLog,
    KycSubmission,
)

OWNER_PHOTO_VIEWS_PER_HOUR = 60


def kyc_photo_open(*, submission: KycSubmission, photo: str, viewer: User):
    """The photo file for its owner or a KYC reviewer; a reviewer's look is
    logged. Anyone else gets PermissionDenied."""
    if photo not in ("ktp", "selfie", "frames"):
        raise PermissionDenied
    is_owner = submission.participant.user_id == viewer.pk
    if not is_owner and not viewer.has_perm("kyc.view_kyc_photos"):
        raise PermissionDenied
    field_file = {"ktp": submission.ktp_photo, "selfie": submission.selfie, "frames": submission.liveness_frames}[photo]
    if submission.photos_deleted_at is not None or not field_file:
        return None
    # Each view decodes the original again; an owner has no need for many.
    if is_owner and not ratelimit.hit(f"kyc-photo:{viewer.pk}", limit=OWNER_PHOTO_VIEWS_PER_HOUR, window_seconds=3600):
        raise PermissionDenied
    if not is_owner:
        KycPhotoLog.objects.create(submission=submission, action=KycPhotoLog.Action.VIEWED, photo=photo, by=viewer)
    return field_file.open("rb")


def kyc_purge_photos(*, now: datetime.datetime | None = None) -> int:
    """Deletes the raw photos of cases decided more than
    KYC_PHOTO_RETENTION_DAYS ago; encodings and the record stay."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.KYC_PHOTO_RETENTION_DAYS)
    due = KycSubmission.objects.filter(
        status__in=FINAL_STATUSES, decided_at__lt=cutoff, photos_deleted_at__isnull=True
    ).values_list("pk", flat=True)
    purged = 0
    for pk in list(due):
        with transaction.atomic():
            submission = KycSubmission.objects.select_for_update().get(pk=pk)
            if submission.photos_deleted_at is not None:
                continue
            names = {"ktp_photo": "ktp", "selfie": "selfie", "liveness_frames": "frames"}
            for name, label in names.items():
                field_file = getattr(submission, name)
                if field_file:
                    field_file.delete(save=False)
                    KycPhotoLog.objects.create(submission=submission, action=KycPhotoLog.Action.DELETED, photo=label)
            submission.photos_deleted_at = now
            submission.save(update_fields=[*names, "photos_deleted_at"])
            purged += 1
    return purged

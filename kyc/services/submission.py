"""Submitting the identity photos (a new attempt), and the words each
decision's reason is shown in."""

import uuid
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Participant
from prakerja import ratelimit
from prakerja.lifecycle import record_created

from .. import capture, images, liveness
from ..models import KycSubmission, LivenessChallenge
from ..tasks import run_kyc_check
from .liveness import liveness_challenge_use

Status = KycSubmission.Status

REASONS = {
    "empty": gettext_lazy("A photo file was empty. Choose the photos again."),
    "too_large": gettext_lazy("A photo is too large. Take it again at a lower resolution."),
    "too_many_pixels": gettext_lazy("A photo has too many pixels. Take it again at a lower resolution."),
    "not_an_image": gettext_lazy("A file is not a photo we can read. Send JPEG, PNG or HEIC photos."),
    "selfie_no_face": gettext_lazy(
        "We found no face in your selfie. Take it facing the camera, in good light, without a mask, hat or sunglasses."
    ),
    "selfie_many_faces": gettext_lazy("Your selfie shows more than one face. Take it with nobody else in the picture."),
    "selfie_face_cut": gettext_lazy(
        "Your face is not fully inside the selfie. Hold the phone further away so your whole face shows."
    ),
    "ktp_no_face": gettext_lazy(
        "We found no photo of a face on your KTP picture. Photograph the whole card, flat, in good light and "
        "without glare."
    ),
    "face_mismatch": gettext_lazy(
        "The face in your selfie does not match the photo on your KTP. Take a new selfie of yourself; the KTP "
        "must be your own."
    ),
    "check_failed": gettext_lazy("The automatic check could not finish; a reviewer will look at your photos."),
    "ktp_not_card": gettext_lazy(
        "Your KTP picture does not look like an ID card: the face is too big. Photograph the whole KTP card, "
        "flat, not a selfie or a portrait."
    ),
    **liveness.REASONS,
    "nik_not_in_registry": gettext_lazy(
        "Your NIK was not found in the population registry (Dukcapil). Check your NIK at the Dukcapil office "
        "of your regency or city."
    ),
}


# Refusals that are the file's fault, not the person's: they do not use up
# one of KYC_MAX_ATTEMPTS (KYC_MAX_SUBMISSIONS_PER_DAY bounds them).
FILE_FAULTS = frozenset({"selfie_no_face", "ktp_no_face", "ktp_not_card", "liveness_no_face", "liveness_face_small"})


def reason_text(code: str) -> str:
    return str(REASONS.get(code, code))


@dataclass
class LiveCapture:
    """What the camera check sends: the challenge's nonce and the frames
    taken for each of its actions, in order."""

    nonce: str
    bursts: list[list]


def attempts_used(participant: Participant) -> int:
    return participant.kyc_submissions.filter(counted=True).count()


def can_submit(participant: Participant) -> tuple[bool, str]:
    """Whether the participant may send photos now, and if not, why."""
    if participant.status == Participant.Status.REGISTERED:
        return False, _("Verify your mobile number first.")
    if participant.status != Participant.Status.PROFILE_COMPLETE:
        return False, _("Your identity is already verified.")
    latest = participant.kyc_submissions.order_by("-attempt").first()
    if latest is None:
        return True, ""
    if latest.status != Status.REJECTED:
        return False, _("Your photos are being checked. You will be told the result here and by email.")
    if attempts_used(participant) >= settings.KYC_MAX_ATTEMPTS:
        return False, _("You have used all your attempts. A reviewer will contact you.")
    return True, ""


def kyc_submit(
    *, participant: Participant, ktp_photo: BinaryIO, selfie: BinaryIO | None = None, live: LiveCapture | None = None
) -> KycSubmission:
    """Stores the KTP photo and either the camera check's frames (``live``)
    or an uploaded selfie (no liveness: a reviewer decides), and queues the
    check. Files that are no usable photo, and a camera check that is not
    this participant's, already used or late, are refused at once, before an
    attempt is counted."""
    uploads = (("ktp_photo", ktp_photo),) if live is not None else (("ktp_photo", ktp_photo), ("selfie", selfie))
    errors = {}
    for name, upload in uploads:
        if upload is None:
            errors[name] = [ValidationError(_("Choose a photo."), code="required")]
            continue
        try:
            images.inspect(upload)
        except images.PhotoRefused as exc:
            errors[name] = [ValidationError(exc.message, code=exc.code)]
    if errors:
        raise ValidationError(errors)
    frames = None
    if live is not None:
        try:
            frames = capture.read_frames(live.bursts)  # decoded before any lock is taken
        except capture.CaptureRefused as exc:
            raise ValidationError(exc.message, code=exc.code) from None
    if not ratelimit.hit(
        f"kyc-submit:{participant.pk}", limit=settings.KYC_MAX_SUBMISSIONS_PER_DAY, window_seconds=86400
    ):
        raise ValidationError(_("You sent photos too many times today. Try again tomorrow."), code="rate_limited")
    saved: list[str] = []
    try:
        with transaction.atomic():
            locked = Participant.objects.select_for_update().get(pk=participant.pk)
            allowed, why = can_submit(locked)
            if not allowed:
                raise ValidationError(why, code="not_allowed")
            attempt = (locked.kyc_submissions.order_by("-attempt").values_list("attempt", flat=True).first() or 0) + 1
            submission = KycSubmission(participant=locked, attempt=attempt)
            if live is not None:
                # Before any file is stored: a refusal here leaves nothing behind.
                challenge = liveness_challenge_use(
                    participant=locked, nonce=live.nonce, purpose=LivenessChallenge.Purpose.KYC
                )
                try:
                    frames = capture.fit(frames, challenge.actions)
                except capture.CaptureRefused as exc:
                    raise ValidationError(exc.message, code=exc.code) from None
                submission.challenge = challenge
            submission.ktp_photo.save(uuid.uuid4().hex, File(ktp_photo), save=False)
            saved.append(submission.ktp_photo.name)
            if live is not None:
                submission.liveness_frames.save(uuid.uuid4().hex, ContentFile(capture.pack(frames)), save=False)
                saved.append(submission.liveness_frames.name)
                # Until the check picks the matched frame: a frame of the first action.
                first = frames[0]
                submission.selfie.save(uuid.uuid4().hex, ContentFile(first[len(first) // 2]), save=False)
            else:
                submission.selfie.save(uuid.uuid4().hex, File(selfie), save=False)
            saved.append(submission.selfie.name)
            submission.save()
            record_created(submission, Status.SUBMITTED, by=locked.user)
            transaction.on_commit(lambda: run_kyc_check.delay(submission.pk))
    except BaseException:
        storage = KycSubmission.ktp_photo.field.storage
        for name in saved:  # the rows rolled back: no identity photo left behind
            storage.delete(name)
        raise
    return submission

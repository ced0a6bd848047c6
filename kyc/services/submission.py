"""Submitting the identity photos (a new attempt), and the words each
decision's reason is shown in."""

import uuid
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Participant
from prakerja.lifecycle import record_created

from .. import images
from ..models import KycSubmission
from ..tasks import run_kyc_check

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
    "nik_not_in_registry": gettext_lazy(
        "Your NIK was not found in the population registry (Dukcapil). Check your NIK at the Dukcapil office "
        "of your regency or city."
    ),
}


def reason_text(code: str) -> str:
    return str(REASONS.get(code, code))


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
    if latest.attempt >= settings.KYC_MAX_ATTEMPTS:
        return False, _("You have used all your attempts. A reviewer will contact you.")
    return True, ""


def kyc_submit(*, participant: Participant, ktp_photo: BinaryIO, selfie: BinaryIO) -> KycSubmission:
    """Stores the KTP photo and selfie and queues the check. Files that are
    no usable photo are refused at once, before an attempt is counted."""
    errors = {}
    for name, upload in (("ktp_photo", ktp_photo), ("selfie", selfie)):
        if upload is None:
            errors[name] = [ValidationError(_("Choose a photo."), code="required")]
            continue
        try:
            images.inspect(upload)
        except images.PhotoRefused as exc:
            errors[name] = [ValidationError(exc.message, code=exc.code)]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        allowed, why = can_submit(locked)
        if not allowed:
            raise ValidationError(why, code="not_allowed")
        attempt = (locked.kyc_submissions.order_by("-attempt").values_list("attempt", flat=True).first() or 0) + 1
        submission = KycSubmission(participant=locked, attempt=attempt)
        submission.ktp_photo.save(uuid.uuid4().hex, File(ktp_photo), save=False)
        submission.selfie.save(uuid.uuid4().hex, File(selfie), save=False)
        submission.save()
        record_created(submission, Status.SUBMITTED, by=locked.user)
        transaction.on_commit(lambda: run_kyc_check.delay(submission.pk))
    return submission

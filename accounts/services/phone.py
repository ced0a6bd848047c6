"""Verifying and changing the participant's mobile number with a code by SMS."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    Participant,
)
from ..phone import clean_mobile
from . import otp
from .registration import _duplicate_phone_error
from .status import _transition


def _phone_verified_elsewhere(phone: str, participant_pk: int) -> bool:
    return Participant.objects.filter(phone=phone, phone_verified_at__isnull=False).exclude(pk=participant_pk).exists()


def participant_send_phone_code(*, participant: Participant) -> None:
    """Sends a code to the participant's mobile number as it is now."""
    current = Participant.objects.only("phone", "phone_verified_at").get(pk=participant.pk)
    if current.phone_verified_at is not None:
        raise ValidationError(_("Your mobile number is already verified."), code="already_verified")
    if _phone_verified_elsewhere(current.phone, participant.pk):
        raise _duplicate_phone_error()
    otp.otp_send(user=participant.user, phone=current.phone, purpose=otp.PHONE_VERIFICATION)


def participant_verify_phone(*, participant: Participant, code: str) -> Participant:
    """Checks the code; a right one marks the phone verified and the profile
    complete. The code must have been sent to the number the participant has
    when the change is saved, and no one else may have verified that number."""
    current = Participant.objects.only("phone", "phone_verified_at").get(pk=participant.pk)
    if current.phone_verified_at is not None:
        raise ValidationError(_("Your mobile number is already verified."), code="already_verified")
    # Its own transaction: a wrong guess must stay counted.
    used = otp.otp_verify(user=participant.user, phone=current.phone, purpose=otp.PHONE_VERIFICATION, code=code)
    try:
        with transaction.atomic():
            locked = Participant.objects.select_for_update().get(pk=participant.pk)
            if locked.phone != used.phone:
                raise ValidationError(
                    _("Your mobile number changed after the code was sent. Ask for a new code."),
                    code="otp_none",
                )
            if locked.phone_verified_at is None:
                if _phone_verified_elsewhere(locked.phone, locked.pk):
                    raise _duplicate_phone_error()
                locked.phone_verified_at = timezone.now()
                locked.save(update_fields=["phone_verified_at", "updated_at"])
                if locked.status == Participant.Status.REGISTERED:
                    _transition(
                        participant=locked,
                        to=Participant.Status.PROFILE_COMPLETE,
                        by=locked.user,
                        reason="mobile number verified",
                    )
    except IntegrityError:
        # Someone else verified the same number at the same moment.
        raise _duplicate_phone_error() from None
    return locked


def participant_change_phone(*, participant: Participant, phone: str) -> Participant:
    """Before it is verified, a participant may correct their mobile number
    (an operator may have typed it wrong)."""
    try:
        number = clean_mobile(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.error_list}) from None
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.phone_verified_at is not None:
            raise ValidationError(
                _("Your mobile number is verified; contact the help desk to change it."),
                code="already_verified",
            )
        if locked.phone == number:
            return locked
        if _phone_verified_elsewhere(number, locked.pk):
            raise _duplicate_phone_error()
        locked.phone = number
        locked.save(update_fields=["phone", "updated_at"])
        return locked

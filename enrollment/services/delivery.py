"""The institution's side of a purchase: redeeming the voucher when the
participant starts, and reporting the completion that makes the price
payable."""

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import User
from catalog.models import Institution
from payments.services import ledger_post
from prakerja import ratelimit
from prakerja.inputs import field_refusal

from ..models import (
    Card,
    Enrollment,
)
from .attendance_rule import attendance_missing
from .cards import card_complete_if_used_up
from .purchases import _move, voucher_normalise

S = Enrollment.Status


def _scope(user: User | None, institution_id: int | None):
    """Whose institutions: the staff member's on the pages, the one API
    client's institution through the API (exactly one of the two)."""
    if (user is None) == (institution_id is None):
        raise TypeError("give the staff user or the API client's institution")
    if user is not None:
        return Institution.objects.filter(staff=user)
    return Institution.objects.filter(pk=institution_id)


def _institution_enrollment(institutions, **lookup) -> Enrollment:
    """An enrolment of one of these institutions; anything else reads as not
    found, so codes and ids of others reveal nothing."""
    enrollment = Enrollment.objects.select_for_update().filter(institution__in=institutions, **lookup).first()
    if enrollment is None:
        raise ValidationError(_("No voucher of your institution has this code."), code="voucher_unknown")
    return enrollment


def _redeemable(institutions, voucher_code: str, limit_key: str) -> Enrollment:
    """The enrolment a voucher code names, if one of ``institutions`` may
    redeem it now; locked when called inside a transaction."""
    code = voucher_normalise(voucher_code)
    if not code:
        raise field_refusal("voucher_code", _("Enter the voucher code."), "empty")
    # Only unknown codes count: a class of a hundred starts without trouble,
    # guessing stops after a few dozen tries.
    limit_key = f"redeem-miss:{limit_key}"
    if not ratelimit.peek(limit_key, limit=settings.VOUCHER_REDEEM_ATTEMPTS_PER_HOUR):
        raise ValidationError(_("Too many voucher codes were tried. Try again in an hour."), code="rate_limited")
    try:
        enrollment = _institution_enrollment(institutions, voucher_code=code)
    except ValidationError as exc:
        ratelimit.hit(limit_key, limit=settings.VOUCHER_REDEEM_ATTEMPTS_PER_HOUR, window_seconds=3600)
        raise field_refusal("voucher_code", exc.messages, exc.code) from None
    if enrollment.status == S.REDEEMED or enrollment.redeemed_at is not None:
        raise field_refusal("voucher_code", _("This voucher has already been used."), "used")
    if enrollment.status != S.AUTHORISED:
        message = _("This voucher is no longer valid (%(status)s).") % {"status": enrollment.get_status_display()}
        raise field_refusal("voucher_code", message, "invalid")
    if enrollment.voucher_expires_at <= timezone.now():
        raise field_refusal("voucher_code", _("This voucher has expired."), "expired")
    return enrollment


def _limit_key(user: User | None, institution_id: int | None) -> str:
    return str(user.pk) if user is not None else f"institution-{institution_id}"


def _via(institution_id: int | None) -> str:
    return " through the API" if institution_id is not None else ""


def voucher_check(*, voucher_code: str, user: User | None = None, institution_id: int | None = None) -> Enrollment:
    """What a voucher code would start, before the staff confirm: the same
    refusals as redeeming it, and nothing changes."""
    with transaction.atomic():
        return _redeemable(_scope(user, institution_id), voucher_code, _limit_key(user, institution_id))


def enrollment_redeem(*, voucher_code: str, user: User | None = None, institution_id: int | None = None) -> Enrollment:
    """Institution staff (or their institution's API client) redeem a
    voucher when the participant starts: once, and only a voucher of their
    own institution."""
    with transaction.atomic():
        enrollment = _redeemable(_scope(user, institution_id), voucher_code, _limit_key(user, institution_id))
        enrollment.redeemed_at = timezone.now()
        _move(enrollment, S.REDEEMED, by=user, reason="voucher redeemed" + _via(institution_id))
        enrollment.save(update_fields=["status", "redeemed_at", "updated_at"])
    return enrollment


def enrollment_complete(
    *, enrollment_id: int, certificate, user: User | None = None, institution_id: int | None = None
) -> Enrollment:
    """Institution staff (or their institution's API client) report
    completion with the certificate; the held price is posted to the
    institution's payable account."""
    from ..certificates import certificate_check

    extension = certificate_check(certificate)
    saved = []
    try:
        return _complete(
            institutions=_scope(user, institution_id),
            by=user,
            via=_via(institution_id),
            enrollment_id=enrollment_id,
            certificate=certificate,
            extension=extension,
            saved=saved,
        )
    except BaseException:
        for name in saved:  # the transaction rolled back: no file left behind
            Enrollment.certificate.field.storage.delete(name)
        raise


def _digest(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(64 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _complete(
    *, institutions, by: User | None, via: str, enrollment_id: int, certificate, extension: str, saved: list
) -> Enrollment:
    with transaction.atomic():
        head = Enrollment.objects.filter(pk=enrollment_id, institution__in=institutions).only("card_id").first()
        if head is None:
            raise ValidationError(_("No enrolment of your institution has this number."), code="not_found")
        card = Card.objects.select_for_update().get(pk=head.card_id)
        enrollment = _institution_enrollment(institutions, pk=enrollment_id)
        if enrollment.status != S.REDEEMED:
            raise ValidationError(
                _("Only a course in progress can be completed; this one is %(status)s.")
                % {"status": enrollment.get_status_display()},
                code="not_in_progress",
            )
        ends_at = enrollment.revision.ends_at
        if ends_at is not None and timezone.now() < ends_at:
            # A webinar or class that has not taken place cannot have been
            # attended (the auditors' "training paid but not attended").
            raise ValidationError(
                _("This course ends on %(end)s; its completion can be reported after that.")
                % {"end": formats.date_format(timezone.localtime(ends_at), "DATETIME_FORMAT")},
                code="not_finished",
            )
        missing = attendance_missing(enrollment)
        if missing:
            # The auditors' "online training potentially fictitious": only
            # training whose every session was attended, face verified, ends.
            raise ValidationError(
                _("Attendance is not verified for session(s) %(sessions)s; completion waits for it.")
                % {"sessions": ", ".join(str(n) for n in missing)},
                code="attendance_not_met",
            )
        enrollment.completed_at = timezone.now()
        enrollment.certificate_name = f"sertifikat-{secrets.token_hex(8)}.{extension}"
        enrollment.certificate_sha256 = _digest(certificate)
        enrollment.certificate.save(enrollment.certificate_name, certificate, save=False)
        saved.append(enrollment.certificate.name)
        _move(enrollment, S.COMPLETED, by=by, reason="completed" + via)
        enrollment.save(
            update_fields=[
                "status",
                "completed_at",
                "certificate",
                "certificate_name",
                "certificate_sha256",
                "updated_at",
            ]
        )
        ledger_post(transfer=enrollment.hold)
        card_complete_if_used_up(card=card, min_price=settings.CATALOG_MIN_PRICE)
    return enrollment

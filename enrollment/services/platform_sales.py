"""Purchases made on a platform's own site, through its API (DESIGN.md
"The partners' interface"): ``send-otp`` checks the programme's rules and
texts the card holder a code, ``authorize`` confirms the purchase with that
code under the platform's invoice, ``void`` undoes it before redeem. The
rules are the web checkout's (purchases.py): one rule set.

A platform account (its user id) is tied to the participant who first buys
with it, and a participant has one account per platform, so one account
cannot buy with several people's cards (the auditors' jockeys)."""

import hashlib
import re
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Course
from prakerja.inputs import ascii_digits, field_refusal

from ..models import Card, Enrollment, PlatformAccount
from .purchases import _release, checkout_send_code, enrollment_request

S = Enrollment.Status
TOKEN_SALT = "enrollment.platform-checkout"
SCHEDULE_PATTERN = re.compile(r"^S(\d{1,12})-(\d{1,6})$")


def schedule_code(course_id: int, version: int) -> str:
    """A schedule's code: the course and the published version it runs
    (``S12-3``). A new version has a new code, so a platform holding an old
    one learns the course changed."""
    return f"S{course_id}-{version}"


def _card(card_number: str) -> Card:
    digits = "".join(ch for ch in ascii_digits(card_number or "") if ch in "0123456789")
    card = Card.objects.filter(number=digits).select_related("participant").first() if len(digits) == 16 else None
    if card is None:
        raise field_refusal("card_number", _("No Prakerja card has this number."), "card_unknown")
    return card


def _account_conflict(*, platform_id: int, platform_user_id: str, participant_id: int) -> bool:
    """Whether this platform account belongs to another participant, or the
    participant already buys through another account of this platform."""
    theirs = Q(platform_user_id=platform_user_id) & ~Q(participant_id=participant_id)
    another = Q(participant_id=participant_id) & ~Q(platform_user_id=platform_user_id)
    return PlatformAccount.objects.filter(Q(platform_id=platform_id) & (theirs | another)).exists()


def platform_checkout_send_code(
    *, platform_id: int, card_number: str, platform_user_id: str, course_id: int, schedule: str, amount: int
) -> dict:
    """Checks the purchase as the authorisation will, then texts the card
    holder the code that confirms it. Returns the payment token (valid as
    long as the code), its expiry and the masked number the code went to."""
    card = _card(card_number)
    course = Course.objects.filter(pk=course_id, platform_id=platform_id).select_related("published_revision").first()
    if course is None:
        raise field_refusal("course_id", _("This platform sells no course with this id."), "course_unknown")
    revision = course.published_revision
    if revision is None:
        raise ValidationError(_("This course is no longer on sale."), code="not_on_sale")
    match = SCHEDULE_PATTERN.match(schedule or "")
    if match is None or int(match.group(1)) != course.pk:
        raise field_refusal("schedule_code", _("This schedule code is not one of this course's."), "schedule_unknown")
    if int(match.group(2)) != revision.number:
        raise ValidationError(
            _("The course changed after you chose it. Look at it again before buying."), code="course_changed"
        )
    if amount != revision.price:
        raise field_refusal(
            "amount",
            _("The amount differs from the course's price (Rp %(price)s).")
            % {"price": f"{revision.price:,}".replace(",", ".")},
            "amount_mismatch",
        )
    participant = card.participant
    if _account_conflict(platform_id=platform_id, platform_user_id=platform_user_id, participant_id=participant.pk):
        raise field_refusal(
            "card_number", _("This card is tied to another account on this platform."), "card_not_yours"
        )
    checkout_send_code(participant=participant, course=course)
    token = signing.dumps(
        {"p": platform_id, "c": card.pk, "k": course.pk, "r": revision.pk, "u": platform_user_id}, salt=TOKEN_SALT
    )
    expires_at = timezone.now() + timedelta(seconds=settings.OTP_TTL_SECONDS)
    return {"payment_token": token, "expires_at": expires_at, "phone": participant.phone}


def _token(token: str, platform_id: int) -> dict:
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT, max_age=settings.OTP_TTL_SECONDS)
    except signing.SignatureExpired:
        raise field_refusal(
            "payment_token", _("This payment token has expired. Send a new code."), "token_expired"
        ) from None
    except signing.BadSignature:
        data = None
    if not isinstance(data, dict) or data.get("p") != platform_id:
        raise field_refusal("payment_token", _("This payment token is not valid."), "token_invalid")
    return data


def _invoice_taken() -> ValidationError:
    return field_refusal(
        "invoice_code", _("This invoice code was already used for another purchase."), "invoice_code_used"
    )


def platform_checkout_authorize(
    *, platform_id: int, payment_token: str, code: str, invoice_code: str, invoice_url: str
) -> Enrollment:
    """The participant typed the code on the platform's site: the PMO
    authorises the purchase (or declines it, with the reason) under the
    platform's invoice code. The same token again returns the first result."""
    data = _token(payment_token, platform_id)
    request_key = "api:" + hashlib.sha256(payment_token.encode()).hexdigest()[:40]
    taken = Enrollment.objects.filter(platform_id=platform_id, invoice_code=invoice_code).first()
    if taken is not None and taken.request_key != request_key:
        raise _invoice_taken()
    used = Enrollment.objects.filter(platform_id=platform_id, request_key=request_key).first()
    if used is not None and used.invoice_code != invoice_code:
        raise field_refusal(
            "payment_token", _("This payment token was already used, under another invoice code."), "token_used"
        )
    card = Card.objects.select_related("participant").get(pk=data["c"])
    course = Course.objects.get(pk=data["k"])
    try:
        enrollment = enrollment_request(
            participant=card.participant,
            course=course,
            revision_id=data["r"],
            card_number=card.number,
            code=code,
            request_key=request_key,
            order={"invoice_code": invoice_code, "invoice_url": invoice_url, "platform_user_id": data["u"]},
        )
    except IntegrityError:
        # Another token's purchase took the invoice code at the same moment.
        raise _invoice_taken() from None
    if enrollment.status != S.DECLINED:
        PlatformAccount.objects.bulk_create(
            [PlatformAccount(platform_id=platform_id, platform_user_id=data["u"], participant_id=card.participant_id)],
            ignore_conflicts=True,
        )
    return enrollment


def platform_purchase(*, platform_id: int, invoice_code: str) -> Enrollment:
    """A purchase of this platform by its invoice code; another platform's
    reads as not found."""
    enrollment = (
        Enrollment.objects.filter(platform_id=platform_id, invoice_code=invoice_code)
        .select_related("participant", "revision")
        .first()
    )
    if enrollment is None:
        raise ValidationError(_("This platform has no purchase with this invoice code."), code="not_found")
    return enrollment


def platform_purchase_void(*, platform_id: int, invoice_code: str) -> Enrollment:
    """The platform voids a purchase whose voucher is not redeemed yet: the
    hold is released. A purchase already voided is returned as it is."""
    head = platform_purchase(platform_id=platform_id, invoice_code=invoice_code)
    with transaction.atomic():
        Card.objects.select_for_update().get(pk=head.card_id)
        enrollment = Enrollment.objects.select_for_update().get(pk=head.pk)
        if enrollment.status == S.CANCELLED:
            return enrollment
        if enrollment.status != S.AUTHORISED:
            raise ValidationError(
                _("Only a purchase whose voucher is not yet used can be voided; this one is %(status)s.")
                % {"status": enrollment.get_status_display()},
                code="not_voidable",
            )
        return _release(enrollment, S.CANCELLED, by=None, reason="voided by the platform")

"""Purchases: checkout with the card number and a one-time code, the PMO's
authorisation against the balance, and the voucher's cancellation and
expiry. The institution's side (redeem, completion) is in delivery.py, the
payout's in settlement.py, reviews in reviews.py."""

import hmac
import secrets
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Participant, User
from accounts.services import otp
from catalog.models import Course
from catalog.selectors import on_sale
from integrity.models import Case
from integrity.services.cases import participant_held
from payments.models import Account
from payments.services import account_for, account_owner, ledger_hold, ledger_void
from prakerja.inputs import ascii_digits, field_refusal
from prakerja.lifecycle import insert, inserts_deferred, record_created, record_move
from webhooks.services import webhook_emit

from ..models import (
    ENROLLMENT_TRANSITIONS,
    HELD_STATUSES,
    IN_PROGRESS_STATUSES,
    Card,
    Enrollment,
    PlatformNotice,
)

S = Enrollment.Status

# Crockford's base32 without I, L, O, U: no letter looks like a digit.
VOUCHER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
VOUCHER_LENGTH = 12  # 60 random bits


def decline_message(code: str) -> str:
    """What a participant is told when the PMO declines a purchase."""
    messages = {
        "no_card": _("You have no Prakerja card yet."),
        "card_inactive": _("Your card is not active."),
        "deadline_passed": _("The time to buy your first course with this card has passed."),
        "not_on_sale": _("This course is no longer on sale."),
        "course_changed": _("The course changed after you chose it. Look at it again before buying."),
        "course_full": _("This course is full."),
        "already_bought": _("You have already bought this course."),
        "course_in_progress": _("You have a course in progress. You can buy another after completing it."),
        "insufficient_balance": _("Your balance is not enough for this course."),
        "case_held": _(
            "Your card's money is held while the programme checks your eligibility. "
            "Your Prakerja page says why and how to object."
        ),
    }
    return messages.get(code, _("The purchase was declined."))


def voucher_new() -> str:
    return "".join(secrets.choice(VOUCHER_ALPHABET) for _i in range(VOUCHER_LENGTH))


def voucher_normalise(text: str) -> str:
    """What a person typed, as stored: upper case, without spaces or dashes,
    with the letters people confuse with digits read as those digits."""
    cleaned = "".join((text or "").split()).replace("-", "").upper()
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))[:32]


def voucher_display(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _move(enrollment: Enrollment, to: str, *, by: User | None, reason: str = "") -> None:
    """Records a checked move of a locked enrolment and tells its platform
    (its pages and its webhook) and its institution (its webhook)."""
    record_move(enrollment, to, table=ENROLLMENT_TRANSITIONS, by=by, reason=reason)
    insert(PlatformNotice(platform_id=enrollment.platform_id, enrollment=enrollment, event=to))
    enrollment_event_emit(enrollment, to)


def enrollment_event_emit(enrollment: Enrollment, status: str) -> None:
    """The webhook event of an enrolment's move: what it is and where it
    stands, without personal data (the API's status call has the rest)."""
    webhook_emit(
        event_type=f"enrollment.{status}",
        key=f"enrollment:{enrollment.pk}:{status}",
        platform_id=enrollment.platform_id,
        institution_id=enrollment.institution_id,
        data={
            "enrollment_id": enrollment.pk,
            "transaction_code": f"PRJ-{enrollment.pk}",
            "invoice_code": enrollment.invoice_code,
            "course_id": enrollment.course_id,
            "amount": enrollment.price,
            "status": status,
            "decline_code": enrollment.decline_code or None,
        },
    )


def _card_of(participant: Participant) -> Card:
    card = Card.objects.filter(participant=participant).first()
    if card is None:
        raise ValidationError(_("You have no Prakerja card yet."), code="no_card")
    if card.status != Card.Status.ACTIVE:
        raise ValidationError(_("Your card is not active."), code="card_inactive")
    return card


def _what(course: Course) -> str:
    revision = course.published_revision
    return _("the purchase of %(title)s for Rp %(price)s") % {
        "title": revision.title[:40],
        "price": f"{revision.price:,}".replace(",", "."),
    }


def _subject(course: Course) -> str:
    # The code confirms this version at its price, not whatever the course
    # becomes before the participant presses "Buy".
    return f"revision:{course.published_revision_id}"


def purchase_obstacle(*, participant: Participant, course: Course) -> str | None:
    """Why the PMO would decline buying ``course`` now (a decline code), or
    None: the same rules as the authorisation, read without locks, so the
    course page can say so and no SMS code is spent on a purchase bound to be
    declined. The authorisation checks them again under its locks."""
    card = Card.objects.filter(participant=participant).select_related("wave").first()
    if card is None:
        return "no_card"
    reason = _rule_refusal(participant_id=participant.pk, course_id=course.pk, card=card)
    if reason:
        return reason
    price = on_sale().filter(pk=course.pk).values_list("published_revision__price", flat=True).first()
    if price is not None and Account.objects.get(pk=card.account_id).available < price:
        return "insufficient_balance"
    return None


def checkout_send_code(*, participant: Participant, course: Course) -> None:
    """Sends the one-time code that confirms buying ``course`` at the price
    of its published version, which the SMS names; refused, with the reason
    and no SMS, when the purchase would be declined."""
    reason = purchase_obstacle(participant=participant, course=course)
    if reason:
        raise ValidationError(decline_message(reason), code=reason)
    course = on_sale().select_related("published_revision").get(pk=course.pk)
    otp.otp_send(
        user=participant.user,
        phone=participant.phone,
        purpose=otp.CHECKOUT,
        subject=_subject(course),
        what=_what(course),
    )


def enrollment_request(
    *,
    participant: Participant,
    course: Course,
    revision_id: int,
    card_number: str,
    code: str,
    request_key: str,
    order: dict | None = None,
) -> Enrollment:
    """The participant confirms buying the version ``revision_id`` of a
    course (the one the page showed) with the card number and the code sent
    to their phone; the PMO then authorises or declines it. The same
    ``request_key`` again returns the first enrolment and moves nothing.
    ``order``: the platform's invoice code and URL and its user id, for a
    purchase made through its API."""
    existing = Enrollment.objects.filter(participant=participant, request_key=request_key).first()
    if existing is not None:
        return enrollment_authorize(enrollment_id=existing.pk)
    card = _card_of(participant)
    number = "".join(ch for ch in ascii_digits(card_number or "") if ch in "0123456789")
    if not hmac.compare_digest(number.encode(), card.number.encode()):
        raise field_refusal("card_number", _("This is not the number of your card."), "wrong_card")
    try:
        otp.otp_verify(
            user=participant.user,
            phone=participant.phone,
            purpose=otp.CHECKOUT,
            subject=f"revision:{revision_id}",
            code=code,
        )
    except ValidationError as exc:
        # The same press of "Buy" sent twice: the first used the code.
        existing = Enrollment.objects.filter(participant=participant, request_key=request_key).first()
        if existing is not None:
            return enrollment_authorize(enrollment_id=existing.pk)
        raise field_refusal("code", exc.messages, exc.code) from None
    return enrollment_submit(
        participant=participant, course=course, request_key=request_key, revision_id=revision_id, order=order
    )


def commission_of(price: int, rate) -> int:
    """The platform's commission on a sale, in whole rupiah (half up)."""
    return int((Decimal(price) * Decimal(rate) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def enrollment_submit(
    *,
    participant: Participant,
    course: Course,
    request_key: str,
    revision_id: int | None = None,
    order: dict | None = None,
) -> Enrollment:
    """Records the purchase request (the platform is told) and has it
    authorised, in one transaction. ``revision_id`` is the version the
    participant agreed to (by default the one published now); if it is no
    longer the published one the purchase is declined. Idempotent on
    ``request_key``."""
    if not request_key or len(request_key) > 64:
        raise ValidationError(_("The request is missing its key. Reload the page and try again."), code="bad_key")
    # Whether it is on sale is read along (one statement, not two): the
    # rules below use it instead of reading the course again.
    course = (
        Course.objects.select_related("published_revision", "platform")
        .annotate(is_on_sale=Exists(on_sale().filter(pk=OuterRef("pk"))))
        .get(pk=course.pk)
    )
    revision = course.published_revision
    if revision_id is not None and (revision is None or revision.pk != revision_id):
        revision = course.revisions.filter(pk=revision_id).first()
    if revision is None:
        raise ValidationError(decline_message("not_on_sale"), code="not_on_sale")
    # The request's and the decision's audit events and platform notices are
    # written together at the end (inserts_deferred): two statements fewer.
    with transaction.atomic(), inserts_deferred():
        # Every purchase of one participant queues on their card's row, so a
        # request key or a rule is never checked by two requests at once.
        card = _lock_card(Card.objects.filter(participant=participant))
        if card is None:
            raise ValidationError(_("You have no Prakerja card yet."), code="no_card")
        existing = (
            Enrollment.objects.select_for_update().filter(participant=participant, request_key=request_key).first()
        )
        if existing is not None:
            if existing.course_id != course.pk:
                raise ValidationError(_("This request key was used for another course."), code="key_reused")
            return _authorize_locked(existing, card, course=course)
        if card.status != Card.Status.ACTIVE:
            raise ValidationError(_("Your card is not active."), code="card_inactive")
        enrollment = Enrollment.objects.create(
            participant=participant,
            card=card,
            course=course,
            revision=revision,
            institution_id=course.institution_id,
            platform_id=course.platform_id,
            price=revision.price,
            commission=commission_of(revision.price, course.platform.commission_rate),
            request_key=request_key,
            **(order or {}),
        )
        record_created(enrollment, S.REQUESTED, by=participant.user)
        insert(PlatformNotice(platform_id=course.platform_id, enrollment=enrollment, event=S.REQUESTED))
        return _authorize_locked(enrollment, card, course=course)


def _lock_card(cards) -> Card | None:
    # Only the card's row: its wave and participant are read along, not locked.
    return cards.select_for_update(of=("self",)).select_related("wave", "participant").first()


def _decline_reason(enrollment: Enrollment, card: Card, course: Course | None) -> str | None:
    return _rule_refusal(
        participant_id=enrollment.participant_id,
        course_id=enrollment.course_id,
        card=card,
        revision_id=enrollment.revision_id,
        exclude_pk=enrollment.pk,
        lock=True,
        course=course,
    )


def _rule_refusal(
    *,
    participant_id: int,
    course_id: int,
    card: Card,
    revision_id=None,
    exclude_pk=None,
    lock: bool = False,
    course: Course | None = None,
) -> str | None:
    """The programme's purchase rules, but the balance (the ledger's hold
    checks that itself). ``lock``: queue buyers of a course with few seats.
    ``course``: the course already read with ``is_on_sale`` annotated (a
    purchase reads it once); otherwise it is read here."""
    if card.status != Card.Status.ACTIVE:
        return "card_inactive"
    # The lists as they are now (issue 15): a finding holds the money and,
    # under the authorisation's locks, opens its case.
    nik_index = card.participant.nik_index  # the card is the participant's (read along with it when locked)
    if participant_held(
        participant_id=participant_id, nik_index=nik_index, wave=card.wave, stage=Case.Stage.PURCHASE, record=lock
    ):
        return "case_held"
    # One read of the participant's other purchases answers three rules.
    held = Enrollment.objects.filter(participant_id=participant_id, status__in=HELD_STATUSES)
    if exclude_pk is not None:
        held = held.exclude(pk=exclude_pk)
    others = list(held.values_list("course_id", "status"))
    if not others and timezone.now() >= card.purchase_deadline:
        return "deadline_passed"
    if course is None or getattr(course, "is_on_sale", None) is None:
        course = on_sale().filter(pk=course_id).select_related("published_revision").first()
    elif not course.is_on_sale:
        course = None
    if course is None:
        return "not_on_sale"
    if revision_id is not None and course.published_revision_id != revision_id:
        return "course_changed"
    if any(other == course_id for other, _status in others):
        return "already_bought"
    if any(status in IN_PROGRESS_STATUSES for _course, status in others):
        return "course_in_progress"
    capacity = course.published_revision.capacity
    if capacity:
        if lock:
            # Buyers of one course queue here only when it has seats to count.
            Course.objects.select_for_update().only("pk").get(pk=course.pk)
        # Seats of the course, whichever version sold them (a new version
        # copies the capacity; it does not add seats).
        taken = Enrollment.objects.filter(course_id=course_id, status__in=HELD_STATUSES).count()
        if taken >= capacity:
            return "course_full"
    return None


def enrollment_authorize(*, enrollment_id: int) -> Enrollment:
    """The PMO's authorisation of a recorded request (see _authorize_locked);
    for requests left undecided. An enrolment already decided is returned
    as it is."""
    with transaction.atomic():
        head = Enrollment.objects.only("card_id").get(pk=enrollment_id)
        card = _lock_card(Card.objects.filter(pk=head.card_id))
        enrollment = Enrollment.objects.select_for_update().get(pk=enrollment_id)
        return _authorize_locked(enrollment, card)


def _authorize_locked(enrollment: Enrollment, card: Card, course: Course | None = None) -> Enrollment:
    """The PMO's authorisation, inside the caller's transaction with the card
    and the enrolment locked: card active, course still on sale at the
    agreed version, not bought before, nothing else in progress, seats left,
    balance enough. Success holds the price and issues a voucher; a refusal
    records why and moves no money. Runs once."""
    if enrollment.status != S.REQUESTED:
        return enrollment
    reason = _decline_reason(enrollment, card, course)
    if reason is None:
        try:
            hold = ledger_hold(
                key=f"enrollment:{enrollment.pk}:hold",
                debit=Account(pk=card.account_id),
                credit=account_for(
                    kind=Account.Kind.INSTITUTION_PAYABLE, owner=account_owner("institution", enrollment.institution_id)
                ),
                amount=enrollment.price,
                reason=f"enrolment {enrollment.pk}",
            )
        except ValidationError as exc:
            if exc.code != "insufficient_balance":
                raise
            reason = "insufficient_balance"
    if reason is not None:
        enrollment.decline_code = reason
        _move(enrollment, S.DECLINED, by=None, reason=reason)
        enrollment.save(update_fields=["status", "decline_code", "updated_at"])
        return enrollment
    enrollment.hold = hold
    enrollment.voucher_expires_at = timezone.now() + timedelta(days=card.wave.voucher_valid_days)
    _move(enrollment, S.AUTHORISED, by=None, reason="authorised")
    for _attempt in range(3):
        enrollment.voucher_code = voucher_new()
        try:
            with transaction.atomic():
                enrollment.save(update_fields=["status", "hold", "voucher_code", "voucher_expires_at", "updated_at"])
            break
        except IntegrityError:
            continue  # the same 60-bit code twice; draw again
    else:
        raise RuntimeError("could not draw a free voucher code")
    return enrollment


def _release(enrollment: Enrollment, to: str, *, by: User | None, reason: str) -> Enrollment:
    _move(enrollment, to, by=by, reason=reason)
    enrollment.save(update_fields=["status", "updated_at"])
    ledger_void(transfer=enrollment.hold)
    return enrollment


def enrollment_cancel(*, participant: Participant, enrollment_id: int) -> Enrollment:
    """The participant cancels a voucher not yet redeemed; the hold is
    released."""
    with transaction.atomic():
        head = Enrollment.objects.filter(pk=enrollment_id, participant=participant).only("card_id").first()
        if head is None:
            raise ValidationError(_("You have no purchase with this number."), code="not_found")
        Card.objects.select_for_update().get(pk=head.card_id)
        enrollment = Enrollment.objects.select_for_update().get(pk=enrollment_id)
        if enrollment.status == S.CANCELLED:
            return enrollment
        if enrollment.status != S.AUTHORISED:
            raise ValidationError(
                _("Only a voucher not yet used can be cancelled; this purchase is %(status)s.")
                % {"status": enrollment.get_status_display()},
                code="not_cancellable",
            )
        return _release(enrollment, S.CANCELLED, by=participant.user, reason="cancelled by the participant")


def enrollment_release_for_case(*, enrollment_id: int, by: User, reason: str) -> int:
    """Cancels an unredeemed voucher because its card is revoked by an
    integrity case (the caller holds the card's lock); the hold is released."""
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment_id)
    if enrollment.status == S.AUTHORISED:
        _release(enrollment, S.CANCELLED, by=by, reason=reason)
    return enrollment.pk


def enrollment_expire(*, enrollment_id: int) -> Enrollment | None:
    """Expires one unredeemed voucher past its time; None if it is not."""
    with transaction.atomic():
        head = Enrollment.objects.only("card_id").get(pk=enrollment_id)
        Card.objects.select_for_update().get(pk=head.card_id)
        enrollment = Enrollment.objects.select_for_update().get(pk=enrollment_id)
        if enrollment.status != S.AUTHORISED or enrollment.voucher_expires_at > timezone.now():
            return None
        return _release(enrollment, S.EXPIRED, by=None, reason="voucher expired")


def enrollments_authorize_stale() -> int:
    """Decides purchase requests left undecided (the process died between
    recording and authorising); beat runs this. Returns how many."""
    stale = Enrollment.objects.filter(
        status=S.REQUESTED, created_at__lte=timezone.now() - timedelta(minutes=5)
    ).values_list("pk", flat=True)
    return sum(1 for pk in list(stale) if enrollment_authorize(enrollment_id=pk).status != S.REQUESTED)


def enrollments_expire_due() -> int:
    """Expires every voucher past its time (beat runs this)."""
    due = Enrollment.objects.filter(status=S.AUTHORISED, voucher_expires_at__lte=timezone.now()).values_list(
        "pk", flat=True
    )
    return sum(1 for pk in list(due) if enrollment_expire(enrollment_id=pk) is not None)

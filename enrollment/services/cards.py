"""Cards (Kartu Prakerja): issuing with the wave's balance, the first-purchase
deadline, its reminder, and revocation."""

import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import luhn

from accounts.models import PARTICIPANT_TRANSITIONS, Participant, User
from accounts.services.status import participant_move
from payments.models import Account
from payments.services import account_for, account_owner, ledger_transfer, ledger_transfer_many
from prakerja.lifecycle import record_created_many, record_move

from ..models import CARD_TRANSITIONS, HELD_STATUSES, Card, Enrollment, Wave, WaveApplication

# The first digits of every card number (an issuer prefix of our own).
CARD_PREFIX = "6062"


def card_number_new() -> str:
    """A random 16-digit number: the prefix, 11 random digits and a Luhn
    check digit, so a mistyped digit is caught before any lookup."""
    body = CARD_PREFIX + "".join(secrets.choice("0123456789") for _i in range(11))
    return body + luhn.calc_check_digit(body)


def card_number_valid(number: str) -> bool:
    return len(number) == 16 and number.isdigit() and luhn.is_valid(number)


def training_account(participant_id: int) -> Account:
    return account_for(kind=Account.Kind.PARTICIPANT_TRAINING, owner=account_owner("participant", participant_id))


def programme_fund() -> Account:
    return account_for(kind=Account.Kind.PROGRAMME_FUND)


def card_issue(*, application_id: int) -> Card:
    """Issues the card of a selected application and credits the wave's
    training balance from the programme fund. Running it again returns the
    card and moves nothing."""
    application = WaveApplication.objects.select_related("wave").get(pk=application_id)
    if application.status != WaveApplication.Status.SELECTED:
        raise ValidationError(_("Only a selected participant gets a card."), code="not_selected")
    cards_issue(wave=application.wave, application_ids=[application_id])
    return Card.objects.get(participant_id=application.participant_id)


def _free_numbers(count: int) -> list[str]:
    """``count`` new card numbers, none of them taken: drawn at random and
    checked against the issued ones in one query (a clash is one in 10^11)."""
    numbers: set[str] = set()
    while len(numbers) < count:
        drawn = {card_number_new() for _i in range(count - len(numbers))} - numbers
        numbers |= drawn - set(Card.objects.filter(number__any=drawn).values_list("number", flat=True))
    return sorted(numbers)


def cards_issue(*, wave: Wave, application_ids: list[int]) -> int:
    """Issues the cards of these applications of ``wave`` that are selected
    and have none yet, in one transaction and a fixed number of statements
    (a chunk of a wave's issuing): the participants are locked, then their
    balance accounts, cards and card events are written in bulk and the
    wave's training balance is credited to each from the programme fund, one
    transfer per card keyed by the card (``card:<id>:balance``). Running it
    again issues nothing twice. Returns how many cards it issued."""
    for _attempt in range(5):
        try:
            return _cards_issue(wave, application_ids)
        except IntegrityError:
            # A card number taken meanwhile by a chunk beside this one: all
            # of this chunk rolled back; draw again.
            continue
    raise RuntimeError("could not draw free card numbers")


def _cards_issue(wave: Wave, application_ids: list[int]) -> int:
    with transaction.atomic():
        selected = WaveApplication.objects.filter(
            pk__any=application_ids, wave=wave, status=WaveApplication.Status.SELECTED
        ).values_list("participant_id", flat=True)
        locked = list(
            Participant.objects.select_for_update(of=("self",))
            .filter(pk__any=list(selected))
            .exclude(card__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not locked:
            return 0
        owners = {pid: account_owner("participant", pid) for pid in locked}
        kind = Account.Kind.PARTICIPANT_TRAINING
        Account.objects.bulk_create(
            [Account(kind=kind, owner=owner) for owner in owners.values()], ignore_conflicts=True, batch_size=5000
        )
        account_of = dict(Account.objects.filter(kind=kind, owner__any=owners.values()).values_list("owner", "pk"))
        now = timezone.now()
        deadline = now + timedelta(days=wave.purchase_deadline_days)
        cards = Card.objects.bulk_create(
            [
                Card(
                    participant_id=pid,
                    wave=wave,
                    number=number,
                    account_id=account_of[owners[pid]],
                    issued_at=now,
                    purchase_deadline=deadline,
                    remind_at=deadline - timedelta(days=wave.reminder_days_before),
                )
                for pid, number in zip(locked, _free_numbers(len(locked)), strict=True)
            ],
            batch_size=5000,
        )
        record_created_many(
            Card, [card.pk for card in cards], Card.Status.ACTIVE, reason=f"selected in wave {wave.number}"
        )
        ledger_transfer_many(
            debit=programme_fund(),
            lines=[(f"card:{card.pk}:balance", card.account_id, wave.training_balance) for card in cards],
            reason=f"training balance, wave {wave.number}",
        )
    return len(cards)


def _has_purchase(card: Card) -> bool:
    return Enrollment.objects.filter(card=card, status__in=HELD_STATUSES).exists()


def card_revoke(*, card_id: int, by: User | None, reason: str) -> Card:
    """Revokes an active card with no purchase: its balance goes back to the
    programme fund and the participant is blacklisted (status revoked)."""
    from ..tasks import send_card_revoked

    with transaction.atomic():
        card = Card.objects.select_for_update().get(pk=card_id)
        if card.status != Card.Status.ACTIVE:
            raise ValidationError(_("This card is not active."), code="card_inactive")
        if _has_purchase(card):
            raise ValidationError(_("This card has bought a course; it is not revoked."), code="card_used")
        account = Account.objects.get(pk=card.account_id)
        if account.available > 0:
            ledger_transfer(
                key=f"card:{card.pk}:revoke",
                debit=account,
                credit=programme_fund(),
                amount=account.available,
                reason=f"card revoked: {reason}"[:200],
            )
        record_move(card, Card.Status.REVOKED, table=CARD_TRANSITIONS, by=by, reason=reason)
        card.closed_at = timezone.now()
        card.closed_reason = reason[:200]
        card.save(update_fields=["status", "closed_at", "closed_reason"])
        participant_move(participant_id=card.participant_id, to=Participant.Status.REVOKED, by=by, reason=reason)
        transaction.on_commit(lambda: send_card_revoked.delay(card_id))
    return card


def card_revoke_for_case(*, participant_id: int, by: User, reason: str) -> dict:
    """An integrity case's decision: the participant's card is revoked even
    if it has bought courses: vouchers not yet redeemed are cancelled (their
    holds released), the balance left returns to the fund, the participant
    is blacklisted. Courses already under way or completed stay as they are
    (the institution taught them). A participant without an active card is
    marked not eligible, which bars them from every wave."""
    from .purchases import enrollment_release_for_case

    with transaction.atomic():
        card = Card.objects.select_for_update().filter(participant_id=participant_id).first()
        if card is None or card.status != Card.Status.ACTIVE:
            participant = Participant.objects.select_for_update().get(pk=participant_id)
            if participant.status in (Participant.Status.REVOKED, Participant.Status.INELIGIBLE):
                return {"card": None, "participant": participant.status}
            if participant.status == Participant.Status.SELECTED:
                to = Participant.Status.REVOKED
            elif Participant.Status.INELIGIBLE in PARTICIPANT_TRANSITIONS.get(participant.status, ()):
                to = Participant.Status.INELIGIBLE
            else:
                raise ValidationError(
                    _("This participant cannot be barred yet (status: %(status)s).")
                    % {"status": participant.get_status_display()},
                    code="cannot_bar",
                )
            participant_move(participant_id=participant_id, to=to, by=by, reason=reason)
            return {"card": None, "participant": to}
        cancelled = [
            enrollment_release_for_case(enrollment_id=pk, by=by, reason=reason)
            for pk in Enrollment.objects.filter(card=card, status=Enrollment.Status.AUTHORISED).values_list(
                "pk", flat=True
            )
        ]
        account = Account.objects.get(pk=card.account_id)
        returned = account.available
        if returned > 0:
            ledger_transfer(
                key=f"card:{card.pk}:revoke",
                debit=account,
                credit=programme_fund(),
                amount=returned,
                reason=f"card revoked: {reason}"[:200],
            )
        record_move(card, Card.Status.REVOKED, table=CARD_TRANSITIONS, by=by, reason=reason)
        card.closed_at = timezone.now()
        card.closed_reason = reason[:200]
        card.save(update_fields=["status", "closed_at", "closed_reason"])
        participant_move(participant_id=participant_id, to=Participant.Status.REVOKED, by=by, reason=reason)
        card_id = card.pk
        from ..tasks import send_card_revoked

        transaction.on_commit(lambda: send_card_revoked.delay(card_id))
    return {"card": card.number, "vouchers_cancelled": len(cancelled), "balance_returned": returned}


def card_balance_recover(*, participant_id: int, key: str, reason: str) -> int:
    """Returns what is left of the participant's training balance to the
    programme fund (a correcting transfer, once per ``key``); the amount."""
    card = Card.objects.select_for_update().filter(participant_id=participant_id).first()
    if card is None:
        return 0
    account = Account.objects.get(pk=card.account_id)
    amount = account.available
    if amount <= 0:
        return 0
    ledger_transfer(
        key=f"{key}:training",
        debit=account,
        credit=programme_fund(),
        amount=amount,
        reason=f"recovered: {reason}"[:200],
    )
    return amount


def cards_revoke_overdue() -> int:
    """Revokes every active card whose first-purchase deadline passed with no
    course bought (beat runs this). Returns how many."""
    now = timezone.now()
    due = (
        Card.objects.filter(status=Card.Status.ACTIVE, purchase_deadline__lte=now)
        .exclude(enrollments__status__in=HELD_STATUSES)
        .values_list("pk", flat=True)
    )
    revoked = 0
    for card_id in list(due):
        try:
            card_revoke(card_id=card_id, by=None, reason="no course bought before the deadline")
        except ValidationError:
            continue  # bought one, or revoked, in the meantime
        revoked += 1
    return revoked


def cards_remind_deadline() -> int:
    """Tells each card holder with no course yet, once, that the deadline is
    near (beat runs this). Returns how many were reminded."""
    from ..tasks import send_deadline_reminder

    now = timezone.now()
    due = (
        Card.objects.filter(
            status=Card.Status.ACTIVE, remind_at__lte=now, purchase_deadline__gt=now, reminder_sent_at__isnull=True
        )
        .exclude(enrollments__status__in=HELD_STATUSES)
        .values_list("pk", flat=True)
    )
    reminded = 0
    for card_id in list(due):
        with transaction.atomic():
            card = Card.objects.select_for_update().get(pk=card_id)
            if card.reminder_sent_at is not None or card.status != Card.Status.ACTIVE:
                continue
            card.reminder_sent_at = now
            card.save(update_fields=["reminder_sent_at"])
            transaction.on_commit(lambda card_id=card_id: send_deadline_reminder.delay(card_id))
        reminded += 1
    return reminded


def card_complete_if_used_up(*, card: Card, min_price: int) -> None:
    """After a completed course: a card whose remaining balance buys no
    course and has nothing in progress is completed (inside the caller's
    transaction, with the card locked)."""
    account = Account.objects.get(pk=card.account_id)
    in_progress = Enrollment.objects.filter(card=card, status__in=("authorised", "redeemed")).exists()
    if card.status == Card.Status.ACTIVE and account.available < min_price and not in_progress:
        record_move(card, Card.Status.COMPLETED, table=CARD_TRANSITIONS, reason="balance used")
        card.closed_at = timezone.now()
        card.closed_reason = "balance used"
        card.save(update_fields=["status", "closed_at", "closed_reason"])

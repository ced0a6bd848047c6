"""Participants' incentives (insentif): after the first completed course is
reviewed, the post-training incentive is scheduled month by month and each
paid survey earns its reward once answered. Each instalment, when due and
the participant has a confirmed account in their own name, becomes a Payout
and goes the way every payout goes (disbursement.py).

Ledger: the programme fund credits the participant's incentive account once
per instalment (key ``incentive:<id>:accrue``); the payout then moves it to
clearing. A failed payout returns it to the incentive account, where the
next payout of the same instalment takes it from again.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OneTimeCode, Participant
from accounts.services import otp
from enrollment.models import Enrollment
from integrity.models import Case
from integrity.services.cases import participant_held
from payments.channels import EWALLETS, PayoutChannel, account_number_clean, holder_name_normalise
from payments.models import Account
from payments.services import account_for, account_owner, ledger_transfer
from prakerja.lifecycle import record_move, transition_many

from ..models import (
    INCENTIVE_ACCOUNT_TRANSITIONS,
    INCENTIVE_PAYMENT_TRANSITIONS,
    IncentiveAccount,
    IncentivePayment,
    Payout,
    PayoutLine,
    SurveyResponse,
)

MONTH = timedelta(days=30)

# Failure codes that say the account itself cannot receive money (Xendit's
# payout failure codes and the create-time refusals about the recipient).
ACCOUNT_FAILURES = frozenset(
    {
        "INVALID_DESTINATION",
        "INVALID_ACCOUNT_DETAILS",
        "RECIPIENT_ACCOUNT_NUMBER_ERROR",
        "RECIPIENT_NAME_MISMATCH",
        "ACCOUNT_NOT_FOUND",
        "ACCOUNT_ACCESS_BLOCKED",
        "DESTINATION_MAXIMUM_LIMIT",
        "REJECTED_BY_CHANNEL",
        "API_VALIDATION_ERROR",
    }
)
PURPOSE = OneTimeCode.Purpose.INCENTIVE_ACCOUNT


def first_reviewed_course(participant: Participant) -> Enrollment | None:
    """The participant's first completed course, if they have reviewed it:
    what makes them eligible for incentives."""
    first = (
        Enrollment.objects.filter(
            participant=participant, status__in=[Enrollment.Status.COMPLETED, Enrollment.Status.PAID_OUT]
        )
        .select_related("card__wave", "review")
        .order_by("completed_at", "pk")
        .first()
    )
    if first is None or not hasattr(first, "review"):
        return None
    return first


def survey_opens_at(first_due, number: int):
    """Survey n opens (n-1) times the survey interval after the first
    post-training instalment."""
    return first_due + (number - 1) * timedelta(days=settings.INCENTIVE_SURVEY_INTERVAL_DAYS)


def incentives_schedule(*, participant: Participant) -> list[IncentivePayment]:
    """Creates the participant's instalments once they are eligible; returns
    them (none when not eligible). Safe to call again."""
    existing = list(IncentivePayment.objects.filter(participant=participant))
    if existing:
        return existing
    enrollment = first_reviewed_course(participant)
    if enrollment is None:
        return []
    wave = enrollment.card.wave
    start = max(enrollment.review.created_at, enrollment.completed_at)
    rows = [
        IncentivePayment(
            participant=participant,
            wave=wave,
            kind=IncentivePayment.Kind.POST_TRAINING,
            number=n,
            amount=wave.incentive_monthly_amount,
            due_at=start + (n - 1) * MONTH,
        )
        for n in range(1, wave.incentive_months + 1)
        if wave.incentive_monthly_amount
    ] + [
        IncentivePayment(
            participant=participant,
            wave=wave,
            kind=IncentivePayment.Kind.SURVEY,
            number=n,
            amount=wave.survey_incentive_amount,
        )
        for n in range(1, wave.survey_count + 1)
        if wave.survey_incentive_amount
    ]
    IncentivePayment.objects.bulk_create(rows, ignore_conflicts=True)
    return list(IncentivePayment.objects.filter(participant=participant))


def incentives_schedule_new() -> int:
    """Beat: schedules everyone who became eligible and has no instalments."""
    ids = (
        Enrollment.objects.filter(
            status__in=[Enrollment.Status.COMPLETED, Enrollment.Status.PAID_OUT], review__isnull=False
        )
        .exclude(participant__incentives__isnull=False)
        .values_list("participant_id", flat=True)
        .distinct()
    )
    scheduled = 0
    for participant in Participant.objects.filter(pk__in=list(ids[:5000])):
        scheduled += bool(incentives_schedule(participant=participant))
    return scheduled


def confirmed_account(participant: Participant) -> IncentiveAccount | None:
    return IncentiveAccount.objects.filter(participant=participant, status=IncentiveAccount.Status.CONFIRMED).first()


def incentive_account_start(
    *, participant: Participant, channel_code: str, account_number: str, account_holder: str
) -> IncentiveAccount:
    """Checks the account and sends a code to the participant's phone; the
    account is used once confirmed with it."""
    if first_reviewed_course(participant) is None:
        raise ValidationError(
            _("You can add an account for incentives after completing your first course and reviewing it."),
            code="not_eligible",
        )
    errors = {}
    try:
        number = account_number_clean(channel_code, account_number)
    except ValidationError as exc:
        errors["channel_code" if exc.code == "channel" else "account_number"] = exc.messages
    holder = " ".join((account_holder or "").split())
    if not holder:
        errors["account_holder"] = [_("Enter the name on the account.")]
    elif len(holder) > 100:
        errors["account_holder"] = [_("The name can have at most 100 characters.")]
    elif holder_name_normalise(holder) != holder_name_normalise(participant.full_name):
        errors["account_holder"] = [
            _("The account must be in your own name as on your KTP (%(name)s).") % {"name": participant.full_name}
        ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        IncentiveAccount.objects.filter(participant=participant, status=IncentiveAccount.Status.UNCONFIRMED).delete()
        # An account still being checked, or waiting for the PMO, gives way to
        # the one entered now (its case, if any, stays with the PMO).
        for status in (IncentiveAccount.Status.CHECKING, IncentiveAccount.Status.REVIEW):
            transition_many(
                IncentiveAccount,
                list(
                    IncentiveAccount.objects.filter(participant=participant, status=status).values_list("pk", flat=True)
                ),
                from_status=status,
                to=IncentiveAccount.Status.REPLACED,
                table=INCENTIVE_ACCOUNT_TRANSITIONS,
                by=participant.user,
                reason="another account entered",
            )
        account = IncentiveAccount.objects.create(
            participant=participant, channel_code=channel_code, account_number=number, account_holder=holder
        )
        what = _("your %(channel)s account ending %(last)s for Prakerja incentives") % {
            "channel": PayoutChannel(channel_code).label,
            "last": number[-4:],
        }
        otp.otp_send(
            user=participant.user,
            phone=participant.phone,
            purpose=PURPOSE,
            subject=f"incentive-account:{account.pk}",
            what=what,
        )
    return account


def incentive_account_confirm(*, participant: Participant, code: str) -> IncentiveAccount:
    account = IncentiveAccount.objects.filter(
        participant=participant, status=IncentiveAccount.Status.UNCONFIRMED
    ).first()
    if account is None:
        raise _nothing_waiting(participant)
    # Counts a wrong guess in its own transaction, so not inside ours.
    otp.otp_verify(
        user=participant.user,
        phone=participant.phone,
        purpose=PURPOSE,
        code=code,
        subject=f"incentive-account:{account.pk}",
    )
    with transaction.atomic():
        account = IncentiveAccount.objects.select_for_update().filter(pk=account.pk).first()
        if account is None:  # replaced by another account entered meanwhile
            raise _nothing_waiting(participant)
        if account.status != IncentiveAccount.Status.UNCONFIRMED:
            return account
        # The phone is the participant's; now the bank says whose the account is.
        record_move(account, IncentiveAccount.Status.CHECKING, table=INCENTIVE_ACCOUNT_TRANSITIONS, by=participant.user)
        account.save(update_fields=["status"])
        account_id = account.pk
        transaction.on_commit(lambda: _check_soon(account_id))
    account.refresh_from_db()
    return account


def _check_soon(account_id: int) -> None:
    from ..tasks import check_incentive_account

    check_incentive_account.delay(account_id)


def incentive_account_activate(account: IncentiveAccount, *, by, reason: str = "") -> None:
    """Makes a checked account the one incentives are paid to (inside the
    caller's transaction, ``account`` locked): the previous one is replaced
    and what is due is paid once this commits."""
    participant_id = account.participant_id
    previous = IncentiveAccount.objects.filter(participant_id=participant_id, status=IncentiveAccount.Status.CONFIRMED)
    transition_many(
        IncentiveAccount,
        list(previous.values_list("pk", flat=True)),
        from_status=IncentiveAccount.Status.CONFIRMED,
        to=IncentiveAccount.Status.REPLACED,
        table=INCENTIVE_ACCOUNT_TRANSITIONS,
        by=by,
        reason=f"replaced by account {account.pk}",
    )
    record_move(account, IncentiveAccount.Status.CONFIRMED, table=INCENTIVE_ACCOUNT_TRANSITIONS, by=by, reason=reason)
    account.confirmed_at = timezone.now()
    account.save(update_fields=["status", "confirmed_at"])
    _pay_soon(participant_id)


def _nothing_waiting(participant: Participant) -> ValidationError:
    """Why a code has no account to confirm: it was confirmed already (a
    second tab, a repeated tap), or none was entered."""
    if IncentiveAccount.objects.filter(participant=participant, status=IncentiveAccount.Status.CHECKING).exists():
        return ValidationError(
            _("Your code was accepted; the holder's name is being checked with your bank."), code="checking"
        )
    if IncentiveAccount.objects.filter(participant=participant, status=IncentiveAccount.Status.CONFIRMED).exists():
        return ValidationError(
            _("Your account is already confirmed. Incentives due are paid to it."), code="already_confirmed"
        )
    return ValidationError(_("No account is waiting for a code. Enter the account again."), code="none_waiting")


def _pay_soon(participant_id: int) -> None:
    """What is due is paid once this commits, not at the next hourly run."""
    from ..tasks import pay_participant_incentives

    transaction.on_commit(lambda: pay_participant_incentives.delay(participant_id))


def survey_submit(*, participant: Participant, number: int, work: str, usefulness) -> SurveyResponse:
    """Answers survey ``number``; its reward becomes due at once."""
    errors = {}
    if work not in SurveyResponse.Work.values:
        errors["work"] = [_("Choose what you do now.")]
    try:
        usefulness = int(usefulness)
    except (TypeError, ValueError):
        usefulness = 0
    if not 1 <= usefulness <= 5:
        errors["usefulness"] = [_("Choose from 1 to 5.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        instalment = (
            IncentivePayment.objects.select_for_update()
            .filter(participant=participant, kind=IncentivePayment.Kind.SURVEY, number=number)
            .first()
        )
        first = IncentivePayment.objects.filter(
            participant=participant, kind=IncentivePayment.Kind.POST_TRAINING, number=1
        ).first()
        if instalment is None:
            raise ValidationError(_("There is no such survey for you."), code="no_survey")
        opens = survey_opens_at(first.due_at if first else instalment.created_at, number)
        if opens > timezone.now():
            raise ValidationError(
                _("This survey opens on %(date)s.") % {"date": timezone.localtime(opens).strftime("%d-%m-%Y")},
                code="not_open",
            )
        try:
            with transaction.atomic():
                response = SurveyResponse.objects.create(
                    participant=participant, number=number, work=work, usefulness=usefulness
                )
        except IntegrityError:
            raise ValidationError(_("You have already answered this survey."), code="answered") from None
        instalment.due_at = timezone.now()
        instalment.save(update_fields=["due_at"])
        _pay_soon(participant.pk)
    return response


def incentive_pay(*, incentive_id: int) -> Payout | None:
    """Turns a due instalment into a payout to the confirmed account; the
    payout is queued when this commits. Returns None if not payable now."""
    from ..tasks import send_payout

    with transaction.atomic():
        instalment = IncentivePayment.objects.select_for_update().select_related("participant").get(pk=incentive_id)
        if instalment.status != IncentivePayment.Status.SCHEDULED or not instalment.due_at:
            return None
        if instalment.due_at > timezone.now():
            return None
        account = confirmed_account(instalment.participant)
        if account is None:
            return None
        # The lists as they are now: a finding opens a case and the
        # instalment waits for its decision.
        if participant_held(
            participant_id=instalment.participant_id,
            nik_index=instalment.participant.nik_index,
            wave=instalment.wave,
            stage=Case.Stage.INCENTIVE,
            record=True,
        ):
            return None
        incentive_account = account_for(
            kind=Account.Kind.PARTICIPANT_INCENTIVE, owner=account_owner("participant", instalment.participant_id)
        )
        ledger_transfer(
            key=f"incentive:{instalment.pk}:accrue",
            debit=account_for(kind=Account.Kind.PROGRAMME_FUND),
            credit=incentive_account,
            amount=instalment.amount,
            reason=f"{instalment.kind} {instalment.number} of participant {instalment.participant_id}",
        )
        payout = Payout.objects.create(
            kind=Payout.Kind.INCENTIVE,
            incentive_payment=instalment,
            participant=instalment.participant,
            channel_code=account.channel_code,
            account_number=account.account_number,
            account_holder=account.account_holder,
            amount=instalment.amount,
        )
        PayoutLine.objects.create(payout=payout, source=incentive_account, amount=instalment.amount)
        record_move(
            instalment,
            IncentivePayment.Status.PAYING,
            table=INCENTIVE_PAYMENT_TRANSITIONS,
            reason=f"payout {payout.pk}",
        )
        instalment.payout = payout
        instalment.save(update_fields=["status", "payout"])
        transaction.on_commit(lambda: send_payout.delay(payout.pk))
    return payout


def incentives_withhold(*, participant_id: int, key: str, reason: str) -> tuple[int, int, int]:
    """An integrity case's recovery: the instalments not yet paid are
    withheld, and what was accrued to the incentive account and not paid out
    goes back to the programme fund (one correcting transfer per ``key``).
    Returns (withheld, returned, already paid) in rupiah."""
    scheduled = list(
        IncentivePayment.objects.select_for_update().filter(
            participant_id=participant_id, status=IncentivePayment.Status.SCHEDULED
        )
    )
    transition_many(
        IncentivePayment,
        [row.pk for row in scheduled],
        from_status=IncentivePayment.Status.SCHEDULED,
        to=IncentivePayment.Status.WITHHELD,
        table=INCENTIVE_PAYMENT_TRANSITIONS,
        reason=reason,
    )
    # Accrued but never paid: only from instalments withheld now (a payout
    # under way keeps its money in clearing until it finishes).
    account = account_for(kind=Account.Kind.PARTICIPANT_INCENTIVE, owner=account_owner("participant", participant_id))
    returned = max(0, account.balance - account.held)
    if returned:
        ledger_transfer(
            key=f"{key}:incentive",
            debit=account,
            credit=account_for(kind=Account.Kind.PROGRAMME_FUND),
            amount=returned,
            reason=f"recovered: {reason}"[:200],
        )
    paid = (
        IncentivePayment.objects.filter(participant_id=participant_id, status=IncentivePayment.Status.PAID).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )
    withheld = sum(row.amount for row in scheduled)
    return withheld, returned, paid


def incentives_pay_due(*, limit: int = 5000, participant_id: int | None = None) -> int:
    """Pays every due instalment whose participant has a confirmed account
    (beat, hourly), or one participant's (when their account is confirmed or
    a survey answered). Paying one twice is harmless: each is paid once."""
    due = IncentivePayment.objects.filter(
        status=IncentivePayment.Status.SCHEDULED,
        due_at__lte=timezone.now(),
        participant__incentive_accounts__status=IncentiveAccount.Status.CONFIRMED,
    )
    if participant_id is not None:
        due = due.filter(participant_id=participant_id)
    due = due.values_list("pk", flat=True)
    return sum(1 for pk in list(due[:limit]) if incentive_pay(incentive_id=pk) is not None)


def incentive_payout_finished(*, payout: Payout) -> None:
    """Called inside the payout's transaction when it succeeded or failed."""
    instalment = IncentivePayment.objects.select_for_update().filter(pk=payout.incentive_payment_id).first()
    if instalment is None or instalment.payout_id != payout.pk:
        return
    if payout.status == Payout.Status.SUCCEEDED:
        record_move(
            instalment, IncentivePayment.Status.PAID, table=INCENTIVE_PAYMENT_TRANSITIONS, reason=payout.gateway_id
        )
        instalment.paid_at = payout.finished_at
        instalment.save(update_fields=["status", "paid_at"])
        return
    # Failed. When the bank refused the account itself, it is not used again
    # until the participant links one that works; other failures are tried
    # again at the next run.
    reason = payout.failure_message or payout.failure_code
    if payout.failure_code in ACCOUNT_FAILURES:
        refused = IncentiveAccount.objects.filter(
            participant_id=payout.participant_id,
            status=IncentiveAccount.Status.CONFIRMED,
            channel_code=payout.channel_code,
            account_number=payout.account_number,
        ).values_list("pk", flat=True)
        transition_many(
            IncentiveAccount,
            list(refused),
            from_status=IncentiveAccount.Status.CONFIRMED,
            to=IncentiveAccount.Status.REFUSED,
            table=INCENTIVE_ACCOUNT_TRANSITIONS,
            reason=reason,
            refused_reason=reason[:500],
        )
    record_move(instalment, IncentivePayment.Status.SCHEDULED, table=INCENTIVE_PAYMENT_TRANSITIONS, reason=reason)
    instalment.payout = None
    instalment.last_failure = reason[:500]
    instalment.save(update_fields=["status", "payout", "last_failure"])


def is_ewallet(channel_code: str) -> bool:
    return channel_code in EWALLETS

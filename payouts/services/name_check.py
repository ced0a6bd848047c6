"""The name inquiry before an incentive account is confirmed (issue 15: the
audit found incentives paid to accounts in someone else's name).

After the participant confirms the account with the code sent to their
phone, the gateway is asked whom the bank or e-wallet holds the account
for. The holder's name is compared with the participant's verified KTP name
(case, spacing and punctuation aside; or the gateway's own MATCH):

- the same: the account is confirmed and what is due is paid to it;
- unknown to the bank: the account is refused, the participant is told;
- another name, or a bank that cannot be asked: the account waits for the
  PMO's review as an integrity case (clear confirms it, keep blocked
  refuses it).

The gateway may answer later (PENDING) or not at all for a while: the
account stays *checking* and the sweep (beat, every 5 minutes) asks again.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrity.models import Case
from payments.channels import holder_name_normalise
from payments.gateway import AccountCheck, GatewayError, GatewayRefused, get_account_validator
from prakerja.lifecycle import record_move

from ..models import INCENTIVE_ACCOUNT_TRANSITIONS, IncentiveAccount, IncentivePayment

log = logging.getLogger(__name__)


def reference_of(account: IncentiveAccount) -> str:
    """One reference per request sent: a request lost on the way (a timeout
    after the gateway received it) is never repeated under its reference."""
    return f"incentive-account-{account.pk}-{account.name_check_attempts}"


def incentive_account_check(*, account_id: int) -> str:
    """Asks (or asks again) the gateway about one account being checked and
    acts on a final answer. One run at a time per account: the account's
    row stays locked while the gateway is asked. Returns the account's
    status afterwards."""
    with transaction.atomic():
        account = (
            IncentiveAccount.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("participant")
            .filter(pk=account_id)
            .first()
        )
        if account is None:  # another run is asking right now, or the account is gone
            return IncentiveAccount.objects.filter(pk=account_id).values_list("status", flat=True).first() or "gone"
        if account.status != IncentiveAccount.Status.CHECKING:
            return account.status
        check = _ask(account)
        if check is None:  # no answer yet
            if timezone.now() - account.created_at > timedelta(hours=settings.INCENTIVE_NAME_CHECK_GIVE_UP_HOURS):
                check = AccountCheck(id="", reference_id="", status="FAILED", failure_code="NO_ANSWER")
            else:
                return account.status
    return _decide(account.pk, check)


def _ask(account: IncentiveAccount) -> AccountCheck | None:
    """The gateway's final answer about the account, or None for not yet
    (a request is pending, the gateway is down, or a new request was sent)."""
    validator = get_account_validator()
    try:
        if account.name_check_id:
            check = validator.get_check(account.name_check_id)
        elif account.name_check_attempts >= settings.INCENTIVE_NAME_CHECK_TRIES:
            return AccountCheck(id="", reference_id="", status="FAILED", failure_code="NO_ANSWER")
        else:
            account.name_check_attempts += 1
            account.save(update_fields=["name_check_attempts"])  # before sending, in case the answer is lost
            check = validator.request_check(
                reference_id=reference_of(account),
                channel_code=account.channel_code,
                account_number=account.account_number,
                given_name=account.participant.full_name,
            )
    except GatewayError as exc:
        log.warning("name inquiry for incentive account %s not answered: %s", account.pk, exc)
        return None
    except GatewayRefused as exc:
        return AccountCheck(id="", reference_id=reference_of(account), status="FAILED", failure_code=exc.code)
    # Unknown to the gateway, or failed while tries are left: ask anew, under a new reference.
    again = check.status == "UNKNOWN" or (check.status == "FAILED" and _may_retry(account))
    kept = "" if again else check.id
    if account.name_check_id != kept:
        account.name_check_id = kept
        account.save(update_fields=["name_check_id"])
    return None if again or not check.is_final else check


def _may_retry(account: IncentiveAccount) -> bool:
    """A FAILED inquiry may be the bank's passing trouble: asked again up to
    INCENTIVE_NAME_CHECK_TRIES times before it goes to review."""
    return account.name_check_attempts < settings.INCENTIVE_NAME_CHECK_TRIES


def _same_name(check: AccountCheck, kyc_name: str) -> bool:
    if check.name_matching == "MATCH":
        return True
    return bool(check.holder_name) and holder_name_normalise(check.holder_name) == holder_name_normalise(kyc_name)


def _decide(account_id: int, check: AccountCheck) -> str:
    from .incentives import incentive_account_activate

    with transaction.atomic():
        account = IncentiveAccount.objects.select_for_update().select_related("participant").get(pk=account_id)
        if account.status != IncentiveAccount.Status.CHECKING:  # another run decided it, or it was replaced
            return account.status
        account.bank_holder_name = (check.holder_name or "")[:150]
        account.name_checked_at = timezone.now()
        account.save(update_fields=["bank_holder_name", "name_checked_at"])
        if check.status == "COMPLETED" and check.is_found is False:
            record_move(
                account,
                IncentiveAccount.Status.REFUSED,
                table=INCENTIVE_ACCOUNT_TRANSITIONS,
                by=None,
                reason="name inquiry: account not found",
            )
            account.refused_reason = _("The bank has no account with this number.")
            account.save(update_fields=["status", "refused_reason"])
        elif check.status == "COMPLETED" and _same_name(check, account.participant.full_name):
            incentive_account_activate(account, by=None, reason="name inquiry: the holder's name matches")
        else:
            record_move(
                account,
                IncentiveAccount.Status.REVIEW,
                table=INCENTIVE_ACCOUNT_TRANSITIONS,
                by=None,
                reason=f"name inquiry: {check.failure_code or check.name_matching or 'another name'}",
            )
            account.save(update_fields=["status"])
            _open_case(account, check)
        return account.status


def _open_case(account: IncentiveAccount, check: AccountCheck) -> Case:
    at_risk = sum(
        IncentivePayment.objects.filter(
            participant_id=account.participant_id, status=IncentivePayment.Status.SCHEDULED
        ).values_list("amount", flat=True)
    )
    case, _created = Case.objects.get_or_create(
        key=f"name:{account.pk}",
        defaults={
            "kind": Case.Kind.NAME_MISMATCH,
            "stage": Case.Stage.INCENTIVE,
            "participant_id": account.participant_id,
            "holds_money": False,
            "amount_held": at_risk,
            "evidence": {
                "account_id": account.pk,
                "channel": account.channel_code,
                "account_last4": account.account_number[-4:],
                "bank_holder_name": check.holder_name,
                "name_matching": check.name_matching,
                "failure_code": check.failure_code,
            },
        },
    )
    return case


def name_review_decide(case: Case, *, approve: bool, by, reason: str) -> None:
    """The officer's decision on a name case (inside case_decide's
    transaction): clear confirms the account, keep blocked refuses it."""
    from .incentives import incentive_account_activate

    account = IncentiveAccount.objects.select_for_update().filter(pk=case.evidence.get("account_id")).first()
    if account is None or account.status != IncentiveAccount.Status.REVIEW:
        if approve:
            status = account.get_status_display() if account else "-"
            raise ValidationError(
                _("The account is no longer under review (%(status)s): clearing the case cannot confirm it.")
                % {"status": status},
                code="account_not_in_review",
            )
        return  # replaced meanwhile by another account the participant entered, or refused already
    if approve:
        incentive_account_activate(account, by=by, reason=f"case {case.pk}: {reason}"[:500])
        return
    record_move(
        account, IncentiveAccount.Status.REFUSED, table=INCENTIVE_ACCOUNT_TRANSITIONS, by=by, reason=f"case {case.pk}"
    )
    account.refused_reason = _("The account is not in your name as on your KTP.")
    account.save(update_fields=["status", "refused_reason"])


def incentive_accounts_sweep() -> int:
    """Beat: asks again about every account still being checked, oldest
    first, each in its own task (a slow gateway delays only its own).
    Returns how many it queued."""
    from ..tasks import check_incentive_account

    waiting = IncentiveAccount.objects.filter(status=IncentiveAccount.Status.CHECKING).order_by("pk")
    ids = list(waiting.values_list("pk", flat=True)[: settings.INCENTIVE_NAME_CHECK_SWEEP])
    for pk in ids:
        check_incentive_account.delay(pk)
    return len(ids)

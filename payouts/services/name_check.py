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
    return f"incentive-account-{account.pk}"


def incentive_account_check(*, account_id: int) -> str:
    """Asks (or asks again) the gateway about one account being checked and
    acts on a final answer. Returns the account's status afterwards."""
    account = IncentiveAccount.objects.select_related("participant").filter(pk=account_id).first()
    if account is None or account.status != IncentiveAccount.Status.CHECKING:
        return account.status if account else "gone"
    validator = get_account_validator()
    try:
        if account.name_check_id:
            check = validator.get_check(account.name_check_id)
        else:
            check = validator.request_check(
                reference_id=reference_of(account),
                channel_code=account.channel_code,
                account_number=account.account_number,
                given_name=account.participant.full_name,
            )
            IncentiveAccount.objects.filter(pk=account.pk, name_check_id="").update(name_check_id=check.id)
    except GatewayError as exc:
        log.warning("name inquiry for incentive account %s not answered: %s", account.pk, exc)
        return account.status
    except GatewayRefused as exc:
        check = AccountCheck(id="", reference_id=reference_of(account), status="FAILED", failure_code=exc.code)
    if not check.is_final:
        return account.status
    return _decide(account.pk, check)


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
        return  # replaced meanwhile by another account the participant entered
    if approve:
        incentive_account_activate(account, by=by, reason=f"case {case.pk}: {reason}"[:500])
        return
    record_move(
        account, IncentiveAccount.Status.REFUSED, table=INCENTIVE_ACCOUNT_TRANSITIONS, by=by, reason=f"case {case.pk}"
    )
    account.refused_reason = _("The account is not in your name as on your KTP.")
    account.save(update_fields=["status", "refused_reason"])


def incentive_accounts_sweep() -> int:
    """Beat: asks again about every account still being checked."""
    decided = 0
    for pk in IncentiveAccount.objects.filter(status=IncentiveAccount.Status.CHECKING).values_list("pk", flat=True)[
        :500
    ]:
        decided += incentive_account_check(account_id=pk) != IncentiveAccount.Status.CHECKING
    return decided

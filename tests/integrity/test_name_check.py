"""The audit's incentives paid to accounts in someone else's name: before
an incentive account is confirmed, the gateway's name inquiry (Xendit's
bank account validation, here its stand-in on loopback) says whose the
account is; a name other than the KYC name goes to the PMO's review as a
case, and nothing is paid to it until an officer clears it."""

import json
import urllib.request
from datetime import timedelta

import pytest
from django.db.models import F

from accounts.models import OneTimeCode
from enrollment.services import reviews
from integrity.models import Case
from payouts.models import IncentiveAccount, IncentivePayment
from payouts.services import incentives
from payouts.services.name_check import incentive_account_check, incentive_accounts_sweep
from tests.enrollment.conftest import sms_code
from tests.payouts.conftest import completed_enrollment

pytestmark = pytest.mark.django_db

NUMBER = "081234567890"


@pytest.fixture
def graduate(committed, world):
    institution, staff = world["institution"]("LPK Insentif")
    enrollment = completed_enrollment(committed, world, institution, staff)
    participant = enrollment.participant
    reviews.review_create(participant=participant, enrollment_id=enrollment.pk, rating=5, text="Bagus sekali")
    incentives.incentives_schedule(participant=participant)
    return participant


def link(committed, participant, number=NUMBER, channel="ID_OVO") -> IncentiveAccount:
    """The participant enters the account and the code sent to their phone;
    the name inquiry runs after the commit, as the task does."""
    OneTimeCode.objects.update(created_at=F("created_at") - timedelta(minutes=2))  # a while since the last code
    committed(
        incentives.incentive_account_start,
        participant=participant,
        channel_code=channel,
        account_number=number,
        account_holder=participant.full_name,
    )
    account = incentives.incentive_account_confirm(participant=participant, code=sms_code())
    assert account.status == "checking"
    incentive_account_check(account_id=account.pk)
    account.refresh_from_db()
    return account


def checks(bank) -> list[dict]:
    with urllib.request.urlopen(bank.url + "/_standin/checks", timeout=5) as response:
        return json.loads(response.read())


def test_an_account_in_the_participants_own_name_is_confirmed_after_the_banks_answer(committed, graduate, bank):
    account = link(committed, graduate)
    assert account.status == "confirmed" and account.bank_holder_name == graduate.full_name.upper()
    (asked,) = checks(bank)
    # What Xendit's contract asks: the number, the bank without the country prefix, the KYC name, our reference.
    assert (asked["bank_account_number"], asked["bank_code"], asked["given_name"]) == (
        NUMBER,
        "OVO",
        graduate.full_name,
    )
    assert asked["reference_id"] == f"incentive-account-{account.pk}-1"
    assert not Case.objects.exists()


def test_an_account_in_another_name_waits_for_review_and_the_officer_decides(committed, graduate, bank, officer):
    from integrity.services.cases import case_decide

    bank.holder(NUMBER, "BUDI JOKI SANTOSO")
    account = link(committed, graduate)
    assert (account.status, account.bank_holder_name) == ("review", "BUDI JOKI SANTOSO")
    case = Case.objects.get()
    assert (case.kind, case.stage, case.participant_id, case.holds_money) == ("name", "incentive", graduate.pk, False)
    assert case.evidence["bank_holder_name"] == "BUDI JOKI SANTOSO" and case.evidence["account_last4"] == "7890"
    scheduled = IncentivePayment.objects.filter(participant=graduate, status="scheduled")
    assert case.amount_held == sum(scheduled.values_list("amount", flat=True)) > 0
    # Nothing is paid to an account under review.
    first = scheduled.get(kind="post_training", number=1)
    assert incentives.incentive_pay(incentive_id=first.pk) is None
    assert IncentivePayment.objects.get(pk=first.pk).status == "scheduled"

    case_decide(case_id=case.pk, by=officer, decision="block", reason="Rekening atas nama orang lain (joki).")
    account.refresh_from_db()
    assert account.status == "refused" and "not in your name" in account.refused_reason

    # A second account, also in another name, is cleared by the officer (a married name, say).
    bank.holder("089876543210", "SITI NAMA SUAMI")
    second = link(committed, graduate, number="089876543210")
    assert second.status == "review"
    case2 = Case.objects.get(key=f"name:{second.pk}")
    case_decide(case_id=case2.pk, by=officer, decision="clear", reason="Nama setelah menikah; buku nikah dicek.")
    second.refresh_from_db()
    assert second.status == "confirmed"
    assert incentives.confirmed_account(graduate) == second


def test_an_unknown_account_is_refused_and_a_bank_that_cannot_be_asked_goes_to_review(committed, graduate, bank):
    bank.holder(NUMBER, None)
    account = link(committed, graduate)
    assert account.status == "refused" and "no account with this number" in account.refused_reason
    assert not Case.objects.exists()

    bank.holder("0811111111", mode="refuse")
    unsupported = link(committed, graduate, number="0811111111")
    assert unsupported.status == "review"
    assert Case.objects.get().evidence["failure_code"] == "BANK_CODE_NOT_SUPPORTED"


def test_a_late_or_unreachable_bank_leaves_the_account_checking_until_the_sweep_has_its_answer(
    committed, graduate, bank, settings
):
    bank.holder(NUMBER, mode="pending")
    account = link(committed, graduate)
    assert account.status == "checking" and account.name_check_id  # asked once, the answer is not there yet
    assert incentive_accounts_sweep() == 1
    account.refresh_from_db()
    assert account.status == "confirmed"
    assert len(checks(bank)) == 1  # the sweep asked about the same request, it did not make another

    # The gateway down: the account waits (nothing confirmed, nothing refused), then the sweep finishes it.
    bank.holder("0822222222", mode="error")
    down = link(committed, graduate, number="0822222222")
    assert down.status == "checking" and not down.name_check_id
    bank.holder("0822222222")
    assert incentive_accounts_sweep() == 1
    down.refresh_from_db()
    assert down.status == "confirmed"
    account.refresh_from_db()
    assert account.status == "replaced"


def test_a_failing_bank_is_asked_again_then_the_account_goes_to_review_and_a_refused_one_cannot_be_cleared(
    committed, graduate, bank, officer
):
    from django.core.exceptions import ValidationError

    from integrity.services.cases import case_decide

    bank.holder(NUMBER, mode="failed")
    account = link(committed, graduate)
    assert account.status == "checking"  # FAILED once: asked again, under a new reference
    incentive_accounts_sweep()
    incentive_accounts_sweep()
    account.refresh_from_db()
    assert account.status == "review" and account.name_check_attempts == 3
    assert [c["reference_id"] for c in checks(bank)] == [f"incentive-account-{account.pk}-{n}" for n in (1, 2, 3)]
    case = Case.objects.get()
    assert case.evidence["failure_code"] == "BANK_NETWORK_ERROR"

    case_decide(case_id=case.pk, by=officer, decision="block", reason="Tidak bisa dicek; minta rekening lain.")
    account.refresh_from_db()
    assert account.status == "refused"
    with pytest.raises(ValidationError) as refused:
        case_decide(case_id=case.pk, by=officer, decision="clear", reason="Salah pilih.")
    assert refused.value.code == "account_not_in_review"
    assert Case.objects.get(pk=case.pk).status == "blocked"
    assert IncentiveAccount.objects.get(pk=account.pk).status == "refused"


def test_an_account_the_gateway_never_answers_about_goes_to_review_after_a_day(committed, graduate, bank):
    from django.utils import timezone

    bank.holder(NUMBER, mode="pending")
    account = link(committed, graduate)
    IncentiveAccount.objects.filter(pk=account.pk).update(created_at=timezone.now() - timedelta(hours=25))
    bank.holder(NUMBER, mode="error")  # from now on the gateway answers nothing
    with bank.lock:
        bank.checks.clear()  # nor does it know the request
    incentive_accounts_sweep()  # the request is unknown: asked anew, the gateway is down
    incentive_accounts_sweep()
    account.refresh_from_db()
    assert account.status == "review"
    assert Case.objects.get().evidence["failure_code"] == "NO_ANSWER"

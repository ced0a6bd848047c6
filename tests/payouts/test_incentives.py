"""Participants' incentives: an account in their own name confirmed by SMS,
the schedule, surveys, and payment through the same gateway and ledger path
as institutions' payouts (stand-in gateway, webhooks to a live server)."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import sms
from enrollment.services import reviews
from payments.models import Account
from payouts.models import IncentiveAccount, IncentivePayment, Payout
from payouts.services import incentives
from payouts.tasks import pay_incentives
from tests.enrollment.conftest import sms_code

from .conftest import completed_enrollment, ledger_ok, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def balance(kind, owner=""):
    account = Account.objects.filter(kind=kind, owner=owner).first()
    return account.balance if account else 0


@pytest.fixture
def graduate(committed, world):
    """A participant who completed their first course (not yet reviewed)."""
    inst, staff = world["institution"]("LPK Insentif")
    return completed_enrollment(committed, world, inst, staff).participant


def review(participant):
    enrollment = participant.enrollments.get()
    reviews.review_create(participant=participant, enrollment_id=enrollment.pk, rating=5, text="Bagus sekali")


def link(client, participant, **data):
    values = {"action": "account", "channel_code": "ID_OVO", "account_number": "0812 3456 7890"}
    values["account_holder"] = participant.full_name
    values.update(data)
    return client.post(reverse("payouts:incentives"), values)


def paid(participant):
    return list(IncentivePayment.objects.filter(participant=participant, status="paid").values_list("kind", "number"))


def test_a_graduate_links_an_account_in_their_own_name_and_is_paid_on_schedule(graduate, client, standin):
    participant = graduate
    client.force_login(participant.user)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("payouts:incentives")).content.decode()
    assert "complete your first course and review it" in page
    with pytest.raises(ValidationError):
        incentives.incentive_account_start(
            participant=participant, channel_code="ID_OVO", account_number="081234567890", account_holder="x"
        )

    review(participant)
    page = client.get(reverse("payouts:incentives")).content.decode()
    schedule = IncentivePayment.objects.filter(participant=participant)
    assert sorted((i.kind, i.number, i.amount) for i in schedule) == [
        ("post_training", 1, 600_000),
        ("post_training", 2, 600_000),
        ("post_training", 3, 600_000),
        ("post_training", 4, 600_000),
        ("survey", 1, 50_000),
        ("survey", 2, 50_000),
        ("survey", 3, 50_000),
    ]
    assert "2.550.000" in page or "2,550,000" in page
    assert "Waiting for your account" in page

    sms.outbox.clear()
    # Someone else's name, a bad e-wallet number, an empty name: refused, nothing stored.
    assert "in your own name" in link(client, participant, account_holder="Budi Orang Lain").content.decode()
    assert "mobile number of the e-wallet" in link(client, participant, account_number="12").content.decode()
    assert "This field is required" in link(client, participant, account_holder=" ").content.decode()
    assert not IncentiveAccount.objects.exists() and not sms.outbox

    # Case and spacing aside, the verified name matches; a code confirms the account.
    holder = "  " + participant.full_name.upper().replace(" ", "   ") + " "
    link(client, participant, account_holder=holder)
    assert "OVO" in sms.outbox[-1].body and "7890" in sms.outbox[-1].body
    wrong = "000000" if sms_code() != "000000" else "111111"
    response = client.post(reverse("payouts:incentives"), {"action": "code", "code": wrong})
    assert "wrong" in response.content.decode()
    client.post(reverse("payouts:incentives"), {"action": "code", "code": sms_code()})
    account = IncentiveAccount.objects.get(participant=participant)
    assert (account.status, account.account_number) == ("confirmed", "081234567890")
    # The same code from a second tab: told the account is confirmed, nothing moves.
    again = client.post(reverse("payouts:incentives"), {"action": "code", "code": sms_code()}, follow=True)
    assert "already confirmed" in again.content.decode()
    assert list(IncentiveAccount.objects.values_list("status", flat=True)) == ["confirmed"]

    # What is due is paid as soon as the account is confirmed: the first month.
    wait_for(lambda: paid(participant) == [("post_training", 1)], what="first month paid")
    fund_before = balance("programme_fund") + 600_000
    assert pay_incentives() == 0, "nothing else is due yet"
    # A month later, the second; and the survey's reward once it is answered.
    IncentivePayment.objects.filter(participant=participant, kind="post_training", number=2).update(
        due_at=timezone.now() - timezone.timedelta(minutes=1)
    )
    page = client.get(reverse("payouts:incentives")).content.decode()
    assert "Survey 1" in page and "Survey 2" not in page
    response = client.post(reverse("payouts:incentives"), {"action": "survey", "number": "1", "work": "employed"})
    assert "This field is required" in response.content.decode()
    client.post(
        reverse("payouts:incentives"), {"action": "survey", "number": "1", "work": "employed", "usefulness": "4"}
    )
    twice = client.post(
        reverse("payouts:incentives"),
        {"action": "survey", "number": "1", "work": "employed", "usefulness": "4"},
        follow=True,
    )
    assert "already answered" in twice.content.decode()
    response = client.post(
        reverse("payouts:incentives"), {"action": "survey", "number": "2", "work": "employed", "usefulness": "4"}
    )
    assert "opens on" in response.content.decode()
    # Answering the survey paid what was due then: its reward and the month
    # that had come (beat would have paid that one within the hour).
    wait_for(lambda: len(paid(participant)) == 3, what="three instalments paid")
    assert pay_incentives() == 0
    assert sorted(paid(participant)) == [("post_training", 1), ("post_training", 2), ("survey", 1)]

    # Money: from the fund, through the participant's incentive account, out.
    assert fund_before - balance("programme_fund") == 1_250_000
    assert balance("participant_incentive", f"participant:{participant.pk}") == 0
    assert balance("disbursed") == 1_250_000
    at_gateway = standin.payouts()
    assert sorted(p["amount"] for p in at_gateway) == [50_000, 600_000, 600_000]
    assert {(p["channel_code"], p["account_number"]) for p in at_gateway} == {("ID_OVO", "081234567890")}
    ledger_ok()
    page = client.get(reverse("payouts:incentives")).content.decode()
    assert "1.250.000" in page or "1,250,000" in page


def test_a_refused_account_gets_the_money_back_and_the_next_account_is_paid_once(graduate, client, standin, settings):
    participant = graduate
    review(participant)
    client.force_login(participant.user)
    client.cookies["django_language"] = "en"
    standin.mode("fail", account_number="9990001111", failure_code="INVALID_DESTINATION")
    link(client, participant, channel_code="ID_BRI", account_number="9990001111")
    # Confirming the account pays what is due at once; the bank refuses it.
    client.post(reverse("payouts:incentives"), {"action": "code", "code": sms_code()})
    wait_for(lambda: Payout.objects.filter(status="failed").exists(), what="the payout failed")
    instalment = IncentivePayment.objects.get(participant=participant, kind="post_training", number=1)
    assert (instalment.status, instalment.payout, instalment.last_failure) == ("scheduled", None, "INVALID_DESTINATION")
    assert IncentiveAccount.objects.get(participant=participant).status == "refused"
    assert balance("participant_incentive", f"participant:{participant.pk}") == 600_000
    # Told after the failure commits, in the thread that received the webhook.
    wait_for(lambda: any("INVALID_DESTINATION" in m.body for m in mail.outbox), what="the email")
    assert mail.outbox[-1].to == [participant.user.email]
    wait_for(lambda: sms.outbox and "Rp 600.000" in sms.outbox[-1].body, what="the SMS")  # in Indonesian
    assert sms.outbox[-1].to == participant.phone
    assert pay_incentives() == 0, "not paid again to the account that failed"
    page = client.get(reverse("payouts:incentives")).content.decode()
    assert "failed" in page and "INVALID_DESTINATION" in page

    settings.OTP_RESEND_INTERVAL_SECONDS = 0  # time passes before the next code
    link(client, participant, channel_code="ID_DANA", account_number="081299998888")
    client.post(reverse("payouts:incentives"), {"action": "code", "code": sms_code()})
    wait_for(lambda: paid(participant) == [("post_training", 1)], what="paid to the new account")
    assert pay_incentives() == 0
    # Credited by the fund once, whatever the number of attempts.
    assert balance("participant_incentive", f"participant:{participant.pk}") == 0
    assert balance("disbursed") == 600_000
    assert [p["account_number"] for p in standin.payouts() if p["status"] == "SUCCEEDED"] == ["081299998888"]
    ledger_ok()

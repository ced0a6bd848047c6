"""The partner API under concurrency, over real HTTP (live_server) with real
transactions: a platform that sends one authorisation twenty times, or one
idempotency key at once from several threads, gets one purchase."""

import uuid
from collections import Counter

import pytest

from accounts import sms
from enrollment.models import Enrollment
from partner_client import ApiError, PartnerClient
from payments.models import Account, Transfer
from tests.api import issue_client

from .conftest import card_holder, ledger_ok, run_together, sms_code

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def platform_api(live_server, courses):
    _client, secret = issue_client("PLT-SISNAKER", platform=courses.world["platform"])
    return PartnerClient(live_server.url, "PLT-SISNAKER", secret, retries=0)


def outcome(call):
    try:
        return call()
    except ApiError as error:
        return error


def test_twenty_authorisations_of_one_card_at_once_make_one_purchase(platform_api, committed, courses):
    card = card_holder(committed)
    (course,) = courses(600_000)
    sent = platform_api.send_otp(
        card_number=card.number,
        platform_user_id="u-1",
        course_id=course.pk,
        schedule_code=f"S{course.pk}-1",
        amount=600_000,
    )
    code = sms_code()
    results = run_together(
        20,
        lambda i: outcome(
            lambda: platform_api.authorize(
                payment_token=sent["payment_token"],
                otp=code,
                invoice_code=f"INV-{i}",
                invoice_url=f"https://sisnaker.example/{i}",
            )
        ),
    )
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, ApiError)]
    assert len(won) + len(lost) == 20
    # One purchase, whoever won; every other call refused (no 5xx).
    assert len({r["enrollment_id"] for r in won}) == 1 and won[0]["status"] == "authorised"
    assert all(error.status in (409, 422) for error in lost), Counter((e.status, e.code) for e in lost)
    enrollment = Enrollment.objects.get()
    assert enrollment.invoice_code == won[0]["invoice_code"]
    assert Account.objects.get(pk=card.account_id).available == 400_000
    assert Transfer.objects.filter(debit_id=card.account_id, status="pending").count() == 1
    ledger_ok()


def test_one_idempotency_key_sent_at_once_from_five_threads_runs_once(platform_api, committed, courses):
    card = card_holder(committed)
    (course,) = courses(300_000)
    key = str(uuid.uuid4())
    before = len(sms.outbox)
    results = run_together(
        5,
        lambda i: outcome(
            lambda: platform_api.send_otp(
                card_number=card.number,
                platform_user_id="u-1",
                course_id=course.pk,
                schedule_code=f"S{course.pk}-1",
                amount=300_000,
                idempotency_key=key,
            )
        ),
    )
    assert all(isinstance(r, dict) for r in results), results
    assert len({r["payment_token"] for r in results}) == 1
    assert len(sms.outbox) == before + 1

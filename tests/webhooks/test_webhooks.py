"""Webhooks to the partners (issue 13): every enrolment event signed as
Standard Webhooks, retried on schedule when the receiver fails (time moved,
not slept), the endpoint stopped after persistent failure with an email,
redelivered by hand with the same webhook-id, and never sent to a private
address in production."""

import datetime
import itertools

import pytest
from django.core import mail

from partner_client import ApiError
from partner_client.receiver import Receiver
from tests.catalog.test_catalog import world  # noqa: F401  (fixture)
from tests.enrollment.conftest import card_holder, courses  # noqa: F401  (fixture)
from tests.enrollment.test_api import api, buy  # noqa: F401  (fixture)
from webhooks.models import WebhookEndpoint, WebhookMessage
from webhooks.services import RETRY_SCHEDULE, webhooks_deliver_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


def subscribe(partner, receiver) -> str:
    answer = partner.set_webhook(receiver.url)
    assert answer["secret"].startswith("whsec_") and answer["is_active"]
    receiver.secret = answer["secret"]
    return answer["secret"]


def test_every_event_of_a_purchase_reaches_the_platform_and_the_institution_signed(api, committed, courses, receiver):  # noqa: F811
    institution_receiver = Receiver().start()
    try:
        card = card_holder(committed)
        (course,) = courses(300_000)
        subscribe(api.platform, receiver)
        subscribe(api.institution, institution_receiver)
        bought = buy(api, card, course, invoice="WH-1")
        api.institution.redeem(bought["voucher_code"])
        api.institution.complete(bought["enrollment_id"], b"%PDF-1.4 x", "s.pdf")
        for seen in (receiver, institution_receiver):
            types = [event["type"] for event in seen.events.values()]
            assert types == ["enrollment.authorised", "enrollment.redeemed", "enrollment.completed"]
            assert all(entry["verified"] for entry in seen.requests)
        authorised = next(iter(receiver.events.values()))
        assert authorised["data"]["invoice_code"] == "WH-1" and authorised["data"]["amount"] == 300_000
        assert "participant" not in str(authorised)  # no personal data in a webhook
        # The delivery log in the API: each message with its attempt.
        logged = list(api.platform.webhook_messages())
        assert [m["status"] for m in logged] == ["delivered"] * 3
        assert {m["msg_id"] for m in logged} == set(receiver.events)
        assert all(len(m["attempt_log"]) == 1 and m["attempt_log"][0]["status_code"] == 204 for m in logged)
    finally:
        institution_receiver.stop()


def test_a_receiver_that_fails_then_succeeds_sees_the_retries_on_schedule(api, committed, courses, receiver):  # noqa: F811
    card = card_holder(committed)
    (course,) = courses(300_000)
    subscribe(api.platform, receiver)
    receiver.fail_first = 3
    buy(api, card, course)
    message = WebhookMessage.objects.get()
    attempted = [message.attempt_log.get().attempted_at]
    while message.status == "pending":
        webhooks_deliver_due(now=message.next_attempt_at)
        message.refresh_from_db()
        attempted = list(message.attempt_log.values_list("attempted_at", flat=True))
    assert message.status == "delivered" and message.attempts == 4
    waits = [later - earlier for earlier, later in itertools.pairwise(attempted)]
    for wait, planned in zip(waits, RETRY_SCHEDULE, strict=False):
        assert planned * 0.9 <= wait <= planned * 1.1, (wait, planned)
    # Every try carried the same webhook-id; the last one was checked and kept.
    assert {entry["webhook-id"] for entry in receiver.requests} == {message.msg_id}
    assert len(receiver.requests) == 4 and list(receiver.events) == [message.msg_id]
    assert [a.status_code for a in message.attempt_log.all()] == [500, 500, 500, 204]
    # Nothing more is sent once delivered.
    assert webhooks_deliver_due(now=message.delivered_at + datetime.timedelta(days=2)) == 0


def test_an_endpoint_failing_for_a_day_is_stopped_and_its_partner_told(api, committed, courses, receiver, settings):  # noqa: F811
    settings.OTP_RESEND_INTERVAL_SECONDS = 0
    courses.world["platform"].contact_email = "tech@sisnaker.example"
    courses.world["platform"].save(update_fields=["contact_email"])
    card = card_holder(committed)
    (course,) = courses(300_000)
    subscribe(api.platform, receiver)
    receiver.fail_first = 10**6
    buy(api, card, course)
    message = WebhookMessage.objects.get()
    while message.status == "pending":
        committed(webhooks_deliver_due, now=message.next_attempt_at)
        message.refresh_from_db()
    span = message.attempt_log.last().attempted_at - message.attempt_log.first().attempted_at
    assert message.status == "failed" and message.attempts == 1 + len(RETRY_SCHEDULE)
    assert span >= datetime.timedelta(hours=24)
    endpoint = WebhookEndpoint.objects.get()
    assert not endpoint.is_active and message.msg_id in endpoint.disabled_reason
    assert mail.outbox[-1].to == ["tech@sisnaker.example"] and receiver.url in mail.outbox[-1].body
    # Redelivery waits for the endpoint to be fixed; then the same message goes.
    with pytest.raises(ApiError) as caught:
        api.platform.redeliver(message.msg_id)
    assert (caught.value.status, caught.value.code) == (409, "endpoint_disabled")
    receiver.fail_first = 0
    assert (
        api.platform.set_webhook(receiver.url)["is_active"] and api.platform.set_webhook(receiver.url)["secret"] is None
    )
    assert api.platform.redeliver(message.msg_id)["msg_id"] == message.msg_id
    message.refresh_from_db()
    assert message.status == "delivered" and list(receiver.events) == [message.msg_id]
    # Another client's message reads as not found.
    with pytest.raises(ApiError) as caught:
        api.other_platform.redeliver(message.msg_id)
    assert (caught.value.status, caught.value.code) == (404, "not_found")


def test_in_production_an_endpoint_is_https_on_a_public_address(api, settings):  # noqa: F811
    settings.WEBHOOK_REQUIRE_HTTPS = True
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False

    def refused(url):
        with pytest.raises(ApiError) as caught:
            api.platform.set_webhook(url)
        return caught.value.status, caught.value.code

    assert refused("http://93.184.215.14/hook") == (422, "https_required")
    for url in (
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://0.0.0.0/hook",
    ):
        assert refused(url) == (422, "private_address"), url
    assert refused("https://user:pw@93.184.215.14/hook") == (422, "url_invalid")
    assert refused("ftp://93.184.215.14/hook") == (422, "url_invalid")
    assert not WebhookEndpoint.objects.exists()
    assert api.platform.set_webhook("https://93.184.215.14/hook")["is_active"]

"""The Xendit Payouts client against the local stand-in, over real HTTP on
loopback: creation, idempotency, refusals, lost answers, polling and
webhook authenticity."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from payments.gateway import GatewayError, GatewayRefused, PayoutRequest, WebhookRejected
from payments.gateway.standin import StandinGateway
from payments.gateway.xendit import XenditPayoutGateway

SECRET, TOKEN = "xnd_development_test", "callback-token-test"


class WebhookInbox:
    """A receiver of the stand-in's webhooks, like our endpoint will be."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                inbox.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"

    def wait(self, count: int, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received)} webhooks, expected {count}")


@pytest.fixture
def inbox():
    inbox = WebhookInbox()
    yield inbox
    inbox.server.shutdown()


@pytest.fixture
def standin(inbox):
    gateway = StandinGateway(secret_key=SECRET, callback_token=TOKEN, webhook_url=inbox.url).start()
    yield gateway
    gateway.stop()


@pytest.fixture
def client(standin, settings):
    settings.XENDIT_TIMEOUT_SECONDS = 0.5
    return XenditPayoutGateway(base_url=standin.url, secret_key=SECRET, callback_token=TOKEN)


def mode(standin, **spec):
    requests.post(standin.url + "/_standin/mode", json=spec, timeout=5).raise_for_status()


def payout(reference="payout-1", account="1234567890", amount=1_500_000):
    return PayoutRequest(
        reference_id=reference,
        channel_code="ID_BNI",
        account_number=account,
        account_holder_name="LPK Maju Jaya",
        amount=amount,
        description="Prakerja payout",
    )


def paid(standin, reference):
    listing = requests.get(standin.url + "/_standin/payouts", timeout=5).json()
    return [p for p in listing if p["reference_id"] == reference]


def test_a_payout_is_created_once_and_its_webhook_is_authentic(client, standin, inbox):
    created = client.create_payout(payout())
    assert (created.status, created.amount, created.reference_id) == ("ACCEPTED", 1_500_000, "payout-1")
    again = client.create_payout(payout())  # a retry with the same key
    assert again.id == created.id
    assert len(paid(standin, "payout-1")) == 1

    inbox.wait(1)
    headers, body = inbox.received[0]
    event = client.parse_webhook(headers, body)
    assert (event.id, event.status) == (created.id, "SUCCEEDED")
    assert client.get_payout(created.id).status == "SUCCEEDED"
    assert json.loads(body)["event"] == "payout.succeeded"


def test_a_forged_or_unreadable_webhook_is_rejected(client):
    body = json.dumps({"event": "payout.succeeded", "data": {"id": "disb-x", "status": "SUCCEEDED"}}).encode()
    for headers in ({}, {"x-callback-token": "guess"}, {"x-callback-token": TOKEN[:-1]}):
        with pytest.raises(WebhookRejected):
            client.parse_webhook(headers, body)
    with pytest.raises(WebhookRejected):
        client.parse_webhook({"x-callback-token": TOKEN}, b"not json")


def test_a_failed_payout_reports_the_gateways_reason(client, standin, inbox):
    mode(standin, mode="fail", failure_code="INVALID_DESTINATION")
    created = client.create_payout(payout())
    inbox.wait(1)
    event = client.parse_webhook(*inbox.received[0])
    assert (event.status, event.failure_code) == ("FAILED", "INVALID_DESTINATION")
    assert client.get_payout(created.id).is_final


def test_a_definite_refusal_is_not_retried_and_a_server_error_is(client, standin):
    mode(standin, mode="refuse", failure_code="RECIPIENT_ACCOUNT_NUMBER_ERROR")
    with pytest.raises(GatewayRefused) as refused:
        client.create_payout(payout("payout-2"))
    assert refused.value.code == "RECIPIENT_ACCOUNT_NUMBER_ERROR"
    mode(standin, mode="error")
    with pytest.raises(GatewayError):
        client.create_payout(payout("payout-3"))
    assert paid(standin, "payout-2") == [] and paid(standin, "payout-3") == []


def test_a_lost_answer_is_retried_safely_and_pays_once(client, standin):
    mode(standin, mode="timeout", delay=1.5)
    with pytest.raises(GatewayError):
        client.create_payout(payout("payout-4"))
    mode(standin, mode="succeed")
    retried = client.create_payout(payout("payout-4"))  # DUPLICATE -> found by reference
    listing = paid(standin, "payout-4")
    assert len(listing) == 1 and listing[0]["id"] == retried.id
    assert listing[0]["create_requests"] == 2


def test_a_missing_webhook_is_found_by_polling_and_a_double_one_is_the_same_event(client, standin, inbox):
    mode(standin, mode="no_webhook")
    quiet = client.create_payout(payout("payout-5"))
    mode(standin, mode="twice")
    loud = client.create_payout(payout("payout-6"))
    inbox.wait(2)
    assert {client.parse_webhook(*r).id for r in inbox.received} == {loud.id}
    for _i in range(50):
        if client.get_payout(quiet.id).status == "SUCCEEDED":
            break
        time.sleep(0.05)
    assert client.get_payout(quiet.id).status == "SUCCEEDED"


def test_a_wrong_secret_key_is_refused_and_blamed_on_us_not_the_payee(standin):
    wrong = XenditPayoutGateway(base_url=standin.url, secret_key="xnd_wrong", callback_token=TOKEN)
    # Not a refusal of the payout (which would fail it and blame the payee's
    # account) but an error to retry once the key is fixed.
    with pytest.raises(GatewayError, match="INVALID_API_KEY: check XENDIT_SECRET_KEY"):
        wrong.create_payout(payout("payout-7"))
    assert paid(standin, "payout-7") == []

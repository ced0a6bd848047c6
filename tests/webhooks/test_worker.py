"""A real Celery worker is killed (SIGKILL) while the partner's server holds
a webhook's answer; the broker gives the task to a new worker, which sends
the same message again with the same webhook-id, and the partner keeps it
once."""

import os
import signal

import pytest
from django.db import transaction

from partner_client.receiver import Receiver
from prakerja.celery import app as celery_app
from tests.api import issue_client
from tests.catalog.test_catalog import world  # noqa: F401  (fixture)
from tests.workers import start_worker, wait_for
from webhooks.models import WebhookMessage
from webhooks.services import webhook_emit, webhook_endpoint_set

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_delivery_delivers_once_with_the_same_webhook_id(world, tmp_path):  # noqa: F811
    api_client, _key = issue_client("PLT-WORKER", platform=world["platform"])
    receiver = Receiver().start()
    receiver.hold_first_seconds = 20  # the first attempt's answer never comes back in time
    _endpoint, receiver.secret = webhook_endpoint_set(client=api_client, url=receiver.url)
    log = tmp_path / "worker.log"
    # Each attempt holds its message for 3 s here (production: 60 s).
    worker = start_worker(log, WEBHOOK_LEASE_SECONDS="3", WEBHOOK_TIMEOUT_SECONDS="2")
    celery_app.conf.task_always_eager = False
    try:
        with transaction.atomic():
            webhook_emit(
                event_type="payout.succeeded", key="payout:1:succeeded", platform_id=world["platform"].pk, data={"n": 1}
            )
        wait_for(lambda: len(receiver.requests) >= 1, timeout=60, what="the first attempt: " + log.read_text()[-2000:])
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        worker = start_worker(log, WEBHOOK_LEASE_SECONDS="3", WEBHOOK_TIMEOUT_SECONDS="2")
        wait_for(
            lambda: WebhookMessage.objects.get().status == "delivered",
            timeout=90,
            what="the message delivered: " + log.read_text()[-3000:],
        )
    finally:
        celery_app.conf.task_always_eager = True
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        receiver.stop()
    message = WebhookMessage.objects.get()
    # Two requests reached the partner, one message: the same webhook-id, kept once.
    assert [entry["webhook-id"] for entry in receiver.requests] == [message.msg_id] * len(receiver.requests)
    assert len(receiver.requests) >= 2 and list(receiver.events) == [message.msg_id]
    # The killed attempt was never recorded; the one that got through was.
    assert [a.status_code for a in message.attempt_log.all()] == [204]

"""A real Celery worker on the Redis broker sends a batch to the stand-in
gateway; it is killed (SIGKILL) while the gateway holds a payout's answer,
a new worker starts, and every payout is paid exactly once."""

import os
import signal
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone

from payouts.models import Payout, PayoutBatch
from payouts.services import batches
from prakerja.celery import app as celery_app
from tests.workers import start_worker as start_any_worker

from .conftest import completed_enrollment, ledger_ok, wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def start_worker(settings, log_path) -> subprocess.Popen:
    return start_any_worker(
        log_path,
        XENDIT_BASE_URL=settings.XENDIT_BASE_URL,
        XENDIT_SECRET_KEY=settings.XENDIT_SECRET_KEY,
        XENDIT_CALLBACK_TOKEN=settings.XENDIT_CALLBACK_TOKEN,
        XENDIT_TIMEOUT_SECONDS="10",
    )


def test_a_worker_killed_mid_batch_leads_to_exactly_one_payment_per_payout(
    committed, world, finance, standin, settings, tmp_path
):
    payees = []
    for n in range(4):
        inst, staff = world["institution"](f"LPK Pekerja {n}")
        completed_enrollment(committed, world, inst, staff, price=100_000 * (n + 1))
        payees.append(inst)
    # Every answer is held 3 s after the payout is made; webhooks come 25 s later.
    standin.mode("slow", delay=3, settle_after=25)
    batch = batches.payout_batch_build(by=finance["maker"], cutoff=timezone.now())
    batches.payout_batch_submit(batch_id=batch.pk, by=finance["maker"])
    log = tmp_path / "worker.log"
    worker = start_worker(settings, log)
    celery_app.conf.task_always_eager = False  # from here tasks go to the broker
    try:
        batches.payout_batch_approve(batch_id=batch.pk, by=finance["checker"])
        # The gateway made the first payout; its answer has not come back.
        wait_for(lambda: len(standin.gateway.payouts) >= 1, timeout=60, what="a payout at the gateway")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        killed_during = Payout.objects.get(batch=batch, status="sent")
        assert not killed_during.gateway_id, "the worker died before it saved the gateway's answer"

        worker = start_worker(settings, log)
        wait_for(
            lambda: PayoutBatch.objects.get(pk=batch.pk).status == "settled",
            timeout=120,
            what="the batch settled: " + log.read_text()[-2000:],
        )
    finally:
        celery_app.conf.task_always_eager = True
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)

    at_gateway = standin.payouts()
    ours = {p.reference: p for p in Payout.objects.filter(batch=batch)}
    # Exactly one payment per payout, the interrupted one asked for twice.
    assert sorted(p["reference_id"] for p in at_gateway) == sorted(ours)
    requests = {p["reference_id"]: p["create_requests"] for p in at_gateway}
    assert requests[killed_during.reference] == 2, (requests, log.read_text()[-6000:])
    for payment in at_gateway:
        payout = ours[payment["reference_id"]]
        assert (payout.status, payout.gateway_id, payout.amount) == ("succeeded", payment["id"], payment["amount"])
    assert {p.institution for p in ours.values()} == set(payees)
    ledger_ok()

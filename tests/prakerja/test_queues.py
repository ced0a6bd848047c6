"""Issue 16: Celery work is split into queues by kind, each with its own
workers, so a bulk job never delays a one-time code. Here a real worker on
the bulk queue registers a Dinas office's CSV batch of several hundred rows
while a participant asks for a phone code: the messages queue's own worker
sends it before the batch is done."""

import pytest
from django.conf import settings

from accounts.models import RegistrationBatch
from accounts.services import phone
from notifications.models import Notification
from prakerja.celery import QUEUE_KINDS, queues_for
from prakerja.celery import app as celery_app
from tests.accounts.test_offline_registration import csv_bytes, csv_row, upload
from tests.factories import make_operator, make_participant, make_profile
from tests.workers import start_worker, wait_for

QUEUE = settings.CELERY_TASK_DEFAULT_QUEUE


def queue_of(task: str) -> str:
    return celery_app.amqp.router.route({}, task, (), {})["queue"].name


def test_each_kind_of_work_has_its_queue():
    assert set(settings.TASK_QUEUES) == set(QUEUE_KINDS)
    assert queue_of("notifications.tasks.deliver_notification") == f"{QUEUE}.messages"
    assert queue_of("kyc.tasks.run_kyc_check") == f"{QUEUE}.identity"
    assert queue_of("accounts.tasks.process_registration_batch") == f"{QUEUE}.bulk"
    assert queue_of("enrollment.tasks.run_wave_draw") == f"{QUEUE}.bulk"
    assert queue_of("integrity.tasks.import_screening_list") == f"{QUEUE}.bulk"
    assert queue_of("payouts.tasks.send_payout") == f"{QUEUE}.payouts"
    assert queue_of("webhooks.tasks.deliver_webhook") == QUEUE
    # Every task of the application is on one of the queues the workers listen to.
    listened = set(queues_for(QUEUE).split(","))
    ours = [
        name for name in celery_app.tasks if name.split(".")[0] in {a.split(".")[0] for a in settings.INSTALLED_APPS}
    ]
    assert ours and all(queue_of(name) in listened for name in ours)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_code_is_sent_while_a_bulk_job_runs(client, tmp_path, settings, committed):
    media = tmp_path / "private"
    media.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": media}},
    }
    log = tmp_path / "workers.log"
    bulk = start_worker(log, queues=f"{QUEUE}.bulk", PRIVATE_MEDIA_ROOT=str(media))
    messages = start_worker(log, queues=f"{QUEUE}.messages", PRIVATE_MEDIA_ROOT=str(media))
    celery_app.conf.task_always_eager = False
    try:
        operator = make_operator("32")
        client.force_login(operator)
        rows = [csv_row(make_profile(province="32"), f"massal{i}@example.com") for i in range(600)]
        assert upload(client, csv_bytes(rows)).status_code == 302
        batch = RegistrationBatch.objects.get()
        wait_for(
            lambda: RegistrationBatch.objects.get(pk=batch.pk).status == "processing",
            timeout=60,
            what="the bulk worker starting the batch",
        )

        person = make_participant()
        committed(phone.participant_send_phone_code, participant=person)
        wait_for(
            lambda: Notification.objects.filter(to=person.phone, channel="sms", status="sent").exists(),
            timeout=30,
            what="the code's SMS sent",
        )
        during = RegistrationBatch.objects.get(pk=batch.pk)
        assert during.status == "processing", "the batch finished first: make it longer to show anything"

        wait_for(lambda: RegistrationBatch.objects.get(pk=batch.pk).status == "done", timeout=240, what="the batch")
        assert RegistrationBatch.objects.get(pk=batch.pk).rows_registered == 600
        text = log.read_text()
        assert "process_registration_batch" in text and "deliver_notification" in text
    finally:
        celery_app.conf.task_always_eager = True
        for worker in (bulk, messages):
            worker.terminate()
            worker.wait(timeout=30)

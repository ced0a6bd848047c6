"""A real Celery worker process, on the Redis broker, registers an uploaded
CSV batch: the deployment path of offline registration."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import Participant, RegistrationBatch
from prakerja.celery import app as celery_app
from prakerja.celery import queues_for
from tests.accounts.test_offline_registration import csv_bytes, csv_row, upload
from tests.factories import make_operator, make_profile

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(tmp_path, settings):
    """Starts `celery worker` on this test's database and a private media
    folder shared with the test; tasks from this process go to the broker."""
    media = tmp_path / "private"
    media.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": media}},
    }
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PRIVATE_MEDIA_ROOT": str(media),
        "PRAKERJA_ENV": "test",
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "prakerja", "worker", "--pool=solo", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "-Q", queues_for(os.environ["CELERY_TASK_DEFAULT_QUEUE"])],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    celery_app.conf.task_always_eager = False
    try:
        yield process
    finally:
        celery_app.conf.task_always_eager = True
        process.terminate()
        process.wait(timeout=30)
        log.close()


def wait_for(predicate, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_registers_an_uploaded_batch(client, worker, tmp_path):
    operator = make_operator("32")
    client.force_login(operator)
    profiles = [make_profile(province="32") for _ in range(5)]
    rows = [csv_row(p, f"worker{i}@example.com") for i, p in enumerate(profiles)]
    rows.append(csv_row(make_profile(province="31"), "luar@example.com"))
    response = upload(client, csv_bytes(rows))
    assert response.status_code == 302
    batch = RegistrationBatch.objects.get()

    finished = wait_for(lambda: RegistrationBatch.objects.get(pk=batch.pk).status == "done")
    assert finished, (tmp_path / "worker.log").read_text()[-3000:]
    batch.refresh_from_db()
    assert (batch.rows_registered, batch.rows_refused) == (5, 1)
    assert Participant.objects.filter(registration_batch=batch, channel="offline").count() == 5
    # The worker, not this process, did the work.
    assert "process_registration_batch" in (tmp_path / "worker.log").read_text()
    result = client.get(reverse("accounts:operator_batch_result", args=[batch.pk]))
    lines = b"".join(result.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 7 and sum("ditolak" in line for line in lines) == 1

"""Real Celery worker processes, on the Redis broker, register an uploaded
CSV batch, its chunks side by side: the deployment path of offline
registration."""

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
    """Starts two `celery worker` processes on this test's database and a
    private media folder shared with the test, cutting batches into chunks
    of 2 rows; tasks from this process go to the broker."""
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
        "REGISTRATION_BATCH_CHUNK": "2",
    }
    log = (tmp_path / "worker.log").open("w")

    def start(name):
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "prakerja", "worker", "--pool=solo", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "-n", f"{name}@%h",
             "-Q", queues_for(os.environ["CELERY_TASK_DEFAULT_QUEUE"])],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    processes = [start("batch1"), start("batch2")]
    celery_app.conf.task_always_eager = False
    try:
        yield processes
    finally:
        celery_app.conf.task_always_eager = True
        for process in processes:
            process.terminate()
        for process in processes:
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
    profiles = [make_profile(province="32") for _ in range(7)]
    rows = [csv_row(p, f"worker{i}@example.com") for i, p in enumerate(profiles)]
    rows.append(csv_row(make_profile(province="31"), "luar@example.com"))
    response = upload(client, csv_bytes(rows))
    assert response.status_code == 302
    batch = RegistrationBatch.objects.get()

    finished = wait_for(lambda: RegistrationBatch.objects.get(pk=batch.pk).status == "done")
    assert finished, (tmp_path / "worker.log").read_text()[-3000:]
    batch.refresh_from_db()
    assert (batch.rows_registered, batch.rows_refused) == (7, 1)
    assert Participant.objects.filter(registration_batch=batch, channel="offline").count() == 7
    assert list(batch.chunks.values_list("status", flat=True)) == ["done"] * 4
    # The workers, not this process, did the work.
    log = (tmp_path / "worker.log").read_text()
    assert "process_registration_batch" in log and log.count("process_registration_chunk") >= 4
    result = client.get(reverse("accounts:operator_batch_result", args=[batch.pk]))
    lines = b"".join(result.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 9 and sum("ditolak" in line for line in lines) == 1
    assert [line.split(",")[0] for line in lines[1:]] == [str(n) for n in range(2, 10)]

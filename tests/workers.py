"""Real Celery worker processes for the tests that kill one mid-task."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def all_queues() -> str:
    from prakerja.celery import queues_for

    return queues_for(os.environ["CELERY_TASK_DEFAULT_QUEUE"])


def start_worker(log_path, queues: str | None = None, **env_extra) -> subprocess.Popen:
    """A worker on the test's own queues (all of them, unless ``queues``)
    and database; a dead worker's unacknowledged task comes back after 5 s
    (production waits hours)."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PRAKERJA_ENV": "test",
        "CELERY_VISIBILITY_TIMEOUT": "5",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        **env_extra,
    }
    log = open(log_path, "a")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "prakerja", "worker", "--pool=solo", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "-Q", queues or all_queues()],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")

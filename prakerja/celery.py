"""The Celery application. Settings come from Django's, prefixed CELERY_."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")

app = Celery("prakerja")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# The kinds of settings.TASK_QUEUES (written out so that scripts can name
# the queues before Django is set up).
QUEUE_KINDS = ("messages", "identity", "bulk", "payouts")


def queues_for(default_queue: str) -> str:
    """Every queue of a deployment whose default queue is ``default_queue``,
    for ``celery worker -Q`` (one worker taking all kinds of work)."""
    return ",".join([default_queue, *(f"{default_queue}.{kind}" for kind in QUEUE_KINDS)])

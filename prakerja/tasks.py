from celery import shared_task

from prakerja.api.idempotency import idempotent_requests_purge


@shared_task
def purge_idempotency_keys() -> int:
    return idempotent_requests_purge()

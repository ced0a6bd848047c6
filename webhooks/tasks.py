from celery import shared_task
from django.conf import settings

from .services import webhook_deliver, webhooks_deliver_due


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def deliver_webhook(self, message_id: int) -> str:
    """Takes the message's id; safe to run twice (a delivered message is not
    due). A worker killed mid-attempt: the broker gives the task to another
    worker, which sends the same webhook-id once the dead one's claim runs
    out (it waits for that, then tries)."""
    outcome = webhook_deliver(message_id=message_id)
    if outcome == "locked":
        self.retry(countdown=settings.WEBHOOK_LEASE_SECONDS, throw=False)
    return outcome


@shared_task
def deliver_due_webhooks() -> int:
    return webhooks_deliver_due()

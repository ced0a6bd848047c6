from celery import shared_task

from .services import notification_deliver, notifications_requeue


@shared_task(bind=True, acks_late=True, max_retries=3)
def deliver_notification(self, notification_id: int) -> None:
    """Takes a message's id, never its text; safe to run twice. A failure is
    recorded on the row and tried again soon; the beat job below takes over
    after that, up to the message's last attempt."""
    try:
        notification_deliver(notification_id=notification_id)
    except Exception as exc:
        # Scheduled, not raised: in-process (the demo) a failing provider must
        # not become an error of the request that queued the message.
        self.retry(exc=exc, countdown=min(600, 2 ** (self.request.retries + 3)), throw=False)


@shared_task
def requeue_notifications() -> int:
    return notifications_requeue()

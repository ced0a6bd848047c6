"""Queueing a message to a person and delivering it exactly once per key."""

import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Notification

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 7
RETRY_AFTER = timedelta(minutes=5)


def _queue(*, key: str, channel: str, to: str, subject: str, body: str) -> Notification:
    from .tasks import deliver_notification

    try:
        with transaction.atomic():
            message = Notification.objects.create(key=key, channel=channel, to=to, subject=subject, body=body)
    except IntegrityError:
        # The same message again (a task run twice): the first row stands.
        message = Notification.objects.get(key=key)
    if message.status == Notification.Status.PENDING:
        transaction.on_commit(lambda: deliver_notification.delay(message.pk))
    return message


def notify_email(*, key: str, to: list[str], subject: str, body: str) -> Notification:
    """An email to ``to``, sent once per ``key``, after the caller commits."""
    return _queue(key=key, channel=Notification.Channel.EMAIL, to=",".join(to), subject=subject, body=body)


def notify_sms(*, key: str, to: str, body: str) -> Notification:
    """An SMS to ``to`` (E.164), sent once per ``key``, after the caller commits."""
    return _queue(key=key, channel=Notification.Channel.SMS, to=to, subject="", body=body)


def notification_deliver(*, notification_id: int) -> bool:
    """Sends a pending message and marks it sent, under its row lock so two
    deliveries of one task cannot both send. Returns whether it sent now.
    A failure is recorded and raised for the task to retry."""
    from accounts import sms

    failure = None
    with transaction.atomic():
        message = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if message is None or message.status != Notification.Status.PENDING:
            return False
        message.attempts += 1
        try:
            if message.channel == Notification.Channel.SMS:
                sms.get_sender().send(to=message.to, body=message.body)
            else:
                send_mail(message.subject, message.body, None, message.to.split(","))
        except Exception as exc:  # the provider's or the mail server's, whatever it is
            failure = exc
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = Notification.Status.FAILED  # visible in admin, tried no more
            message.save(update_fields=["status", "attempts", "last_error"])
        else:
            message.status = Notification.Status.SENT
            message.sent_at = timezone.now()
            message.save(update_fields=["status", "attempts", "sent_at"])
    if failure is not None:
        log.warning("notification %s not delivered (attempt %s): %s", notification_id, message.attempts, failure)
        raise failure
    return True


def notifications_requeue(*, now=None) -> int:
    """Beat: queues again every message still waiting after a while (its task
    was lost, or its last try failed). Returns how many."""
    from .tasks import deliver_notification

    now = now or timezone.now()
    waiting = list(
        Notification.objects.filter(status=Notification.Status.PENDING, created_at__lt=now - RETRY_AFTER)
        .order_by("pk")
        .values_list("pk", flat=True)[:5000]
    )
    for pk in waiting:
        deliver_notification.delay(pk)
    return len(waiting)

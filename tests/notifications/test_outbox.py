"""Every email and SMS is a row of the outbox, delivered by id once: a task
run twice sends nothing twice, a one-time code never travels through the
broker and is not stored in clear, and a failed delivery is visible."""

import re
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts import sms
from accounts.services import otp
from notifications.models import Notification
from notifications.services import (
    MAX_ATTEMPTS,
    RETRY_AFTER,
    notification_deliver,
    notifications_requeue,
    notify_email,
)
from notifications.tasks import deliver_notification
from tests.factories import make_participant

pytestmark = pytest.mark.django_db


def test_a_message_delivered_twice_is_sent_once(committed):
    message = committed(notify_email, key="hello:1", to=["a@example.com"], subject="Halo", body="Isi")
    deliver_notification.delay(message.pk)  # a redelivery of the same task
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["a@example.com"]
    # The same message queued again (its task ran twice) is the same row.
    again = committed(notify_email, key="hello:1", to=["a@example.com"], subject="Halo", body="Isi")
    assert again.pk == message.pk and len(mail.outbox) == 1
    assert Notification.objects.get().status == "sent"


def test_a_one_time_code_goes_through_the_broker_as_an_id_and_is_stored_encrypted(committed, sms_outbox):
    participant = make_participant()
    with mock.patch.object(deliver_notification, "delay") as queued:
        committed(otp.otp_send, user=participant.user, phone=participant.phone, purpose=otp.PHONE_VERIFICATION)
    (call,) = queued.call_args_list
    assert call.args == (Notification.objects.get().pk,) and not call.kwargs
    message = Notification.objects.get()
    code = re.search(r"\b(\d{6})\b", message.body).group(1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM notifications_notification")
        (stored,) = cursor.fetchone()
    assert code not in stored
    assert notification_deliver(notification_id=message.pk) is True
    assert code in sms_outbox[-1].body


def test_a_failed_delivery_is_recorded_then_sent_by_the_beat_job_and_ends_failed_after_its_last_try(
    committed, sms_outbox
):
    participant = make_participant()
    later = timezone.now() + RETRY_AFTER * 2
    with mock.patch.object(sms.MemorySmsSender, "send", side_effect=OSError("provider down")):
        committed(otp.otp_send, user=participant.user, phone=participant.phone, purpose=otp.PHONE_VERIFICATION)
        message = Notification.objects.get()
        assert (message.status, message.attempts) == ("pending", 1)
        assert "provider down" in message.last_error and not sms_outbox
        assert notifications_requeue(now=later) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 2)
    # The provider is back: the next run sends it, once.
    assert notifications_requeue(now=later) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, len(sms_outbox)) == ("sent", 3, 1)
    assert notifications_requeue(now=later) == 0

    with mock.patch("notifications.services.send_mail", side_effect=OSError("mail server down")):
        other = committed(notify_email, key="never", to=["x@example.com"], subject="s", body="b")
        for _attempt in range(MAX_ATTEMPTS):
            notifications_requeue(now=later)
    other.refresh_from_db()
    assert (other.status, other.attempts) == ("failed", MAX_ATTEMPTS)
    assert "mail server down" in other.last_error

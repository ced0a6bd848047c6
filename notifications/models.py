"""The outbox: every email and SMS to a person is a row first. The task that
delivers it takes the row's id (never the text: an SMS may hold a one-time
code, which must not travel through the broker or sit in its logs), sends it
and marks it sent, so a redelivered or retried task sends nothing twice."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.fields import EncryptedCharField


class Notification(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    key = models.CharField(
        _("key"), max_length=120, unique=True, help_text=_("Names the message once: the same key is never sent twice.")
    )
    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=500, help_text=_("Email addresses (comma-separated) or a phone number."))
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    # Encrypted at rest: an SMS can carry a one-time code.
    body = EncryptedCharField(_("text"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="notification_status")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return f"{self.get_channel_display()} {self.key}"

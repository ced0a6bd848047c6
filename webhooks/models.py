"""Webhooks to the partners' own servers (Standard Webhooks): each API
client may register one endpoint; every event for its platform or
institution is a message row first (the outbox), delivered by Celery with
retries, each attempt logged."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WebhookEndpoint(models.Model):
    """Where a client receives its events, and the ``whsec_`` secret they
    are signed with (kept encrypted; shown once)."""

    client = models.OneToOneField(
        "catalog.ApiClient", on_delete=models.CASCADE, related_name="webhook_endpoint", verbose_name=_("client")
    )
    url = models.URLField(_("URL"), max_length=500)
    secret_encrypted = models.CharField(max_length=300, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self):
        return f"{self.client.code} → {self.url}"


class WebhookMessage(models.Model):
    """One event for one endpoint. ``msg_id`` is its ``webhook-id``: the
    same on every attempt, so the receiver can drop a repeat."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be delivered")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed (every retry)")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="messages", verbose_name=_("endpoint")
    )
    msg_id = models.CharField(_("webhook-id"), max_length=40, unique=True)
    # What the event is about, so one event makes one message per endpoint.
    key = models.CharField(_("event key"), max_length=120)
    event_type = models.CharField(_("event"), max_length=60, db_index=True)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # An attempt in flight holds the message until then; a worker killed
    # mid-delivery lets it go when this passes.
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook message")
        verbose_name_plural = _("webhook messages")
        permissions = [("redeliver_webhookmessage", _("Can send a webhook message again"))]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "key"], name="webhook_message_once_per_endpoint"),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False), name="webhook_delivered_dated"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]

    def __str__(self):
        return f"{self.msg_id} {self.event_type}"


class WebhookAttempt(models.Model):
    """One try at delivering a message: what the receiver answered."""

    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(_("attempted at"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("took (ms)"), default=0)

    class Meta:
        ordering = ["attempted_at", "id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self):
        return f"{self.message_id} @ {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"

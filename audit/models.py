"""The one audit trail (in the style of Zulip's RealmAuditLog and Saleor's
OrderEvent): every status move of every lifecycle and every staff change of
money-relevant settings, written by the service that made the change, in the
same transaction."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """Who (a user, or a system job when empty), what object, what happened
    (a status move from/to, or another kind of change), why, and a small
    structured payload (before and after of a changed setting)."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Status changed")
        SETTING = "setting", _("Setting changed")
        IMPORT = "import", _("List imported")
        ROLE = "role", _("Role changed")
        VIEWED = "viewed", _("Identity data viewed")
        NOTE = "note", _("Note added")

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when a system job made the change."),
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("kind of object"))
    object_id = models.PositiveBigIntegerField(_("object"))
    target = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(_("event"), max_length=10, choices=Kind.choices, default=Kind.STATUS)
    name = models.CharField(_("what"), max_length=60, blank=True, help_text=_("The setting or list, for other events."))
    from_status = models.CharField(_("from"), max_length=30, blank=True)
    to_status = models.CharField(_("to"), max_length=30, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "created_at"], name="audit_event_object")]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self):
        if self.kind == self.Kind.STATUS:
            return f"{self.from_status or '-'} -> {self.to_status}"
        return f"{self.get_kind_display()}: {self.name}"

    def _status_label(self, value: str) -> str:
        """A status in people's words, from the object's own status field."""
        model = ContentType.objects.get_for_id(self.content_type_id).model_class()
        try:
            choices = dict(model._meta.get_field("status").flatchoices)
        except (FieldDoesNotExist, AttributeError):  # no status field, or a model gone
            return value
        return str(choices.get(value, value)) if value else ""

    @property
    def from_label(self) -> str:
        return self._status_label(self.from_status)

    @property
    def to_label(self) -> str:
        return self._status_label(self.to_status)

    @property
    def actor_text(self) -> str:
        return str(self.actor) if self.actor_id else str(_("system"))

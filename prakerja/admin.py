"""Admin pieces shared by the apps."""

from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent


class EventsInline(GenericTabularInline):
    """An object's history from the audit trail, read-only: who, when, what
    (from, to), why, and the details of a changed setting."""

    model = AuditEvent
    fields = ["created_at", "what", "by", "reason", "details"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("history event")
    verbose_name_plural = _("History")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Whoever may see the object sees its history.
        return True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("what"))
    def what(self, event):
        if event.kind == AuditEvent.Kind.STATUS:
            return f"{event.from_label or '–'} → {event.to_label}"
        return f"{event.get_kind_display()}: {event.name}"

    @admin.display(description=_("by"))
    def by(self, event):
        return event.actor_text

    @admin.display(description=_("details"))
    def details(self, event):
        """Before and after of a changed setting, or a job's counts, as text."""
        payload = event.payload or {}
        if "before" in payload or "after" in payload:
            before, after = payload.get("before") or {}, payload.get("after") or {}
            keys = sorted(set(before) | set(after))
            return "; ".join(f"{k}: {before.get(k, '–')} → {after.get(k, '–')}" for k in keys)
        return "; ".join(f"{k}: {v}" for k, v in payload.items())


def rupiah(amount) -> str:
    """Whole rupiah as people write it: Rp 1.250.000."""
    return "–" if amount is None else "Rp " + f"{int(amount):,}".replace(",", ".")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records staff may look at but never add, change or delete in admin:
    they change only through the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

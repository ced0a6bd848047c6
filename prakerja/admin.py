"""Admin pieces shared by the apps."""

from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent


class EventsInline(GenericTabularInline):
    """An object's history from the audit trail, read-only: who, when, what
    (from, to), why, and the details of a changed setting."""

    model = AuditEvent
    fields = ["created_at", "kind", "name", "from_status", "to_status", "actor", "reason", "payload"]
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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records staff may look at but never add, change or delete in admin:
    they change only through the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

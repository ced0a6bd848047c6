"""Admin pieces shared by the apps."""

from django.contrib import admin


class StatusHistoryInline(admin.TabularInline):
    """The status changes of an object, read-only: who, when, from, to, why."""

    fields = ["created_at", "from_status", "to_status", "changed_by", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records staff may look at but never add, change or delete in admin:
    they change only through the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

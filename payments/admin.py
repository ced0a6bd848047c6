"""The ledger in admin: read-only. Money moves only through payments.services."""

from django.contrib import admin

from .models import Account, Transfer


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnly):
    list_display = ["kind", "owner", "balance", "held", "available"]
    list_filter = ["kind"]
    search_fields = ["owner"]


@admin.register(Transfer)
class TransferAdmin(ReadOnly):
    list_display = ["key", "debit", "credit", "amount", "status", "is_hold", "created_at", "resolved_at"]
    list_filter = ["status", "is_hold"]
    list_select_related = ["debit", "credit"]
    search_fields = ["key"]
    date_hierarchy = "created_at"

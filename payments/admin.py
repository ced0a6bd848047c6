"""The ledger in admin: read-only. Money moves only through payments.services."""

from django.contrib import admin

from prakerja.admin import ReadOnlyAdmin

from .models import Account, Transfer


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["kind", "owner", "balance", "held", "available"]
    list_filter = ["kind"]
    search_fields = ["owner"]


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["key", "debit", "credit", "amount", "status", "is_hold", "created_at", "resolved_at"]
    list_filter = ["status", "is_hold"]
    list_select_related = ["debit", "credit"]
    search_fields = ["key"]
    date_hierarchy = "created_at"

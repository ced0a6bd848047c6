"""The ledger in admin: read-only. Money moves only through payments.services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from prakerja.admin import ReadOnlyAdmin, rupiah_column

from .models import Account, Transfer


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["kind", "owner", "balance_rp", "held_rp", "available_rp"]
    balance_rp = rupiah_column("balance", gettext_lazy("balance"))
    held_rp = rupiah_column("held", gettext_lazy("held"))
    available_rp = rupiah_column("available", gettext_lazy("available"), sortable=False)
    list_filter = ["kind"]
    search_fields = ["owner"]


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    amount_rp = rupiah_column("amount", gettext_lazy("amount"))
    list_display = ["key", "debit", "credit", "amount_rp", "status", "is_hold", "created_at", "resolved_at"]
    list_filter = ["status", "is_hold"]
    list_select_related = ["debit", "credit"]
    search_fields = ["key"]
    date_hierarchy = "created_at"

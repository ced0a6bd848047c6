from django.contrib import admin

from prakerja.admin import ReadOnlyAdmin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Every email and SMS: what was sent, what failed and why (the text is
    not shown: it can hold a one-time code)."""

    list_display = ["created_at", "channel", "key", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "channel"]
    search_fields = ["key"]
    exclude = ["body"]
    show_full_result_count = False

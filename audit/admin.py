"""The whole audit trail, read-only, for the PMO (each object's own events
show on its page through prakerja.admin.EventsInline)."""

from django.contrib import admin

from prakerja.admin import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "content_type", "object_id", "kind", "name", "from_status", "to_status", "actor"]
    list_filter = ["kind", "content_type"]
    search_fields = ["=object_id", "reason", "name"]
    list_select_related = ["actor", "content_type"]
    raw_id_fields = ["actor"]
    show_full_result_count = False

"""Webhooks in admin, for PMO staff: every endpoint and message with each
attempt (the delivery log), read only; a message can be sent again."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from .services import webhook_redeliver


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnly, admin.ModelAdmin):
    """Set by the partner through the API (PUT /api/v1/webhooks/endpoint)."""

    list_display = ["client", "url", "is_active", "disabled_at", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["client__code", "url"]
    fields = ["client", "url", "is_active", "disabled_at", "disabled_reason", "created_at", "updated_at"]


class AttemptInline(ReadOnly, admin.TabularInline):
    model = WebhookAttempt
    fields = ["attempted_at", "status_code", "error", "duration_ms"]
    readonly_fields = fields
    extra = 0


@admin.register(WebhookMessage)
class WebhookMessageAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["msg_id", "endpoint", "event_type", "status", "attempts", "next_attempt_at", "delivered_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["msg_id", "endpoint__client__code", "key"]
    list_select_related = ["endpoint__client"]
    fields = [
        "msg_id",
        "endpoint",
        "event_type",
        "key",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
    ]
    inlines = [AttemptInline]
    actions = ["redeliver"]
    date_hierarchy = "created_at"

    def has_redeliver_permission(self, request):
        return request.user.has_perm("webhooks.redeliver_webhookmessage")

    @admin.action(description=_("Send the selected messages again (same webhook-id)"), permissions=["redeliver"])
    def redeliver(self, request, queryset):
        sent, refused = 0, []
        for message in queryset.select_related("endpoint__client"):
            try:
                webhook_redeliver(message=message)
                sent += 1
            except ValidationError as exc:
                refused.append(f"{message.msg_id}: {' '.join(exc.messages)}")
        if sent:
            self.message_user(
                request,
                ngettext("%(n)d message queued to be sent again.", "%(n)d messages queued to be sent again.", sent)
                % {"n": sent},
                messages.SUCCESS,
            )
        for line in refused:
            self.message_user(request, line, messages.ERROR)

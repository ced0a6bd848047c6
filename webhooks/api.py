"""The partner API of webhooks (/api/v1/webhooks/...): a client sets its
endpoint (the secret is shown when it is new), lists what was sent to it
with every attempt, and asks for a message again."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from prakerja.api.errors import ApiError, refusal
from prakerja.api.idempotency import idempotent
from prakerja.api.pagination import filtered_page
from prakerja.api.schema import errors, idempotency_key, page_of
from prakerja.api.serializers import StrictSerializer

from .models import WebhookMessage
from .services import webhook_endpoint_set, webhook_redeliver


class EndpointIn(StrictSerializer):
    url = serializers.URLField(max_length=500, help_text="https, on a public address.")
    rotate_secret = serializers.BooleanField(default=False, help_text="Issue a new signing secret.")


class EndpointOut(serializers.Serializer):
    url = serializers.CharField()
    is_active = serializers.BooleanField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField()
    secret = serializers.CharField(
        allow_null=True, required=False, help_text="The whsec_ signing secret: only when it is new. Keep it."
    )


def _endpoint_out(endpoint, secret=None):
    out = {
        "url": endpoint.url,
        "is_active": endpoint.is_active,
        "disabled_at": endpoint.disabled_at,
        "disabled_reason": endpoint.disabled_reason,
        "secret": secret,
    }
    return EndpointOut(out).data


@extend_schema(
    operation_id="webhook_endpoint_get",
    tags=["both: webhooks"],
    summary="The client's webhook endpoint",
    responses={200: EndpointOut, **errors()},
    methods=["GET"],
)
@extend_schema(
    operation_id="webhook_endpoint_set",
    tags=["both: webhooks"],
    summary="Set the endpoint (and enable it again); a new secret is returned once",
    request=EndpointIn,
    responses={200: EndpointOut, **errors(422)},
    methods=["PUT"],
)
@api_view(["GET", "PUT"])
def webhook_endpoint(request):
    if request.method == "GET":
        endpoint = getattr(request.auth, "webhook_endpoint", None)
        if endpoint is None:
            raise ApiError("not_found", _("No webhook endpoint is set: PUT one."), http_status=404)
        return Response(_endpoint_out(endpoint))
    data = EndpointIn(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        endpoint, secret = webhook_endpoint_set(
            client=request.auth, url=data.validated_data["url"], rotate_secret=data.validated_data["rotate_secret"]
        )
    except ValidationError as exc:
        raise refusal(exc) from None
    return Response(_endpoint_out(endpoint, secret))


class AttemptOut(serializers.Serializer):
    attempted_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    duration_ms = serializers.IntegerField()


class MessageOut(serializers.Serializer):
    msg_id = serializers.CharField(help_text="The webhook-id header.")
    event_type = serializers.CharField()
    payload = serializers.JSONField()
    status = serializers.ChoiceField(choices=WebhookMessage.Status.choices)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    attempt_log = AttemptOut(many=True)


def _messages(request):
    return WebhookMessage.objects.filter(endpoint__client=request.auth).prefetch_related("attempt_log")


@extend_schema(
    operation_id="webhook_messages_list",
    tags=["both: webhooks"],
    summary="What was sent to the endpoint, newest first, with every attempt",
    parameters=[OpenApiParameter("status", str, enum=WebhookMessage.Status.values)],
    responses={200: page_of(MessageOut, "WebhookMessagePage"), **errors()},
)
@api_view(["GET"])
def webhook_messages(request):
    return filtered_page(request, _messages(request), MessageOut, WebhookMessage.Status.values)


@extend_schema(
    operation_id="webhook_message_redeliver",
    tags=["both: webhooks"],
    summary="Send a message again now, with the same webhook-id",
    parameters=[idempotency_key()],
    request=None,
    responses={202: MessageOut, **errors(409, 422)},
)
@api_view(["POST"])
@idempotent
def webhook_message_redeliver(request, msg_id):
    message = _messages(request).filter(msg_id=msg_id).first()
    if message is None:
        raise ApiError("not_found", _("No webhook message of this client has this id."), http_status=404)
    try:
        webhook_redeliver(message=message)
    except ValidationError as exc:
        raise refusal(exc, {"endpoint_disabled": status.HTTP_409_CONFLICT}) from None
    return Response(MessageOut(_messages(request).get(pk=message.pk)).data, status=status.HTTP_202_ACCEPTED)

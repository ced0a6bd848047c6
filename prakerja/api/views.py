"""The partner API's shared parts: the error shape and who is calling."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import defaults
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .errors import ApiError, refusal
from .schema import errors


def error_handler(exc, context):
    """One error shape for every endpoint: ``{"error": {"code", "message",
    "fields"?}}`` with a stable code and a message in Indonesian unless
    Accept-Language asks otherwise."""
    if isinstance(exc, DjangoValidationError):
        exc = refusal(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = getattr(exc, "detail", None)
    if isinstance(exc, ApiError):
        body = {"code": str(exc.get_codes()), "message": str(detail)}
        if exc.fields:
            body["fields"] = exc.fields
    elif isinstance(detail, dict | list):
        fields = _fields(detail)
        codes = _codes(exc.get_codes())
        code = "unknown_field" if "unknown_field" in codes else "invalid_input"
        first = next(iter(fields.values()))[0] if fields else _("The request is not valid.")
        body = {"code": code, "message": first, "fields": fields}
    else:
        codes = exc.get_codes() if hasattr(exc, "get_codes") else None
        body = {"code": codes if isinstance(codes, str) else "error", "message": str(detail)}
    response.data = {"error": body}
    return response


def _fields(detail, prefix="") -> dict[str, list[str]]:
    """Field errors as ``{"field": ["message", ...]}``, nested names dotted."""
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(_fields(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    out = {}
    for name, value in detail.items():
        out.update(_fields(value, f"{prefix}.{name}" if prefix else str(name)))
    return out


def _codes(codes) -> set[str]:
    if isinstance(codes, dict):
        return set().union(*(_codes(value) for value in codes.values())) if codes else set()
    if isinstance(codes, list):
        return set().union(*(_codes(value) for value in codes)) if codes else set()
    return {str(codes)}


class PartnerOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["platform", "institution"])
    id = serializers.IntegerField()
    name = serializers.CharField()


class WhoamiOut(serializers.Serializer):
    client_code = serializers.CharField()
    partner = PartnerOut()
    server_time = serializers.IntegerField(help_text="Unix seconds: compare with your clock.")


@extend_schema(
    operation_id="whoami",
    tags=["both: signing"],
    summary="The client a signature proves",
    responses={200: WhoamiOut, **errors()},
)
@api_view(["GET"])
def whoami(request):
    """The client the signature proves: a first call to check signing works."""
    client = request.auth
    partner = client.partner
    return Response(
        {
            "client_code": client.code,
            "partner": {"kind": partner._meta.model_name, "id": partner.pk, "name": partner.name},
            "server_time": int(timezone.now().timestamp()),
        }
    )


def _api_error(request, status: int, code: str, message) -> JsonResponse | None:
    if not request.path.startswith("/api/"):
        return None
    return JsonResponse({"error": {"code": code, "message": str(message)}}, status=status)


def not_found(request, exception=None):
    """404 anywhere: the API's error shape under /api/, the page elsewhere."""
    return _api_error(request, 404, "not_found", _("There is no such endpoint or object.")) or (
        defaults.page_not_found(request, exception)
    )


def bad_request(request, exception=None):
    return _api_error(request, 400, "bad_request", _("The request is malformed.")) or (
        defaults.bad_request(request, exception)
    )


def server_error(request):
    message = _("Something went wrong on our side. Try again later: the same Idempotency-Key is safe to send again.")
    return _api_error(request, 500, "server_error", message) or defaults.server_error(request)


def guide(request):
    """The developer guide, in the reader's language (a page of the site)."""
    from django.shortcuts import render

    from .codes import ERROR_CODES

    return render(request, "api/guide.html", {"error_codes": ERROR_CODES})

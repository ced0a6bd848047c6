"""The partner API's shared parts: the error shape and who is calling."""

from django.utils import timezone
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.views import exception_handler


def error_handler(exc, context):
    """One error shape for every endpoint: a stable code and a message
    (Indonesian unless Accept-Language asks otherwise), with field errors."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = getattr(exc, "detail", None)
    codes = exc.get_codes() if hasattr(exc, "get_codes") else None
    if isinstance(detail, dict):
        body = {"code": "invalid", "message": str(_first(detail)), "fields": detail}
    else:
        body = {"code": codes if isinstance(codes, str) else "error", "message": str(detail)}
    response.data = {"error": body}
    return response


def _first(detail):
    value = next(iter(detail.values()))
    return value[0] if isinstance(value, list) and value else value


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

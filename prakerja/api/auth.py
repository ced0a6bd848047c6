"""How a partner's request proves who sent it.

Headers: ``X-Client-Code``, ``X-Timestamp`` (Unix seconds) and
``X-Signature``: hex HMAC-SHA256, under one of the client's signing keys, of

    client code \n timestamp \n METHOD \n path with query \n body

The timestamp must lie within WINDOW of the server's clock, and a signature
already seen in that window is refused (kept in Redis), so a captured request
cannot be sent again. Each refusal is a 401 with a reason code; nothing runs.
"""

import hashlib
import hmac
import time

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

WINDOW_SECONDS = 300


class Refused(exceptions.AuthenticationFailed):
    def __init__(self, code: str, message):
        super().__init__(detail=message, code=code)


def signed_message(client_code: str, timestamp: str, method: str, path: str, body: bytes) -> bytes:
    return f"{client_code}\n{timestamp}\n{method.upper()}\n{path}\n".encode() + body


def sign(secret: str, client_code: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    return hmac.new(
        secret.encode(), signed_message(client_code, timestamp, method, path, body), hashlib.sha256
    ).hexdigest()


class SignedRequestAuthentication(BaseAuthentication):
    def authenticate_header(self, request):
        return 'HMAC-SHA256 realm="prakerja-api"'

    def authenticate(self, request):
        from django.contrib.auth.models import AnonymousUser

        from catalog.credentials import usable_secrets
        from catalog.models import ApiClient

        code = request.headers.get("X-Client-Code", "")
        stamp = request.headers.get("X-Timestamp", "")
        signature = request.headers.get("X-Signature", "")
        if not (code and stamp and signature):
            raise Refused("signature_missing", _("Sign the request: X-Client-Code, X-Timestamp and X-Signature."))
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
            raise Refused("timestamp_invalid", _("X-Timestamp is the time in whole seconds since 1970 (UTC)."))
        if abs(time.time() - int(stamp)) > WINDOW_SECONDS:
            raise Refused("timestamp_out_of_window", _("X-Timestamp is more than 5 minutes from the server's time."))
        client = ApiClient.objects.filter(code=code, is_active=True).select_related("platform", "institution").first()
        if client is None:
            raise Refused("client_unknown", _("No active API client has this client code."))
        body = request._request.body  # the raw bytes, before any parsing
        path = request._request.get_full_path()
        if not any(
            hmac.compare_digest(sign(secret, code, stamp, request.method, path, body), signature.lower())
            for secret in usable_secrets(client)
        ):
            raise Refused("signature_invalid", _("The signature does not match this request under any valid key."))
        if not cache.add(f"api-signature:{code}:{signature.lower()}", 1, timeout=2 * WINDOW_SECONDS):
            raise Refused("signature_replayed", _("This signed request was already received; sign each request anew."))
        return AnonymousUser(), client

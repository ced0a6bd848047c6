"""How a partner's request proves who sent it.

Headers: ``X-Client-Code``, ``X-Timestamp`` (Unix seconds), ``X-Nonce`` (a
new random value per request, 16-64 letters, digits, ``-`` or ``_``) and
``X-Signature``: hex HMAC-SHA256, under one of the client's signing keys, of

    client code \n timestamp \n nonce \n METHOD \n path with query \n body

The timestamp must lie within WINDOW of the server's clock, and a nonce
already seen in that window is refused (kept in Redis), so a captured request
cannot be sent again, while two identical reads in one second still can be.
Each refusal is a 401 with a reason code; nothing runs.
"""

import hashlib
import hmac
import io
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from .errors import ApiError

WINDOW_SECONDS = 300


class Refused(exceptions.AuthenticationFailed):
    def __init__(self, code: str, message):
        super().__init__(detail=message, code=code)


CLIENT_ALONG = ("client__platform", "client__institution", "client__webhook_endpoint")
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def signed_message(client_code: str, timestamp: str, nonce: str, method: str, path: str, body: bytes) -> bytes:
    return f"{client_code}\n{timestamp}\n{nonce}\n{method.upper()}\n{path}\n".encode() + body


def sign(secret: str, client_code: str, timestamp: str, nonce: str, method: str, path: str, body: bytes) -> str:
    message = signed_message(client_code, timestamp, nonce, method, path, body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def raw_body(django_request) -> bytes:
    """The request's bytes, read once for the signature and parsed from the
    same copy; a body over the API's limit is refused before it is read
    (JSON up to API_MAX_JSON_BYTES, a multipart upload up to the
    certificate's limit and a little)."""
    if hasattr(django_request, "_body"):
        return django_request._body
    multipart = django_request.content_type.startswith("multipart/")
    limit = settings.CERTIFICATE_MAX_BYTES + 65_536 if multipart else settings.API_MAX_JSON_BYTES
    try:
        length = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise ApiError(
            "body_too_large",
            _("The request body is larger than %(kb)d KB.") % {"kb": limit // 1024},
            http_status=413,
        )
    body = django_request.read(limit + 1)
    if len(body) > limit:
        raise ApiError(
            "body_too_large", _("The request body is larger than %(kb)d KB.") % {"kb": limit // 1024}, http_status=413
        )
    # Django's own .body would refuse an upload over DATA_UPLOAD_MAX_MEMORY_SIZE;
    # the bytes read here are what the parsers read next.
    django_request._body = body
    django_request._stream = io.BytesIO(body)
    return body


class SignedRequestAuthentication(BaseAuthentication):
    def authenticate_header(self, request):
        return 'HMAC-SHA256 realm="prakerja-api"'

    def authenticate(self, request):
        from django.contrib.auth.models import AnonymousUser

        from accounts import crypto
        from catalog.credentials import usable_keys
        from catalog.models import ApiClient

        code = request.headers.get("X-Client-Code", "")
        stamp = request.headers.get("X-Timestamp", "")
        nonce = request.headers.get("X-Nonce", "")
        signature = request.headers.get("X-Signature", "")
        if not (code and stamp and nonce and signature):
            raise Refused(
                "signature_missing", _("Sign the request: X-Client-Code, X-Timestamp, X-Nonce and X-Signature.")
            )
        if not NONCE.match(nonce):
            raise Refused("nonce_invalid", _("X-Nonce is 16 to 64 letters, digits, '-' or '_', new for each request."))
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
            raise Refused("timestamp_invalid", _("X-Timestamp is the time in whole seconds since 1970 (UTC)."))
        if abs(time.time() - int(stamp)) > WINDOW_SECONDS:
            raise Refused("timestamp_out_of_window", _("X-Timestamp is more than 5 minutes from the server's time."))
        # The client and its usable keys in one query (the common case).
        keys = list(usable_keys().filter(client__code=code, client__is_active=True).select_related(*CLIENT_ALONG))
        if keys:
            client = keys[0].client
        else:
            client = ApiClient.objects.filter(code=code, is_active=True).first()
            if client is None:
                raise Refused("client_unknown", _("No active API client has this client code."))
        body = raw_body(request._request)
        path = request._request.get_full_path()
        if not any(
            hmac.compare_digest(sign(secret, code, stamp, nonce, request.method, path, body), signature.lower())
            for secret in (crypto.decrypt(key.secret_encrypted) for key in keys)
        ):
            raise Refused("signature_invalid", _("The signature does not match this request under any valid key."))
        if not cache.add(f"api-nonce:{code}:{nonce}", 1, timeout=2 * WINDOW_SECONDS):
            raise Refused(
                "signature_replayed", _("This signed request (its nonce) was already received; sign each request anew.")
            )
        return AnonymousUser(), client

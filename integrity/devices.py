"""Which browser did what for a participant (the linked-accounts control):
a random first-party cookie, set once and kept two years, identifies the
browser; only its keyed hash is stored, with the participant and what they
did (sign-up, log-in, identity check)."""

import re
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.crypto import blind_index

COOKIE = "prakerja_device"
MAX_AGE = 2 * 365 * 24 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


class DeviceCookieMiddleware:
    """Gives every browser its device cookie (``request.device_token``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = request.COOKIES.get(COOKIE, "")
        fresh = not _TOKEN.fullmatch(token)
        request.device_token = secrets.token_urlsafe(24) if fresh else token
        response = self.get_response(request)
        if fresh and getattr(request, "device_used", False):
            response.set_cookie(
                COOKIE,
                request.device_token,
                max_age=MAX_AGE,
                httponly=True,
                secure=settings.SESSION_COOKIE_SECURE,
                samesite="Lax",
            )
        return response


def device_key(token: str) -> str:
    return blind_index(token, purpose="device")


def device_seen(request, participant_id: int, what: str) -> None:
    """Records that this browser did ``what`` for the participant."""
    from .models import DeviceSighting

    token = getattr(request, "device_token", "")
    if not token or participant_id is None:
        return
    request.device_used = True  # the cookie is set only when it is needed
    key = device_key(token)
    seen = DeviceSighting.objects.filter(device_key=key, participant_id=participant_id, what=what)
    if seen.update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            DeviceSighting.objects.create(device_key=key, participant_id=participant_id, what=what)
    except IntegrityError:  # the same browser twice at once
        seen.update(count=F("count") + 1)

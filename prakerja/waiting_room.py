"""The waiting room (issue 16: registration day). When more people are
signing up and registering than ``WAITING_ROOM_CAPACITY``, a newcomer to
those pages gets a place in a fair queue (first come, first in) and a light
page that tells them their place and lets them in as places free, instead
of an error from an overloaded site.

State is in Redis, changed by one Lua script per request (atomic):

- ``admitted``: who may use the guarded pages now, each until a sliding
  expiry (``WAITING_ROOM_ADMIT_SECONDS`` after their last request there),
  or until their form went through (a redirect after a POST);
- ``queue``: who waits, by arrival number; ``seen``: when each last asked,
  so someone who closed the page (stopped asking for
  ``WAITING_ROOM_STALE_SECONDS``) gives up their place.

The browser keeps a random token in a cookie. Staff, and a site whose Redis
is down or not configured, are never held (the room fails open).
"""

import logging
import math
import secrets
import time

from django.conf import settings
from django.shortcuts import render

log = logging.getLogger(__name__)

COOKIE = "prakerja_wr"

# KEYS: admitted, queue, seen, seq. ARGV: token, now, capacity, admit_for, stale_after.
# Returns {admitted (0/1), position (0 when admitted), waiting count}.
_SCRIPT = """
local admitted, queue, seen, seq = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, now = ARGV[1], tonumber(ARGV[2])
local capacity, admit_for, stale = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', admitted, '-inf', now)
-- Those who stopped asking give their place up.
local gone = redis.call('ZRANGEBYSCORE', seen, '-inf', now - stale)
for _, t in ipairs(gone) do
  redis.call('ZREM', queue, t)
  redis.call('ZREM', seen, t)
end
if redis.call('ZSCORE', admitted, token) then
  redis.call('ZADD', admitted, now + admit_for, token)
  return {1, 0, redis.call('ZCARD', queue)}
end
if not redis.call('ZSCORE', queue, token) then
  redis.call('ZADD', queue, redis.call('INCR', seq), token)
end
redis.call('ZADD', seen, now, token)
local free = capacity - redis.call('ZCARD', admitted)
if free > 0 then
  local first = redis.call('ZRANGE', queue, 0, free - 1)
  for _, t in ipairs(first) do
    redis.call('ZREM', queue, t)
    redis.call('ZREM', seen, t)
    redis.call('ZADD', admitted, now + admit_for, t)
  end
end
if redis.call('ZSCORE', admitted, token) then
  return {1, 0, redis.call('ZCARD', queue)}
end
return {0, redis.call('ZRANK', queue, token) + 1, redis.call('ZCARD', queue)}
"""

_client = None
_script = None


def _redis():
    global _client, _script
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)
        _script = _client.register_script(_SCRIPT)
    return _client, _script


def _keys() -> list[str]:
    prefix = settings.WAITING_ROOM_KEY_PREFIX
    return [f"{prefix}:admitted", f"{prefix}:queue", f"{prefix}:seen", f"{prefix}:seq"]


def enter(token: str) -> tuple[bool, int, int]:
    """(admitted, place in the queue, how many wait) for this browser."""
    script = _redis()[1]
    admitted, position, waiting = script(
        keys=_keys(),
        args=[
            token,
            time.time(),
            settings.WAITING_ROOM_CAPACITY,
            settings.WAITING_ROOM_ADMIT_SECONDS,
            settings.WAITING_ROOM_STALE_SECONDS,
        ],
    )
    return bool(admitted), int(position), int(waiting)


def leave(token: str) -> None:
    """Frees the place of someone who finished (their form went through)."""
    client = _redis()[0]
    client.zrem(_keys()[0], token)


def _guarded(path: str) -> bool:
    return any(path.startswith(prefix) for prefix in settings.WAITING_ROOM_PATHS)


class WaitingRoomMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not (settings.WAITING_ROOM_ENABLED and settings.REDIS_URL and _guarded(request.path)):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            return self.get_response(request)
        token = request.COOKIES.get(COOKIE) or ""
        fresh = len(token) < 20 or len(token) > 64 or not token.replace("-", "").replace("_", "").isalnum()
        if fresh:
            token = secrets.token_urlsafe(24)
        try:
            admitted, position, waiting = enter(token)
        except Exception:
            log.exception("waiting room unavailable; letting the request through")
            admitted, position, waiting = True, 0, 0
        response = self.get_response(request) if admitted else _waiting_page(request, position, waiting)
        if admitted and request.method == "POST" and response.status_code in (301, 302, 303):
            # The sign-up or registration went through: the place goes to the next in the queue.
            try:
                leave(token)
            except Exception:  # it expires by itself
                log.warning("waiting room: could not free a place", exc_info=True)
        if fresh:
            response.set_cookie(
                COOKIE, token, max_age=6 * 3600, httponly=True, secure=settings.SESSION_COOKIE_SECURE, samesite="Lax"
            )
        return response


def _waiting_page(request, position: int, waiting: int):
    # A rough wait: every admitted visitor stays about half their allowance.
    per_minute = max(1, settings.WAITING_ROOM_CAPACITY * 60 // max(1, settings.WAITING_ROOM_ADMIT_SECONDS // 2))
    minutes = max(1, math.ceil(position / per_minute))
    response = render(
        request,
        "waiting_room.html",
        {
            "position": position,
            "waiting": waiting,
            "minutes": minutes,
            "refresh": settings.WAITING_ROOM_REFRESH_SECONDS,
        },
    )
    response["Cache-Control"] = "no-store"
    response["Retry-After"] = str(settings.WAITING_ROOM_REFRESH_SECONDS)
    return response

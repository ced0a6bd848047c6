"""Requests per client, counted in Redis: past the rate, 429 with
Retry-After (DRF's throttle, keyed by the signed client code)."""

from rest_framework.throttling import SimpleRateThrottle


class ClientRateThrottle(SimpleRateThrottle):
    scope = "client"

    def get_cache_key(self, request, view):
        client = getattr(request, "auth", None)
        code = getattr(client, "code", None)
        return self.cache_format % {"scope": self.scope, "ident": code} if code else None

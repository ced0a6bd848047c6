"""Reads from a read replica (issue 16: national scale).

The catalog's reads (the public course pages, the partner API's course
reads) can go to a PostgreSQL streaming replica, so the primary keeps its
CPU for what changes money. Only reads made while serving a web request
go there, and only while nothing pins the request to the primary:

- a request that writes (any model: a POST, a session saved, a log-in) is
  pinned from its first write on, and so is the same browser for
  ``REPLICA_PIN_SECONDS`` afterwards (a cookie), so the page after a
  POST-redirect-GET shows what the person just did, whatever the lag;
- a POST, PUT, PATCH or DELETE is pinned from its start;
- a read inside a transaction is pinned (it may be the check before a write);
- Celery tasks, management commands and the shell read the primary.

``DATABASE_REPLICA_URL`` adds the ``replica`` alias; ``REPLICA_APPS`` names
the apps read from it (the catalog).
"""

import contextvars

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
PIN_COOKIE = "prakerja_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The request being served: {"pinned": bool, "wrote": bool}; None outside one.
_request_state: contextvars.ContextVar[dict | None] = contextvars.ContextVar("db_request_state", default=None)


def replica_enabled() -> bool:
    return REPLICA in settings.DATABASES and settings.CATALOG_READS_FROM_REPLICA


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        state = _request_state.get()
        if state is None or state["pinned"] or not replica_enabled():
            return None
        if model._meta.app_label not in settings.REPLICA_APPS:
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model, **hints):
        state = _request_state.get()
        if state is not None:
            state["pinned"] = state["wrote"] = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db, app_label, **hints):
        return None


class ReplicaPinningMiddleware:
    """Marks each request's reads as replica-eligible or pinned, and pins
    the browser for a while after a write."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        pinned = request.method not in SAFE_METHODS or PIN_COOKIE in request.COOKIES
        state = {"pinned": pinned, "wrote": False}
        token = _request_state.set(state)
        try:
            response = self.get_response(request)
        finally:
            _request_state.reset(token)
        if replica_enabled() and (state["wrote"] or request.method not in SAFE_METHODS):
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.REPLICA_PIN_SECONDS,
                httponly=True,
                secure=settings.SESSION_COOKIE_SECURE,
                samesite="Lax",
            )
        return response

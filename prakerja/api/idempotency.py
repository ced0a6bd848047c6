"""``Idempotency-Key`` on every POST of the partner API, by Stripe's rules.

- The first request with a key runs; its response, whatever it was (a 201
  or a 4xx), is kept for IDEMPOTENCY_TTL and returned again, with
  ``Idempotent-Replayed: true``, for the same key and the same request.
- The same key with another method, path or body is refused
  (``idempotency_key_reused``, 422) and nothing runs.
- Two requests with one key at once: the second waits for the first's
  answer and returns it; if the first is still running after WAIT_SECONDS,
  409 ``idempotency_in_progress`` with Retry-After.
- A server error keeps nothing (the key may be sent again), and a first
  request whose process died is taken over after STALE_AFTER.

The key belongs to the client: two clients may use the same key.
"""

import functools
import hashlib
import json
import time
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.response import Response

from .errors import CONFLICT, ApiError

IDEMPOTENCY_TTL = timedelta(hours=24)
STALE_AFTER = timedelta(seconds=60)
WAIT_SECONDS = 10.0
MAX_KEY_LENGTH = 100


def fingerprint(request) -> str:
    """What makes two requests the same: method, path with query, and the
    content (the raw JSON bytes, or a multipart body's fields and files,
    whose boundary changes with every send)."""
    digest = hashlib.sha256(f"{request.method}\n{request._request.get_full_path()}\n".encode())
    if request.content_type.startswith("multipart/"):
        for name in sorted(request.POST):
            for value in request.POST.getlist(name):
                digest.update(f"field\n{name}\n{len(value)}\n{value}\n".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                upload.seek(0)
                content = hashlib.sha256()
                for chunk in upload.chunks():
                    content.update(chunk)
                upload.seek(0)
                digest.update(f"file\n{name}\n{content.hexdigest()}\n".encode())
    else:
        digest.update(request._request.body)
    return digest.hexdigest()


def _key_of(request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        raise ApiError(
            "idempotency_key_missing",
            _("Send an Idempotency-Key header with every POST: a new random value (a UUID) per operation."),
            http_status=400,
        )
    if len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ApiError(
            "idempotency_key_invalid",
            _("The Idempotency-Key is at most 100 printable ASCII characters."),
            http_status=400,
        )
    return key


def _insert(client, key: str, print_: str):
    """The record, claimed by this request if the key is new: one
    INSERT ... ON CONFLICT DO NOTHING, whoever else sends the key now."""
    from catalog.models import IdempotentRequest

    q = connection.ops.quote_name
    table, columns = (
        q(IdempotentRequest._meta.db_table),
        ", ".join(
            q(name)
            for name in ("client_id", "key", "fingerprint", "status_code", "response", "started_at", "finished_at")
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, NULL, '', %s, NULL) "  # noqa: S608 (our own names)
            f"ON CONFLICT ({q('client_id')}, {q('key')}) DO NOTHING RETURNING {q('id')}",
            [client.pk, key, print_, timezone.now()],
        )
        row = cursor.fetchone()
    if row is not None:
        return IdempotentRequest(pk=row[0], client=client, key=key, fingerprint=print_), True
    return IdempotentRequest.objects.get(client=client, key=key), False


def idempotent_requests_purge(*, now=None) -> int:
    """Forgets keys older than IDEMPOTENCY_TTL (beat runs this hourly)."""
    from catalog.models import IdempotentRequest

    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    return IdempotentRequest.objects.filter(started_at__lt=cutoff).delete()[0]


def _claim(client, key: str, print_: str):
    """The record of this key and whether this request runs it."""
    from catalog.models import IdempotentRequest

    record, created = _insert(client, key, print_)
    if created:
        return record, True
    if record.started_at < timezone.now() - IDEMPOTENCY_TTL:
        # Expired but not purged yet: as if new.
        IdempotentRequest.objects.filter(pk=record.pk, started_at=record.started_at).delete()
        record, created = _insert(client, key, print_)
        if created:
            return record, True
    if record.fingerprint != print_:
        raise ApiError(
            "idempotency_key_reused",
            _("This Idempotency-Key was used for another request. Use a new key for a new operation."),
            http_status=422,
        )
    deadline = time.monotonic() + WAIT_SECONDS
    while record.status_code is None:
        if record.started_at < timezone.now() - STALE_AFTER:
            taken = IdempotentRequest.objects.filter(
                pk=record.pk, status_code__isnull=True, started_at=record.started_at
            ).update(started_at=timezone.now())
            if taken:
                return record, True
        if time.monotonic() > deadline:
            error = ApiError(
                "idempotency_in_progress",
                _("A request with this Idempotency-Key is still being processed. Try again in a moment."),
                http_status=CONFLICT,
            )
            error.wait = 1  # DRF's handler sends it as Retry-After
            raise error
        time.sleep(0.05)
        record.refresh_from_db()
    return record, False


def idempotent(view):
    """Wraps a POST endpoint (under ``@api_view``) with the rules above."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        from catalog.models import IdempotentRequest

        from .views import error_handler

        if request.method != "POST":
            return view(request, *args, **kwargs)
        key = _key_of(request)
        record, runs = _claim(request.auth, key, fingerprint(request))
        if not runs:
            data = json.loads(record.response) if record.response else None
            return Response(data, status=record.status_code, headers={"Idempotent-Replayed": "true"})
        try:
            response = view(request, *args, **kwargs)
        except Exception as exc:
            response = error_handler(exc, {"request": request, "view": None})
            if response is None:
                IdempotentRequest.objects.filter(pk=record.pk).delete()
                raise
        if response.status_code >= 500 or response.status_code == 429:
            IdempotentRequest.objects.filter(pk=record.pk).delete()
        else:
            IdempotentRequest.objects.filter(pk=record.pk).update(
                status_code=response.status_code,
                response=json.dumps(response.data, cls=DjangoJSONEncoder) if response.data is not None else "",
                finished_at=timezone.now(),
            )
        return response

    return wrapper

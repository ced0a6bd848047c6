"""Webhooks, signed as Standard Webhooks (https://www.standardwebhooks.com):

    webhook-id: msg_...            the same on every attempt
    webhook-timestamp: 1733140000  Unix seconds of this attempt
    webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">

under the endpoint's ``whsec_`` secret (base64 after the prefix). A message
is tried at once, then after RETRY_SCHEDULE (with ±10% jitter), more than
24 hours in all; a message that fails every retry disables its endpoint and
the partner is emailed. An endpoint's URL is https in production and never
a loopback, private or link-local address, checked when it is set and again
before each attempt."""

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import crypto
from notifications.services import notify_email
from prakerja.inputs import field_refusal

from .models import WebhookAttempt, WebhookEndpoint, WebhookMessage

log = logging.getLogger(__name__)

# After the first attempt (Svix's schedule): 27 h 35 min in all.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
JITTER = 0.1
S = WebhookMessage.Status


def secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def url_problem(url: str) -> tuple[str, str] | None:
    """Why ``url`` may not receive webhooks (a code and a message), or None."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "url_invalid", _("Enter a full http(s) URL.")
    if settings.WEBHOOK_REQUIRE_HTTPS and parts.scheme != "https":
        return "https_required", _("Webhook URLs must use https.")
    if parts.username or parts.password:
        return "url_invalid", _("A webhook URL cannot carry a user name or password.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)}
    except (OSError, ValueError, UnicodeError):
        return "host_unknown", _("The webhook URL's host cannot be found.")
    if not settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global or ip.is_multicast:
                return "private_address", _(
                    "The webhook URL points to a loopback, private or reserved address; use a public address."
                )
    return None


def webhook_endpoint_set(*, client, url: str, rotate_secret: bool = False) -> tuple[WebhookEndpoint, str | None]:
    """Sets the client's endpoint; returns it and its secret in clear when
    the secret is new (the first time, or rotated), else None. Setting the
    URL again enables a disabled endpoint."""
    problem = url_problem(url)
    if problem:
        raise field_refusal("url", problem[1], problem[0])
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().filter(client=client).first()
        secret = None
        if endpoint is None:
            secret = secret_new()
            endpoint = WebhookEndpoint.objects.create(client=client, url=url, secret_encrypted=crypto.encrypt(secret))
        else:
            if rotate_secret:
                secret = secret_new()
                endpoint.secret_encrypted = crypto.encrypt(secret)
            endpoint.url, endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = url, True, None, ""
            endpoint.save()
    return endpoint, secret


def webhook_emit(*, event_type: str, key: str, data: dict, platform_id=None, institution_id=None) -> int:
    """An event for the API clients of a platform and/or an institution:
    one message per active endpoint (once per key), delivered after the
    caller's transaction commits. Returns how many messages were made."""
    who = Q(pk__in=[])
    if platform_id:
        who |= Q(client__platform_id=platform_id)
    if institution_id:
        who |= Q(client__institution_id=institution_id)
    endpoints = list(WebhookEndpoint.objects.filter(who, is_active=True, client__is_active=True))
    if not endpoints:
        return 0
    now = timezone.now()
    payload = {"type": event_type, "timestamp": now.isoformat(), "data": data}
    WebhookMessage.objects.bulk_create(
        [
            WebhookMessage(
                endpoint=endpoint,
                msg_id=f"msg_{secrets.token_urlsafe(18)}",
                key=key,
                event_type=event_type,
                payload=payload,
                next_attempt_at=now,
            )
            for endpoint in endpoints
        ],
        ignore_conflicts=True,
    )
    ids = list(
        WebhookMessage.objects.filter(endpoint__in=endpoints, key=key, status=S.PENDING).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


def _enqueue(ids) -> None:
    from .tasks import deliver_webhook

    for pk in ids:
        deliver_webhook.delay(pk)


def _next_delay(attempts: int) -> timedelta | None:
    """The wait after the ``attempts``-th failed attempt, or None: no more."""
    if attempts > len(RETRY_SCHEDULE):
        return None
    return RETRY_SCHEDULE[attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)


def webhook_deliver(*, message_id: int, now=None) -> str:
    """One attempt at a message that is due, outside any transaction: it is
    claimed for WEBHOOK_LEASE_SECONDS, so two workers never send it at once
    and a killed worker's claim runs out. Returns what happened."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    claimed = (
        WebhookMessage.objects.filter(pk=message_id, status=S.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + lease)
    )
    if not claimed:
        held = WebhookMessage.objects.filter(
            pk=message_id, status=S.PENDING, next_attempt_at__lte=now, locked_until__gte=now
        ).exists()
        return "locked" if held else "not_due"
    message = WebhookMessage.objects.select_related("endpoint__client").get(pk=message_id)
    endpoint = message.endpoint
    if not endpoint.is_active:
        WebhookMessage.objects.filter(pk=message_id).update(locked_until=None)
        return "endpoint_disabled"
    body = json.dumps(message.payload, separators=(",", ":")).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Prakerja-Webhooks/1",
        "webhook-id": message.msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": signature(crypto.decrypt(endpoint.secret_encrypted), message.msg_id, stamp, body),
    }
    status_code, error = None, ""
    started = time.monotonic()
    problem = url_problem(endpoint.url)  # again: the name may resolve elsewhere now
    if problem:
        error = problem[0]
    else:
        try:
            with requests.post(
                endpoint.url,
                data=body,
                headers=headers,
                timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                allow_redirects=False,
                stream=True,
            ) as response:
                status_code = response.status_code
        except requests.RequestException as exc:
            error = type(exc).__name__
    took = int((time.monotonic() - started) * 1000)
    return _record(message, now=now, status_code=status_code, error=error, took=took)


def _record(message: WebhookMessage, *, now, status_code, error: str, took: int) -> str:
    ok = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        locked = WebhookMessage.objects.select_for_update().get(pk=message.pk)
        WebhookAttempt.objects.create(
            message=locked, attempted_at=now, status_code=status_code, error=error[:300], duration_ms=took
        )
        locked.attempts += 1
        locked.last_status_code, locked.last_error, locked.locked_until = status_code, error[:300], None
        if ok:
            locked.status, locked.delivered_at, locked.next_attempt_at = S.DELIVERED, now, None
        else:
            delay = _next_delay(locked.attempts)
            if delay is None:
                locked.status, locked.next_attempt_at = S.FAILED, None
                _disable(locked.endpoint_id, now=now, msg_id=locked.msg_id)
            else:
                locked.next_attempt_at = now + delay
        locked.save()
    return locked.status if not ok else "delivered"


def _disable(endpoint_id: int, *, now, msg_id: str) -> None:
    endpoint = WebhookEndpoint.objects.select_for_update().select_related("client").get(pk=endpoint_id)
    if not endpoint.is_active:
        return
    endpoint.is_active, endpoint.disabled_at = False, now
    endpoint.disabled_reason = f"{msg_id} failed every attempt for more than 24 hours"
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    partner = endpoint.client.partner
    emails = [e for e in [getattr(partner, "contact_email", "")] if e] or list(
        partner.staff.exclude(email="").values_list("email", flat=True)
    )
    if emails:
        notify_email(
            key=f"webhook-disabled:{endpoint.pk}:{int(now.timestamp())}",
            to=emails,
            subject=_("Prakerja webhooks to %(url)s are stopped") % {"url": endpoint.url[:80]},
            body=_(
                "Webhooks of API client %(code)s to %(url)s failed every retry for more than 24 hours, so "
                "they are stopped. Fix the endpoint, then set its URL again (PUT /api/v1/webhooks/endpoint) "
                "and redeliver what you missed (POST /api/v1/webhooks/messages/<id>/redeliver)."
            )
            % {"code": endpoint.client.code, "url": endpoint.url},
        )
    log.warning("webhook endpoint %s disabled after %s failed", endpoint.pk, msg_id)


def webhooks_deliver_due(*, now=None, limit: int = 500) -> int:
    """Attempts every message that is due (beat runs this each minute; it
    also picks up what a killed worker left). Returns how many were tried."""
    now = now or timezone.now()
    due = (
        WebhookMessage.objects.filter(status=S.PENDING, next_attempt_at__lte=now, endpoint__is_active=True)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in list(due) if webhook_deliver(message_id=pk, now=now) not in ("not_due", "locked"))


def webhook_redeliver(*, message: WebhookMessage) -> WebhookMessage:
    """Sends a message again now (by hand, from admin or the API), with the
    same webhook-id; a delivered or failed one too."""
    with transaction.atomic():
        locked = WebhookMessage.objects.select_for_update().select_related("endpoint").get(pk=message.pk)
        if not locked.endpoint.is_active:
            raise ValidationError(_("This endpoint is disabled: set its URL again first."), code="endpoint_disabled")
        locked.status, locked.next_attempt_at, locked.locked_until = S.PENDING, timezone.now(), None
        locked.save(update_fields=["status", "next_attempt_at", "locked_until"])
        transaction.on_commit(lambda: _enqueue([locked.pk]))
    return locked

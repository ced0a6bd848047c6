"""Issuing, rotating and revoking the partner API's signing keys.

A key is 32 random bytes, shown once as URL-safe base64 to the PMO officer
who issues it and stored Fernet-encrypted under FIELD_ENCRYPTION_KEYS, never
in clear. Issuing a new key keeps the previous ones valid for
ROTATION_OVERLAP, so a partner can switch without a failed request."""

import datetime
import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import crypto
from accounts.models import User
from prakerja.lifecycle import record_change

from .models import ApiClient, ApiKey

ROTATION_OVERLAP = datetime.timedelta(hours=24)


def _may_manage(by: User) -> None:
    if not by.has_perm("catalog.add_apikey"):
        raise PermissionDenied


def api_key_issue(*, client: ApiClient, by: User) -> str:
    """A new signing key for ``client``; returns it in clear, once."""
    _may_manage(by)
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        locked = ApiClient.objects.select_for_update().get(pk=client.pk)
        overlap_end = now + ROTATION_OVERLAP
        locked.keys.filter(revoked_at__isnull=True, valid_until__isnull=True).update(valid_until=overlap_end)
        key = ApiKey.objects.create(
            client=locked, secret_encrypted=crypto.encrypt(secret), hint=secret[-4:], created_by=by
        )
        record_change(locked, "signing key", by=by, before={}, after={"issued": f"…{key.hint}"}, kind="setting")
    return secret


def api_key_revoke(*, key: ApiKey, by: User) -> ApiKey:
    _may_manage(by)
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            record_change(
                locked.client, "signing key", by=by, before={"key": f"…{locked.hint}"}, after={"revoked": True}
            )
    return locked


def usable_keys(now=None):
    """Keys that sign now: not revoked, and not past a rotation's overlap."""
    now = now or timezone.now()
    return ApiKey.objects.filter(revoked_at__isnull=True).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))

"""Role permissions are granted once per migrate, after every app's
permissions exist, and none of ROLE_PERMISSIONS is silently left out."""

from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.core.management.sql import emit_post_migrate_signal

from accounts.roles import ALL_ROLES, ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def test_a_fresh_migrate_grants_every_listed_permission_to_its_role():
    for role in ALL_ROLES:
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        missing = set(ROLE_PERMISSIONS.get(role, [])) - granted
        assert not missing, f"{role} lacks {sorted(missing)}"


def test_roles_are_granted_once_per_migrate_not_once_per_app():
    with mock.patch("accounts.roles.sync_roles") as sync:
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert sync.call_count == 1

import pytest
from django.core.cache import cache

from accounts import sms

# Browser fixtures (page, phone_page) for every test module.
pytest_plugins = ["tests.browser"]


@pytest.fixture(autouse=True)
def _private_media_in_tmp(settings, tmp_path):
    """Uploads (CSV batches with test NIKs) go to a folder of the test's own."""
    default = settings.STORAGES["default"]
    settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": {"location": tmp_path / "private"}}}


@pytest.fixture(autouse=True)
def _clean_slate():
    """Each test starts with no SMS sent, an empty cache (Redis keeps
    allauth's rate limits between tests otherwise) and the site's language
    active: a request of the previous test leaves its language active in the
    thread, and tasks run in it here (a worker starts in Indonesian)."""
    from django.utils import translation

    sms.outbox.clear()
    cache.clear()
    translation.activate("id")
    yield
    sms.outbox.clear()


@pytest.fixture
def sms_outbox():
    return sms.outbox


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs a call and then what it deferred to after commit (tasks, SMS,
    mail), as a real request's commit would. Tests run inside a transaction
    that never commits, so without this nothing deferred would happen."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture(autouse=True)
def _staff_pass_their_second_factor(monkeypatch):
    """force_login skips the login flow, second factor included: for a staff
    account it also sets up an authenticator app (if the account has none)
    and records in the session that its code was entered, as a real login
    would. Tests of the second factor itself log in through the real form."""
    import time

    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )
    from allauth.mfa.models import Authenticator
    from django.test import Client

    from tests.factories import give_second_factor

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        if user.is_staff:
            give_second_factor(user)
            authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
            session = self.session
            session[AUTHENTICATION_METHODS_SESSION_KEY] = [
                {"method": "mfa", "at": time.time(), "id": authenticator.pk, "type": "totp"}
            ]
            session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)

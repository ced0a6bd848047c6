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
    """Each test starts with no SMS sent and an empty cache (Redis keeps
    allauth's rate limits between tests otherwise)."""
    sms.outbox.clear()
    cache.clear()
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

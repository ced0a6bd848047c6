"""Issue 16, registration day: passwords are hashed with Argon2id at OWASP's
parameters; a hash made before with PBKDF2 still logs its owner in and is
replaced by an Argon2id hash at that log-in."""

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Passw0rd"
REAL = [
    "prakerja.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]


@pytest.fixture
def real_hashers(settings):
    from prakerja import settings as project

    assert [h for h in project.PASSWORD_HASHERS if "MD5" not in h] == REAL  # what production runs
    settings.PASSWORD_HASHERS = REAL


def log_in(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_a_new_password_is_hashed_with_argon2id_at_owasps_parameters(real_hashers):
    user = User.objects.create_user(email="baru@example.com", password=PASSWORD)
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert user.check_password(PASSWORD) and not user.check_password("wrong-Passw0rd")


def test_an_old_pbkdf2_hash_logs_in_and_is_upgraded_to_argon2id(client, real_hashers):
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    before = User.objects.get(pk=user.pk).password
    assert before.startswith("pbkdf2_sha256$1000000$")

    log_in(client, user.email, "wrong-Passw0rd")
    assert User.objects.get(pk=user.pk).password == before  # a failed log-in changes nothing
    response = log_in(client, user.email, PASSWORD)
    assert response.status_code == 302 and "_auth_user_id" in client.session
    after = User.objects.get(pk=user.pk).password
    assert after.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")

    client.logout()
    log_in(client, user.email, PASSWORD)  # the new hash logs in too
    assert "_auth_user_id" in client.session

"""Every staff account passes a second factor (an authenticator app's code,
or a recovery code) before it reaches admin; the TOTP secret is stored
encrypted. Each test logs in through the real login form."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.core.cache import cache

from accounts import roles
from tests.factories import UserFactory, give_second_factor, make_staff, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Passw0rd"  # tests.factories.UserFactory's
LOGIN = "/akun/login/"
AUTHENTICATE = "/akun/2fa/authenticate/"
ACTIVATE = "/akun/2fa/totp/activate/"


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"
    cache.clear()


def log_in(client, user):
    return client.post(LOGIN, {"login": user.email, "password": PASSWORD})


def start_setup(client):
    """The set-up page, after allauth asks for the password once more."""
    response = client.get(ACTIVATE)
    assert response.status_code == 302 and response["Location"].startswith("/akun/reauthenticate/")
    client.post(response["Location"], {"password": PASSWORD})
    return client.get(ACTIVATE)


def test_staff_without_an_authenticator_app_set_one_up_before_any_admin_page(client):
    curator = make_staff(roles.PMO_CURATOR)
    response = log_in(client, curator)
    assert response.status_code == 302
    for path in ("/admin/", "/admin/accounts/participant/", "/admin/kyc/kycsubmission/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(ACTIVATE), path

    assert "two-step verification" in " ".join(str(m) for m in client.get(ACTIVATE, follow=True).context["messages"])
    page = start_setup(client)
    secret = page.context["form"].secret
    assert not client.post(ACTIVATE, {"code": "000000"}).context["form"].is_valid()
    assert not Authenticator.objects.filter(user=curator).exists()

    response = client.post(ACTIVATE, {"code": totp_code(secret)})
    assert response.status_code == 302
    codes = client.get(response["Location"]).content.decode()
    assert len(re.findall(r"\b\d{8}\b", codes)) >= 10  # the recovery codes, shown to keep
    assert client.get("/admin/").status_code == 200
    # Stored encrypted, never in clear.
    stored = Authenticator.objects.get(user=curator, type=Authenticator.Type.TOTP).data["secret"]
    assert secret not in stored


def test_a_staff_login_asks_for_the_code_and_the_password_alone_reaches_nothing(client):
    checker = make_staff(roles.PMO_FINANCE_CHECKER)
    secret = give_second_factor(checker)
    response = log_in(client, checker)
    assert response["Location"] == AUTHENTICATE
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in client.session

    wrong = client.post(AUTHENTICATE, {"code": "123456" if totp_code(secret) != "123456" else "654321"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post(AUTHENTICATE, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_guessing_the_code_is_limited(client):
    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    secret = give_second_factor(reviewer)
    log_in(client, reviewer)
    right = totp_code(secret)
    wrong = [f"{n:06d}" for n in range(100_000, 100_020) if f"{n:06d}" != right]
    pages = [client.post(AUTHENTICATE, {"code": code}).content.decode() for code in wrong]
    assert "Too many failed" in pages[-1]
    # Once limited, even the right code is refused for a while.
    client.post(AUTHENTICATE, {"code": right})
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_stands_in_for_a_lost_phone_once(client):
    maker = make_staff(roles.PMO_FINANCE_MAKER)
    log_in(client, maker)
    secret = start_setup(client).context["form"].secret
    client.post(ACTIVATE, {"code": totp_code(secret)})
    codes = re.findall(r"\b\d{8}\b", client.get("/akun/2fa/recovery-codes/").content.decode())
    client.logout()

    log_in(client, maker)
    client.post(AUTHENTICATE, {"code": codes[0]})
    assert client.get("/admin/").status_code == 200
    client.logout()
    log_in(client, maker)
    client.post(AUTHENTICATE, {"code": codes[0]})
    assert "_auth_user_id" not in client.session, "a recovery code works once"


def test_people_who_are_not_staff_are_not_asked_for_a_second_factor(client):
    person = UserFactory()
    response = log_in(client, person)
    assert response.status_code == 302 and response["Location"] != AUTHENTICATE
    assert "_auth_user_id" in client.session


def test_the_demo_prints_a_staff_members_current_code_but_not_in_production(settings):
    import io

    from django.core.management import CommandError, call_command

    maker = make_staff(roles.PMO_FINANCE_MAKER)
    secret = give_second_factor(maker)
    out = io.StringIO()
    call_command("totp_code", email=maker.email, stdout=out)
    assert out.getvalue().strip() in (totp_code(secret), totp_code(secret, later=1))
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("totp_code", email=maker.email)


def test_staff_pages_outside_admin_need_the_second_factor_too(client):
    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    log_in(client, reviewer)  # password only: no authenticator app yet
    for path in ("/kyc/foto/1/ktp/", "/kursus/", "/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(ACTIVATE), path
    assert client.get("/akun/logout/").status_code == 200  # the account pages stay open

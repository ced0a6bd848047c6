"""Staff sign in through the site's rate-limited allauth login: the admin's
own login form, which had no limit, sends them there; fifty wrong passwords
then the right one give no session."""

import uuid

import pytest
from django.urls import reverse

from accounts import roles
from tests.browser import PASSWORD_OF_FACTORIES
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_cache(settings):
    # allauth counts failed logins in the cache; a cache of this test's own.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": str(uuid.uuid4())}
    }


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_admin_login_sends_staff_to_the_site_login_and_back(client):
    response = client.get("/admin/login/", {"next": "/admin/payouts/payoutbatch/"})
    assert response.status_code == 302
    assert response["Location"] == "/akun/login/?next=%2Fadmin%2Fpayouts%2Fpayoutbatch%2F"
    # Another site in next is not followed; the admin's index is.
    response = client.get("/admin/login/", {"next": "https://example.org/admin/"})
    assert response["Location"] == "/akun/login/?next=%2Fadmin%2F"
    # Asking for an admin page while signed out ends on the site's login.
    response = client.get("/admin/kyc/kycsubmission/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/akun/login/?next=")

    # The admin's form posted to directly signs nobody in.
    staff = make_staff(roles.PMO_KYC_REVIEWER)
    client.post("/admin/login/", {"username": staff.email, "password": PASSWORD_OF_FACTORIES})
    assert not _signed_in(client)

    response = client.post(
        reverse("account_login") + "?next=/admin/", {"login": staff.email, "password": PASSWORD_OF_FACTORIES}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert _signed_in(client)


def test_fifty_wrong_passwords_then_the_right_one_give_no_session(client):
    staff = make_staff(roles.PMO_KYC_REVIEWER)
    client.cookies["django_language"] = "id"
    for i in range(50):
        client.post(reverse("account_login"), {"login": staff.email, "password": f"salah-{i}"})
    response = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD_OF_FACTORIES})
    assert not _signed_in(client)
    assert response.status_code in (200, 429)
    assert client.get("/admin/").status_code == 302

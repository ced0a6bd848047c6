"""Sign-up, mandatory email verification, log-in, log-out and password reset
through django-allauth, with email as the login."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Peserta-Kuat-2026"


def confirm_link(message):
    return re.search(r"http://[^/\s]+(/akun/confirm-email/\S+/)", message.body).group(1)


def test_sign_up_needs_email_confirmation_before_the_account_can_be_used(client):
    response = client.post(
        reverse("account_signup"), {"email": "Baru@Example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="baru@example.com")
    assert len(mail.outbox) == 1

    # Logging in before confirming only re-sends the confirmation.
    client.logout()
    response = client.post(reverse("account_login"), {"login": "baru@example.com", "password": PASSWORD})
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("accounts:register")).status_code == 302

    link = confirm_link(mail.outbox[0])
    response = client.post(link)
    assert response.status_code == 302
    assert user.emailaddress_set.get().verified
    # Logged in on confirmation, and sent on to fill in the profile.
    assert client.get(reverse("home"))["Location"] == reverse("accounts:register")


def test_an_email_registers_one_account_whatever_its_case(client):
    UserFactory(email="ada@example.com")
    response = client.post(
        reverse("account_signup"), {"email": "ADA@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    # allauth does not reveal that the address is taken; it sends a notice
    # to the owner instead, and creates nothing.
    assert User.objects.filter(email__iexact="ada@example.com").count() == 1
    assert response.status_code in (200, 302)


def test_a_weak_password_is_refused_in_indonesian(client):
    response = client.post(
        reverse("account_signup"), {"email": "lemah@example.com", "password1": "12345678", "password2": "12345678"}
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["password1"])
    assert "terlalu umum" in errors or "angka" in errors
    assert not User.objects.filter(email="lemah@example.com").exists()


def test_log_in_and_log_out(client):
    user = UserFactory()
    response = client.post(reverse("account_login"), {"login": user.email, "password": "s3cret-Passw0rd"})
    assert response.status_code == 302
    assert client.get(reverse("home"))["Location"] == reverse("accounts:register")
    client.post(reverse("account_logout"))
    assert client.get(reverse("accounts:register")).status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_password_reset_by_email(client):
    user = UserFactory()
    client.post(reverse("account_reset_password"), {"email": user.email})
    assert len(mail.outbox) == 1
    link = re.search(r"http://[^/\s]+(/akun/password/reset/key/\S+/)", mail.outbox[0].body).group(1)
    page = client.get(link, follow=True)
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    response = client.post(form_url, {"password1": "Baru-Sekali-2026", "password2": "Baru-Sekali-2026"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Baru-Sekali-2026")

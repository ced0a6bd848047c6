"""The second factor every staff account uses before it reaches admin.

allauth's MFA does the work: a TOTP authenticator (any authenticator app)
and ten recovery codes. Once a staff member has TOTP, allauth's login asks
for the code after the password. Here:

- the TOTP secret and recovery seed are stored encrypted with the NIK's
  Fernet keys (FIELD_ENCRYPTION_KEYS), never in clear;
- ``second_factor_passed`` says whether this session proved a second factor
  of the signed-in user (at login, on re-authentication, or by activating
  TOTP just now, which takes a valid code);
- ``StaffSecondFactorMiddleware`` sends staff without one to set it up, and
  a session without one to enter a code, before any admin page.
"""

from allauth.account.internal.flows.login import get_authentication_records, record_authentication
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from . import crypto


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)

    def get_totp_label(self, user) -> str:
        return user.email

    def get_totp_issuer(self) -> str:
        return "Kartu Prakerja"


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def second_factor_passed(request) -> bool:
    """A second factor of ``request.user`` was proved in this session."""
    user = request.user
    ids = [
        record.get("id")
        for record in get_authentication_records(request, user)
        if record.get("method") == "mfa" and record.get("id") is not None
    ]
    return bool(ids) and Authenticator.objects.filter(pk__in=ids, user=user).exists()


def record_activation(sender, instance, created, **kwargs) -> None:
    """Activating TOTP takes a valid code from the new authenticator: that is
    this session's second factor (else the next admin page would ask for the
    code a second time). A post_save receiver, so it runs inside the request
    (allauth's own signal waits for the commit, after the session is saved)."""
    request = context.request
    user = getattr(request, "user", None)
    if created and instance.type == Authenticator.Type.TOTP and user is not None and user.pk == instance.user_id:
        record_authentication(request, instance.user, "mfa", id=instance.pk, type=instance.type)


class StaffSecondFactorMiddleware:
    """Before any page but the account pages (log-in, log-out, the second
    factor's own pages, the language switch): a staff account with no
    authenticator app is sent to set one up, and a session that has not
    proved it to enter a code. Admin is covered, and so is every staff page
    outside it (KYC photos, certificates). The admin login itself is
    allauth's (prakerja.web.admin_login)."""

    OPEN_PREFIXES = ("/akun/", "/i18n/", "/static/")

    def __init__(self, get_response):
        self.get_response = get_response
        self._admin = None

    def __call__(self, request):
        if self._admin is None:
            self._admin = reverse("admin:index")
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.is_staff
            and not request.path.startswith(self.OPEN_PREFIXES)
            and request.path != self._admin + "login/"
        ):
            if not has_totp(user):
                messages.info(
                    request,
                    _(
                        "PMO staff use two-step verification. Set up an authenticator app "
                        "(for example Google Authenticator or Aegis) to continue to the admin."
                    ),
                )
                return HttpResponseRedirect(reverse("mfa_activate_totp") + "?" + urlencode({"next": request.path}))
            if not second_factor_passed(request):
                return HttpResponseRedirect(
                    reverse("mfa_reauthenticate") + "?" + urlencode({"next": request.get_full_path()})
                )
        return self.get_response(request)

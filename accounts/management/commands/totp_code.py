"""The code an authenticator app would show now, for trying the staff second
factor without a phone: from the secret the set-up page shows (``--secret``),
or, outside production, from a staff account's stored secret (``--email``)."""

import time

from allauth.mfa import app_settings
from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Print the current authenticator-app code for a TOTP secret (or, outside production, an account)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--secret", help="the base32 secret shown under the QR code on the set-up page")
        group.add_argument("--email", help="a staff account with an authenticator app (not in production)")

    def handle(self, *args, secret=None, email=None, **options):
        if email:
            if settings.PRODUCTION:
                raise CommandError("--email is refused in production: each person's code is on their own phone.")
            authenticator = Authenticator.objects.filter(user__email=email, type=Authenticator.Type.TOTP).first()
            if authenticator is None:
                raise CommandError(f"{email} has no authenticator app set up yet.")
            secret = get_adapter().decrypt(authenticator.data["secret"])
        secret = "".join(secret.split()).upper()
        try:
            # The current period's code (allauth's first counter is the
            # oldest it accepts, about to expire).
            counter = int(time.time()) // app_settings.TOTP_PERIOD
            self.stdout.write(format_hotp_value(hotp_value(secret, counter)))
        except (ValueError, TypeError) as exc:
            raise CommandError("That is not a base32 secret.") from exc

"""Runs the local stand-in for Xendit's Payouts API until interrupted.

    python manage.py payout_standin [--port 8765] [--webhook-url URL]

Point XENDIT_BASE_URL at the address it prints; it uses XENDIT_SECRET_KEY and
XENDIT_CALLBACK_TOKEN from the settings, so the client's calls and its
webhooks verify as they would against Xendit.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payments.gateway.standin import StandinGateway


class Command(BaseCommand):
    help = "Runs a local stand-in for Xendit's Payouts API (loopback only)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--webhook-url", default="", help="where to POST payout status webhooks")

    def handle(self, *args, port, webhook_url, **options):
        if settings.PRODUCTION:
            raise CommandError("The payout stand-in is for development and tests only.")
        gateway = StandinGateway(
            secret_key=settings.XENDIT_SECRET_KEY,
            callback_token=settings.XENDIT_CALLBACK_TOKEN,
            webhook_url=webhook_url,
            port=port,
        ).start()
        target = webhook_url or "nowhere"
        self.stdout.write(f"Payout stand-in at {gateway.url} (webhooks to {target}); Ctrl+C stops it.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            gateway.stop()

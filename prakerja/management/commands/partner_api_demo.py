"""The partner API end to end, as a platform and an institution integrate
it, against the running demo server: the reference client (partner_client)
sells a course on Sisnaker's behalf to JOKO, the institution redeems and
completes it, the PMO's finance officers pay the institution, and both
partners' webhook receivers (partner_client.receiver, on loopback) print
what they were sent. scripts/demo.sh runs it once the server is up; the
code texted to JOKO is read from the console sender's copy (SMS_COPY_FILE),
as he would read his phone. Refuses to run in production."""

import json
import re
import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

DOMAIN = "demo.prakerja.id"


class Command(BaseCommand):
    help = "Sells, redeems, completes and pays a course through the partner API of the running demo server."

    def add_arguments(self, parser):
        parser.add_argument("--base", default="http://127.0.0.1:8000")
        parser.add_argument("--receiver-port", type=int, default=0)
        parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the payout's webhook")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("partner_api_demo refuses to run in production.")
        if not settings.SMS_COPY_FILE:
            raise CommandError("Set SMS_COPY_FILE: the demo reads the participant's code from it.")
        from accounts.models import User
        from catalog.credentials import api_key_issue
        from catalog.models import ApiClient, Platform
        from enrollment.models import Card, Enrollment
        from partner_client import PartnerClient
        from partner_client.receiver import Receiver

        card = Card.objects.select_related("participant").filter(participant__user__email=f"joko@{DOMAIN}").first()
        if card is None:
            raise CommandError("Load the demo first (manage.py demo_data).")
        if Enrollment.objects.filter(card=card).exists():
            self.stdout.write("partner API demo: JOKO has bought already; nothing to do.")
            return
        curator = User.objects.get(email=f"pmo-curator@{DOMAIN}")
        sisnaker = Platform.objects.get(name="Sisnaker")

        def client(code, **partner):
            api_client, _new = ApiClient.objects.get_or_create(code=code, defaults=partner)
            secret = api_key_issue(client=api_client, by=curator)
            return PartnerClient(options["base"], code, secret)

        platform = client("DEMO-SISNAKER", platform=sisnaker)
        courses = [c for c in platform.courses() if not c["schedule"]["ends_at"] and c["schedule"]["capacity"] is None]
        course = courses[0]
        from catalog.models import Institution

        institution = client("DEMO-LPK", institution=Institution.objects.get(pk=course["institution"]["id"]))
        receivers = {}
        for name, partner in (("Sisnaker", platform), (course["institution"]["name"], institution)):
            receiver = Receiver(port=0 if not options["receiver_port"] else options["receiver_port"] + len(receivers))
            receiver.start()
            receiver.secret = partner.set_webhook(receiver.url)["secret"]
            receivers[name] = receiver
        say = self.stdout.write
        say(f"partner API demo: Sisnaker (client DEMO-SISNAKER) sells '{course['title']}' to JOKO")
        sent = platform.send_otp(
            card_number=card.number,
            platform_user_id="sisnaker-user-1001",
            course_id=course["id"],
            schedule_code=course["schedule"]["code"],
            amount=course["price"],
        )
        say(f"  send-otp: code texted to {sent['sent_to']}, payment token valid until {sent['expires_at']}")
        code = self._texted_code(card.participant.phone)
        invoice = f"SIS-{timezone.now():%Y%m%d}-{uuid.uuid4().hex[:6].upper()}"
        bought = platform.authorize(
            payment_token=sent["payment_token"],
            otp=code,
            invoice_code=invoice,
            invoice_url=f"https://sisnaker.example/invoice/{invoice}",
        )
        say(f"  authorize: {bought['transaction_code']} {bought['status']}, voucher {bought['voucher_code']}")
        institution.redeem(bought["voucher_code"])
        say(f"  {course['institution']['name']} (client DEMO-LPK) redeemed the voucher")
        done = institution.complete(bought["enrollment_id"], b"%PDF-1.4\n% demo certificate\n%%EOF\n", "joko.pdf")
        say(f"  completion reported: {done['status']}")
        self._pay(say)
        deadline = time.monotonic() + options["wait"]
        institution_receiver = receivers[course["institution"]["name"]]
        while time.monotonic() < deadline and not any(
            e["type"] == "payout.succeeded" for e in institution_receiver.events.values()
        ):
            time.sleep(0.5)
        say(f"  status at Sisnaker now: {platform.purchase(invoice)['status']}")
        for name, partner in (("Sisnaker", platform), (course["institution"]["name"], institution)):
            for row in partner.statements():
                say(
                    f"  statement of {name}: batch {row['batch_id']}, payout {row['payout_id']} to {row['payee']} "
                    f"{row['payout_status']}, Rp {row['amount']:,} for {row['enrollments']} enrolment(s)"
                )
        for name, receiver in receivers.items():
            say(f"  webhooks received by {name}: " + ", ".join(e["type"] for e in receiver.events.values()))
            receiver.stop()

    def _texted_code(self, phone: str) -> str:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with open(settings.SMS_COPY_FILE, encoding="utf-8") as copy:
                    lines = [json.loads(line) for line in copy if line.strip()]
            except FileNotFoundError:
                lines = []
            for message in reversed(lines):
                if message["to"] == phone:
                    return re.search(r"\b(\d{6})\b", message["body"]).group(1)
            time.sleep(0.2)
        raise CommandError(f"no SMS to {phone} in {settings.SMS_COPY_FILE}")

    def _pay(self, say) -> None:
        """The PMO's finance officers pay what is owed (the two-person batch)."""
        from accounts.models import User
        from payouts.services import batches

        maker = User.objects.get(email=f"pmo-finance-maker@{DOMAIN}")
        checker = User.objects.get(email=f"pmo-finance-checker@{DOMAIN}")
        batch = batches.payout_batch_build(by=maker, cutoff=timezone.now())
        batches.payout_batch_submit(batch_id=batch.pk, by=maker)
        batches.payout_batch_approve(batch_id=batch.pk, by=checker)
        say(f"  PMO: payout batch {batch.pk} built, submitted and approved; the gateway pays")

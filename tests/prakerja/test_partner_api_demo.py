"""The demo's partner API run (scripts/demo.sh runs it against the demo
server): on the demo data, over real HTTP to the live server, the reference
client sells JOKO a course for Sisnaker, the institution redeems and
completes it, the PMO pays through the gateway stand-in, and both partners'
receivers get the webhooks, the payout's included."""

import io
import re

import pytest
from django.core.management import call_command

from enrollment.models import Enrollment
from tests.payouts.conftest import standin  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_sells_delivers_and_pays_a_course_through_the_partner_api(standin, live_server, settings, tmp_path):  # noqa: F811
    settings.SMS_BACKEND = "accounts.sms.ConsoleSmsSender"
    settings.SMS_COPY_FILE = str(tmp_path / "sms.jsonl")
    call_command("demo_data", stdout=io.StringIO())
    out = io.StringIO()
    call_command("partner_api_demo", base=live_server.url, wait=30, stdout=out)
    text = out.getvalue()
    assert "authorize: PRJ-" in text and " authorised, voucher " in text, text
    assert "status at Sisnaker now: paid_out" in text, text
    institution_line = next(line for line in text.splitlines() if "webhooks received by LPK" in line)
    assert "enrollment.completed" in institution_line and "payout.succeeded" in institution_line, text
    # Both read the payout in their statements through the API.
    built = re.search(r"payout batch (\d+) built", text).group(1)
    assert f"statement of Sisnaker: batch {built}," in text and "succeeded" in text, text
    assert any(line.startswith("  statement of LPK") and "succeeded" in line for line in text.splitlines()), text
    joko = Enrollment.objects.get(participant__user__email="joko@demo.prakerja.id")
    assert joko.status == "paid_out" and joko.invoice_code.startswith("SIS-")
    # Run again: nothing is bought twice.
    again = io.StringIO()
    call_command("partner_api_demo", base=live_server.url, stdout=again)
    assert "nothing to do" in again.getvalue()

"""The name inquiry in Chromium: a graduate on a 360 px phone links an
e-wallet the bank holds in another name; the page says the PMO checks it,
the officer reads the bank's answer on the case in admin and clears it, and
the graduate's page then shows the account incentives are paid to."""

import re

import pytest
from playwright.sync_api import expect

from accounts import sms
from enrollment.services import reviews
from integrity.models import Case
from payouts.models import IncentiveAccount
from payouts.services import incentives
from tests.browser import _url, log_in_as, watch
from tests.payouts.conftest import completed_enrollment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_account_in_another_name_is_checked_by_the_pmo_before_anything_is_paid_to_it(
    page, phone_page, live_server, committed, world, bank, officer
):
    institution, staff = world["institution"]("LPK Nama")
    enrollment = completed_enrollment(committed, world, institution, staff)
    participant = enrollment.participant
    reviews.review_create(participant=participant, enrollment_id=enrollment.pk, rating=5, text="Bagus sekali")
    incentives.incentives_schedule(participant=participant)
    bank.holder("081298765432", "AGUS PEMEGANG REKENING")

    w = watch(phone_page)
    log_in_as(phone_page, live_server, participant.user.email)
    phone_page.goto(_url(live_server, "/peserta/insentif/"))
    account_form = phone_page.locator("form:has(input[name=action][value=account])")
    account_form.locator("[name=channel_code]").select_option("ID_OVO")
    account_form.locator("[name=account_number]").fill("0812 9876 5432")
    account_form.locator("[name=account_holder]").fill(participant.full_name)
    account_form.get_by_role("button").click()
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].body).group(1)
    code_form = phone_page.locator("form:has(input[name=action][value=code])")
    code_form.locator("[name=code]").fill(code)
    code_form.get_by_role("button").click()
    expect(phone_page.locator("#account-check")).to_contain_text("nama lain")
    w.fits()
    account = IncentiveAccount.objects.get(participant=participant)
    assert account.status == "review" and incentives.confirmed_account(participant) is None
    case = Case.objects.get(kind=Case.Kind.NAME_MISMATCH)

    admin = watch(page)
    log_in_as(page, live_server, officer.email)
    page.goto(_url(live_server, "/admin/integrity/case/?kind=name"))
    page.locator("#result_list a", has_text=f"Kasus {case.pk}").click()
    expect(page.locator(".field-finding")).to_contain_text("AGUS PEMEGANG REKENING")
    page.locator("#case-decision input[value=clear]").check()
    page.locator("#decision-form textarea").fill("Rekening bersama suami; dicek dengan buku tabungan.")
    page.get_by_role("button", name="Catat keputusan").click()
    expect(page.locator(".messagelist")).to_contain_text("Keputusan dicatat")

    phone_page.reload()
    expect(phone_page.locator("#account-check")).to_have_count(0)
    expect(phone_page.locator("main")).to_contain_text("5432")
    account.refresh_from_db()
    assert account.status == "confirmed"
    w.check()
    admin.check()

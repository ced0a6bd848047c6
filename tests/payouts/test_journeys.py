"""A participant who finished their first course, on a phone in Chromium at
360 px, follows the home's task list: reviews the course, links an e-wallet
in their own name with an SMS code, and sees the first month paid. Watched for
server errors, bare 403s, console errors and sideways scrolling."""

import re

import pytest
from playwright.sync_api import expect

from accounts import sms
from payouts.models import IncentiveAccount, IncentivePayment
from tests.browser import _open_page, _path_is, log_in_as, watch

from .conftest import completed_enrollment, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def test_a_graduate_reviews_links_an_ewallet_and_is_paid_following_the_home(
    browser, live_server, committed, world, standin
):
    institution, staff = world["institution"]("LPK Insentif")
    participant = completed_enrollment(committed, world, institution, staff).participant
    context, page = _open_page(browser, **PHONE)
    w = watch(page)
    log_in_as(page, live_server, participant.user.email)
    page.wait_for_url(_path_is("/"))
    expect(page.locator("#next-step")).to_contain_text("Selesai dan ulasan")
    page.locator("#next-step a.button").click()
    page.check("input[name=rating][value='5']")
    page.fill("#id_text", "Materinya jelas dan langsung bisa dipraktikkan.")
    page.get_by_role("button", name="Kirim ulasan").click()
    expect(page.locator(".msg.success")).to_be_visible()
    w.fits()

    page.click("a.brand")
    expect(page.locator("#next-step")).to_contain_text("Rekening untuk insentif")
    page.locator("#next-step a.button").click()
    page.wait_for_url(_path_is("/peserta/insentif/"))
    w.fits()
    # Somebody else's name is refused next to the field; nothing is stored.
    page.select_option("#id_channel_code", "ID_OVO")
    page.fill("#id_account_number", "0812 3456 7890")
    page.fill("#id_account_holder", "Budi Orang Lain")
    page.get_by_role("button", name="Kirim kode").click()
    expect(page.locator("main")).to_contain_text("atas nama Anda sendiri")
    assert not IncentiveAccount.objects.exists()

    page.fill("#id_account_holder", participant.full_name.lower())
    page.get_by_role("button", name="Kirim kode").click()
    expect(page.locator(".msg.success")).to_be_visible()
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].body).group(1)
    page.fill("#id_code", code)
    page.get_by_role("button", name="Konfirmasi rekening").click()
    expect(page.locator(".msg.success")).to_be_visible()
    # What was due is paid at once, through the gateway.
    wait_for(
        lambda: IncentivePayment.objects.filter(participant=participant, status="paid").count() == 1,
        what="the first month paid",
    )
    page.reload()
    expect(page.locator("main")).to_contain_text("600.000")
    page.click("a.brand")
    expect(page.locator(".step[data-step=incentive]")).to_contain_text("Selesai")
    w.fits()
    w.check()
    context.close()

"""Buying a course on a phone: headless Chromium at 360 px against the live
server, from the course page to the voucher."""

import re

import pytest
from playwright.sync_api import expect

from accounts import sms
from enrollment.models import Enrollment
from tests.browser import _log_in, _url

from .conftest import card_holder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page):
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page scrolls sideways: {scroll} > {width}"


def test_a_participant_buys_a_course_on_a_phone_and_sees_the_voucher(phone_page, live_server, committed, courses):
    page = phone_page
    card = card_holder(committed)
    (course,) = courses(250_000, title="Servis AC")
    _log_in(page, live_server, card.participant.user.email, "s3cret-Passw0rd")

    page.goto(_url(live_server, f"/kursus/{course.pk}/"))
    page.click(f"a[href='/kursus/{course.pk}/beli/']")
    _fits(page)
    page.click("button[value=send]")
    expect(page.locator(".msg.success")).to_be_visible()
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].body).group(1)

    # A wrong code first: the page says so, in Indonesian, and nothing is bought.
    page.fill("#id_card_number", card.number)
    page.fill("#id_code", "000000" if code != "000000" else "111111")
    page.click("button[value=buy]")
    expect(page.locator("#id_code_errors")).to_contain_text("salah")
    assert not Enrollment.objects.exists()
    _fits(page)

    page.fill("#id_card_number", card.number)
    page.fill("#id_code", code)
    page.click("button[value=buy]")
    enrollment = Enrollment.objects.get()
    expect(page.locator(".voucher")).to_contain_text(enrollment.voucher_code[:4])
    assert enrollment.status == "authorised"
    _fits(page)

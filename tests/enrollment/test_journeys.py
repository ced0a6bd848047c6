"""Walks of a card holder and of an institution's staff on a phone, in
Chromium at 360 px, through the real pages: the home's task list leads to each
next step, a purchase bound to be declined is explained before any SMS code is
spent, a double tap buys once, and actions that cannot be undone ask first.
Every walk fails on a server error, a bare 403, a console error or a page
wider than the phone."""

import re

import pytest
from playwright.sync_api import expect

from accounts import sms
from enrollment.models import Enrollment
from enrollment.services import purchases
from tests.browser import _open_page, _path_is, _url, log_in_as, watch
from tests.payouts.conftest import PDF

from .conftest import card_holder, ledger_ok

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def test_a_card_holder_follows_the_home_to_a_voucher_and_is_told_before_a_code_is_spent(
    browser, live_server, committed, courses
):
    card = card_holder(committed)
    first, second = courses(250_000, 300_000, title="Servis AC")
    context, page = _open_page(browser, **PHONE)
    w = watch(page)
    log_in_as(page, live_server, card.participant.user.email)
    page.wait_for_url(_path_is("/"))
    expect(page.locator("#next-step")).to_contain_text("Pelatihan pertama")
    w.fits()
    page.locator("#next-step a.button").click()
    page.wait_for_url(_path_is("/kursus/"))
    w.fits()

    page.click(f"a[href='/kursus/{first.pk}/']")
    page.click(f"a[href='/kursus/{first.pk}/beli/']")
    page.click("button[value=send]")
    expect(page.locator(".msg.success")).to_be_visible()
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].body).group(1)
    page.fill("#id_card_number", card.number)
    page.fill("#id_code", code)
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    # A double tap on a slow phone sends one purchase.
    page.dblclick("button[value=buy]")
    expect(page.locator(".voucher")).to_be_visible()
    assert len(posts) == 1, posts
    enrollment = Enrollment.objects.get()
    assert enrollment.status == "authorised"
    w.fits()
    # Back to the checkout: it is loaded afresh and says the course is
    # bought; nothing can be bought twice from it.
    page.go_back()
    expect(page.locator("#cannot-buy")).to_be_visible()
    expect(page.locator("button[value=buy]")).to_have_count(0)
    assert Enrollment.objects.count() == 1
    page.go_forward()
    expect(page.locator(".voucher")).to_be_visible()

    # The second course would be declined (a course is in progress): the
    # course page and the checkout say so, and no code is sent.
    texts_before = len(sms.outbox)
    page.goto(_url(live_server, f"/kursus/{second.pk}/"))
    expect(page.locator("#cannot-buy")).to_contain_text("sedang berjalan")
    expect(page.locator(f"a[href='/kursus/{second.pk}/beli/']")).to_have_count(0)
    page.goto(_url(live_server, f"/kursus/{second.pk}/beli/"))
    expect(page.locator("#cannot-buy")).to_contain_text("sedang berjalan")
    expect(page.locator("button[value=send]")).to_have_count(0)
    assert len(sms.outbox) == texts_before
    w.fits()

    # Home: the next step is the voucher; the header reaches the card.
    page.goto(_url(live_server, "/"))
    expect(page.locator("#next-step")).to_contain_text("voucher")
    page.click("header a[href='/peserta/kartu/']")
    w.fits()

    # Cancelling the voucher asks first; saying no changes nothing.
    page.goto(_url(live_server, f"/peserta/pembelian/{enrollment.pk}/"))
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.get_by_role("button", name="Batalkan voucher ini").click()
    page.wait_for_timeout(300)
    assert Enrollment.objects.get().status == "authorised"
    page.once("dialog", lambda d: answer(d, True))
    page.get_by_role("button", name="Batalkan voucher ini").click()
    expect(page.locator(".msg.success")).to_be_visible()
    assert Enrollment.objects.get().status == "cancelled"
    assert all("kembali ke saldo" in q for q in questions) and len(questions) == 2
    w.fits()
    w.check()
    ledger_ok()
    context.close()


def test_institution_staff_redeem_and_report_completion_on_a_phone_after_confirming(
    browser, live_server, committed, courses, tmp_path
):
    card = card_holder(committed)
    (course,) = courses(400_000, title="Las Listrik")
    enrollment = purchases.enrollment_submit(participant=card.participant, course=course, request_key="walk")
    assert enrollment.status == "authorised"
    context, page = _open_page(browser, **PHONE)
    page.on("dialog", lambda d: d.accept())
    w = watch(page)
    log_in_as(page, live_server, courses.staff.email)
    page.wait_for_url(_path_is("/lembaga/"))
    w.fits()

    page.click("header a[href='/lembaga/peserta/']")
    # A mistyped code is refused at the check, next to the field.
    page.fill("#id_voucher_code", "ZZZZ-ZZZZ-ZZZZ")
    page.get_by_role("button", name="Periksa kode").click()
    expect(page.locator("#id_voucher_code_errors")).to_contain_text("Tidak ada voucher lembaga Anda")
    expect(page.locator("#redeem-confirm")).to_have_count(0)
    page.fill("#id_voucher_code", enrollment.voucher_code)
    page.get_by_role("button", name="Periksa kode").click()
    # The staff see whose course the code starts before they confirm.
    expect(page.locator("#redeem-confirm")).to_contain_text(card.participant.full_name)
    assert Enrollment.objects.get().status == "authorised"
    page.get_by_role("button", name="Tukarkan").click()
    expect(page.locator(".msg.success")).to_be_visible()
    assert Enrollment.objects.get().status == "redeemed"
    w.fits()

    page.get_by_role("link", name="Laporkan penyelesaian").click()
    certificate = tmp_path / "sertifikat.pdf"
    certificate.write_bytes(PDF)
    page.set_input_files("#id_certificate", str(certificate))
    page.get_by_role("button", name="Catat penyelesaian").click()
    expect(page.locator(".msg.success")).to_be_visible()
    assert Enrollment.objects.get().status == "completed"
    w.fits()

    page.click("header a[href='/lembaga/pembayaran/']")
    w.fits()
    w.check()
    context.close()

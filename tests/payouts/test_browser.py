"""The PMO's finance maker and checker pay institutions through the payout
batch pages of Django admin, in Chromium, pressing every button the pages
show: prepare, submit, approve, reject, discard, reconcile, download. Old tabs
and double clicks get a message, never an error page."""

import csv
import time

import pytest
from playwright.sync_api import expect

from payouts.models import Payout, PayoutBatch
from tests.browser import _open_page, _path_is, _url, log_in_as, watch

from .conftest import completed_enrollment, ledger_ok, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _staff_page(browser, live_server, user):
    context, page = _open_page(browser)
    w = watch(page)
    log_in_as(page, live_server, user.email)
    page.wait_for_url(_path_is("/admin/"))
    return context, page, w


def _prepare(page, live_server):
    """The maker's way to a draft: admin index, Payout batches, Add, Prepare."""
    page.goto(_url(live_server, "/admin/"))
    page.click("a[href='/admin/payouts/payoutbatch/']")
    page.click("a[href='/admin/payouts/payoutbatch/add/']")
    page.get_by_role("button", name="Siapkan draf batch").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Draf batch")
    return PayoutBatch.objects.latest("pk")


def _success(page, text):
    expect(page.locator(".messagelist .success")).to_contain_text(text)


def _error(page, text):
    expect(page.locator(".messagelist .error")).to_contain_text(text)


def test_maker_and_checker_pay_a_batch_pressing_every_button(browser, live_server, committed, world, finance, standin):
    inst, staff = world["institution"]("LPK Satu")
    enrollment = completed_enrollment(committed, world, inst, staff, price=300_000)
    time.sleep(1)  # the form's cut-off is to the second
    maker_context, maker, maker_watch = _staff_page(browser, live_server, finance["maker"])
    checker_context, checker, checker_watch = _staff_page(browser, live_server, finance["checker"])

    batch = _prepare(maker, live_server)
    expect(maker.locator("#batch-actions")).to_be_visible()
    expect(maker.locator("body")).to_contain_text("LPK Satu")
    # A second tab on the same draft, as a person who opened it twice.
    old_tab = maker_context.new_page()
    old_watch = watch(old_tab)
    old_tab.goto(maker.url)

    maker.get_by_role("button", name="Ajukan untuk persetujuan").click()
    _success(maker, "Sudah diajukan")
    assert PayoutBatch.objects.get(pk=batch.pk).status == "submitted"
    expect(maker.locator("#batch-actions")).to_contain_text("pemeriksa keuangan PMO lain")
    expect(maker.get_by_role("button", name="Ajukan untuk persetujuan")).to_have_count(0)
    # The old tab still shows the button: pressing it is a message, not a 500.
    old_tab.get_by_role("button", name="Ajukan untuk persetujuan").click()
    _error(old_tab, "menunggu persetujuan")

    # The checker approves through the confirmation page.
    checker.goto(_url(live_server, f"/admin/payouts/payoutbatch/{batch.pk}/change/"))
    checker.get_by_role("link", name="Setujui", exact=True).click()
    expect(checker.locator("#content-main")).to_contain_text("dapat dibatalkan")
    checker.get_by_role("button", name="Setujui dan kirim").click()
    _success(checker, "Disetujui")
    wait_for(lambda: not Payout.objects.filter(batch=batch, status__in=["pending", "sent"]).exists(), what="payouts")
    assert PayoutBatch.objects.get(pk=batch.pk).status == "settled"
    assert [p["amount"] for p in standin.payouts()] == [300_000]

    # The maker's old tab offered to discard it: confirming now is a message.
    old_tab.goto(_url(live_server, f"/admin/payouts/payoutbatch/{batch.pk}/discard/"))
    old_tab.get_by_role("button", name="Batalkan batch").click()
    _error(old_tab, "selesai dibayar")
    assert PayoutBatch.objects.get(pk=batch.pk).status == "settled"

    checker.reload()
    expect(checker.locator("#batch-actions")).to_be_visible()
    checker.get_by_role("button", name="Rekonsiliasi lagi").click()
    _success(checker, "Rekonsiliasi")
    with checker.expect_download() as download:
        checker.get_by_role("link", name="Unduh CSV").click()
    with open(download.value.path(), encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(file))
    assert [(r["enrollment"], r["amount"], r["payout_status"]) for r in rows] == [
        (str(enrollment.pk), "300000", "succeeded")
    ]

    for w in (maker_watch, checker_watch, old_watch):
        w.check()
    ledger_ok()
    maker_context.close()
    checker_context.close()


def test_the_checker_rejects_with_a_reason_and_the_maker_discards_the_next_draft(
    browser, live_server, committed, world, finance, standin
):
    inst, staff = world["institution"]("LPK Dua")
    completed_enrollment(committed, world, inst, staff, price=275_000)
    time.sleep(1)
    maker_context, maker, maker_watch = _staff_page(browser, live_server, finance["maker"])
    checker_context, checker, checker_watch = _staff_page(browser, live_server, finance["checker"])

    batch = _prepare(maker, live_server)
    maker.get_by_role("button", name="Ajukan untuk persetujuan").click()
    _success(maker, "Sudah diajukan")

    checker.goto(_url(live_server, f"/admin/payouts/payoutbatch/{batch.pk}/change/"))
    checker.get_by_role("link", name="Tolak", exact=True).click()
    checker.get_by_role("button", name="Tolak batch").click()
    expect(checker.locator(".errorlist")).to_contain_text("Tuliskan alasan")
    assert PayoutBatch.objects.get(pk=batch.pk).status == "submitted"
    checker.fill("textarea[name=reason]", "Rekening lembaga belum diverifikasi")
    checker.get_by_role("button", name="Tolak batch").click()
    _success(checker, "Ditolak")
    assert PayoutBatch.objects.get(pk=batch.pk).status == "rejected"
    # Nothing is left to decide on a rejected batch.
    expect(checker.get_by_role("link", name="Setujui", exact=True)).to_have_count(0)

    # Its enrolment goes into the next draft, which the maker discards.
    time.sleep(1)
    draft = _prepare(maker, live_server)
    assert draft.enrollment_count == 1
    maker.get_by_role("link", name="Batalkan batch").click()
    expect(maker.locator("#content-main")).to_contain_text("dapat dibatalkan")
    maker.get_by_role("button", name="Batalkan batch").click()
    _success(maker, "Dibatalkan")
    assert PayoutBatch.objects.get(pk=draft.pk).status == "discarded"
    expect(maker.get_by_role("link", name="Batalkan batch")).to_have_count(0)
    assert not standin.payouts()

    maker_watch.check()
    checker_watch.check()
    maker_context.close()
    checker_context.close()

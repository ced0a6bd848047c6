"""Issue 15's case queue in Chromium, as the people who use it: a PMO
officer imports a wage extract in admin and reads the re-screen's report,
the participant on a 360 px phone is told their money is held and objects,
and the officer reads the objection and decides, by clicking."""

import pytest
from playwright.sync_api import expect

from accounts import roles
from integrity.models import Case, ScreeningRun
from tests.browser import _url, log_in_as, watch
from tests.factories import make_staff

from .conftest import card_holder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_extract_is_imported_the_participant_objects_and_the_officer_decides(
    page, phone_page, live_server, committed, tmp_path
):
    card = card_holder(committed)
    other = card_holder(committed)
    participant = card.participant
    extract = tmp_path / "bpjs-2026-11.csv"
    extract.write_text(
        "nik;monthly_wage;employer;month\n"
        f"{participant.nik};6.250.000;PT Sinar Jaya;2026-10\n"
        f"{other.participant.nik};2.900.000;CV Maju;2026-10\n"
    )

    officer = make_staff(roles.PMO_KYC_REVIEWER)
    w = watch(page)
    log_in_as(page, live_server, officer.email)
    page.goto(_url(live_server, "/admin/integrity/screeninglist/"))
    page.locator(".object-tools a.addlink").click()
    page.locator("#id_kind").select_option("wage")
    page.locator("#id_source").fill("BPJS Ketenagakerjaan, ekstrak November 2026")
    page.locator("#id_file").set_input_files(str(extract))
    page.get_by_role("button", name="Impor").click()
    expect(page.locator(".messagelist")).to_contain_text("sedang diimpor")
    expect(page.locator("#result_list")).to_contain_text("Siap")

    # The re-screen's report: one of two active cards now ineligible, Rp 1,000,000 held.
    page.goto(_url(live_server, "/admin/integrity/screeningrun/"))
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text("1.000.000")
    with page.expect_download() as download:
        row.get_by_role("link", name="CSV").click()
    with open(download.value.path(), encoding="utf-8") as saved:
        report = saved.read()
    assert participant.masked_nik != other.participant.masked_nik
    assert participant.masked_nik in report and other.participant.masked_nik not in report
    assert "6.250.000" in report and participant.nik not in report
    run = ScreeningRun.objects.get()
    assert (run.cards_screened, run.found_count) == (2, 1)

    # The participant, on their phone, is told and objects.
    log_in_as(phone_page, live_server, participant.user.email)
    notice = phone_page.locator("#case-notice")
    expect(notice).to_contain_text("dana kartu Anda ditahan")
    notice.get_by_role("link").click()
    expect(phone_page.locator("#case")).to_contain_text("Rp 6.250.000")
    expect(phone_page.locator("#case")).to_contain_text("Rp 1.000.000")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    phone_page.get_by_role("button", name="Kirim keberatan saya").click()
    expect(phone_page.locator("#case")).to_contain_text("Tuliskan alasan keberatan Anda")
    phone_page.get_by_label("Mengapa temuan ini keliru").fill("Saya kena PHK pada akhir Oktober 2026.")
    phone_page.get_by_role("button", name="Kirim keberatan saya").click()
    expect(phone_page.locator(".messages")).to_contain_text("Keberatan Anda terkirim")
    case = Case.objects.get()
    assert case.objection == "Saya kena PHK pada akhir Oktober 2026."
    # Someone else's case number is nobody's.
    response = phone_page.goto(_url(live_server, f"/peserta/kasus/{case.pk + 1000}/"))
    assert response.status == 404

    # The officer reads the objection and decides: a reason is required.
    page.goto(_url(live_server, "/admin/integrity/case/"))
    page.locator("#result_list a", has_text=f"Kasus {case.pk}").click()
    expect(page.locator("#case-summary")).to_contain_text("Saya kena PHK")
    expect(page.locator("#case-decision")).to_be_visible()
    # Recovering money is the finance checker's: not offered to this role.
    expect(page.locator("#case-decision input[value=recover]")).to_have_count(0)
    page.get_by_label("Tetap blokir: dana tetap ditahan").check()
    page.get_by_role("button", name="Catat keputusan").click()
    # The browser asks for the reason first; spaces alone reach the server, which says so.
    assert page.locator("#decision-form textarea").evaluate("e => e.validity.valueMissing")
    page.locator("#decision-form textarea").fill("   ")
    page.get_by_role("button", name="Catat keputusan").click()
    expect(page.locator(".messagelist")).to_contain_text("tulis alasannya")
    assert Case.objects.get().status == "open"
    page.get_by_label("Tetap blokir: dana tetap ditahan").check()
    page.locator("#decision-form textarea").fill("Upah dikonfirmasi BPJS; PHK belum tercatat, tunggu data Desember")
    page.get_by_role("button", name="Catat keputusan").click()
    expect(page.locator(".messagelist")).to_contain_text("Keputusan dicatat")
    expect(page.locator("#result_list")).to_contain_text("Tetap diblokir")
    case.refresh_from_db()
    assert (case.status, case.decided_by) == ("blocked", officer)
    w.check()

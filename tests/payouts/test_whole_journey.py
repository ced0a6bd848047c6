"""One person's whole programme in one unbroken walk, every step clicked in
Chromium through the real pages: a job seeker signs up on a 360 px phone,
registers, verifies the phone and their identity and applies to a wave; a PMO
finance checker runs the lottery from the wave's admin page; the new card
holder buys a course with an SMS code; the institution's staff redeem the
voucher and report completion on their phone; the graduate reviews the course,
links an e-wallet and is paid the first month. Nothing between the steps is
built by a service: only time passes (the wave's registration window closes).
Each person's pages are watched for server errors, bare 403s, console errors
and, on phones, sideways scrolling."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts import roles, sms
from accounts.models import Participant
from enrollment.models import Card, Enrollment
from payouts.models import IncentiveAccount, IncentivePayment
from tests.browser import (
    CAMERA_ACTIONS,
    PASSWORD,
    _fill_profile,
    _open_page,
    _path_is,
    _url,
    camera_ktp,
    log_in_as,
    watch,
)
from tests.catalog.test_catalog import publish
from tests.enrollment.conftest import close_window, make_wave
from tests.factories import make_profile, make_staff, profile_post_data

from .conftest import PDF, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def _code_sent_to(email: str) -> str:
    phone = Participant.objects.get(user__email=email).phone
    texts = [m for m in sms.outbox if m.to == phone]
    return re.search(r"\b(\d{6})\b", texts[-1].body).group(1)


def test_a_job_seeker_goes_from_sign_up_to_a_paid_incentive_by_clicking_alone(
    camera_browser, live_server, world, standin, tmp_path, settings
):
    browser = camera_browser  # the phone's camera films a real person (tests/browser.py)
    settings.LIVENESS_FIXED_ACTIONS = CAMERA_ACTIONS
    institution, staff = world["institution"]("LPK Sepanjang Jalan")
    publish(world, institution, staff, price=350_000, title="Teknisi Panel Surya")
    wave = make_wave(number=1, training_balance=1_000_000)
    email = "seluruh.jalan@example.com"
    profile = make_profile(province="32", gender="F")

    person, page = _open_page(browser, permissions=["camera"], **PHONE)
    page.on("dialog", lambda d: d.accept())
    w = watch(page)

    # Sign up and confirm the address from the emailed link.
    page.goto(_url(live_server, "/"))
    page.get_by_role("link", name="Daftar").first.click()
    page.wait_for_url(_path_is("/akun/signup/"))
    page.fill("#id_email", email)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(_path_is("/akun/confirm-email/"))
    w.fits()
    link = re.search(r"https?://\S+/akun/confirm-email/[^/\s]+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/peserta/daftar/" in url or "/akun/login/" in url)
    if "/akun/login/" in page.url:
        log_in_as(page, live_server, email, PASSWORD)
        page.goto(_url(live_server, "/"))
    page.wait_for_url(_path_is("/peserta/daftar/"))
    w.fits()

    # The profile, then the phone by SMS code.
    _fill_profile(page, profile_post_data(profile))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(_path_is("/peserta/verifikasi-hp/"))
    page.get_by_role("button", name="Kirim kode").click()
    expect(page.locator(".messages")).to_contain_text("Kami sudah mengirim kode ke")
    page.fill("#id_code", _code_sent_to(email))
    page.get_by_role("button", name="Verifikasi").click()
    page.wait_for_url(_path_is("/"))
    w.fits()

    # The identity check, from the home's next step.
    expect(page.locator("#next-step")).to_contain_text("Verifikasi identitas")
    page.locator("#next-step a.button").click()
    page.wait_for_url(_path_is("/peserta/identitas/"))
    page.set_input_files("#id_ktp_photo", camera_ktp(tmp_path, profile.nik))
    page.get_by_role("button", name="Mulai pemeriksaan kamera dan kirim").click()
    expect(page.locator(".badge")).to_have_text("Terverifikasi", timeout=60_000)
    w.fits()

    # The wave, from the home's next step.
    page.click("a.brand")
    expect(page.locator(".step[data-step=identity]")).to_contain_text("Selesai")
    page.locator("#next-step a.button").click()
    page.wait_for_url(_path_is("/peserta/gelombang/"))
    page.get_by_role("button", name="Daftar di gelombang ini").click()
    expect(page.locator(".msg.success")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Anda sudah mendaftar")
    w.fits()

    # Time passes; the PMO's finance checker runs the lottery from admin.
    close_window(wave)
    checker = make_staff(roles.PMO_FINANCE_CHECKER)
    office, admin_page = _open_page(browser)
    a = watch(admin_page)
    log_in_as(admin_page, live_server, checker.email)
    admin_page.wait_for_url(_path_is("/admin/"))
    admin_page.click("a[href='/admin/enrollment/wave/']")
    admin_page.click(f"#result_list a[href='/admin/enrollment/wave/{wave.pk}/change/']")
    admin_page.get_by_role("link", name="Jalankan undian seleksi").click()
    expect(admin_page.locator("#content")).to_contain_text("1 pendaftaran ikut")
    admin_page.get_by_role("button", name="Jalankan undian sekarang").click()
    expect(admin_page.locator(".messagelist .success")).to_be_visible()
    wait_for(lambda: Card.objects.filter(participant__user__email=email).exists(), what="the card")
    admin_page.reload()
    expect(admin_page.locator("#content")).to_contain_text("Seleksi selesai")
    a.check()
    office.close()

    # The card holder buys the course with an SMS code.
    page.click("a.brand")
    expect(page.locator("#next-step")).to_contain_text("Pelatihan pertama")
    page.locator("#next-step a.button").click()
    page.wait_for_url(_path_is("/kursus/"))
    page.get_by_role("link", name="Teknisi Panel Surya").first.click()
    page.get_by_role("link", name="Beli").first.click()
    page.click("button[value=send]")
    expect(page.locator(".msg.success")).to_be_visible()
    card = Card.objects.get(participant__user__email=email)
    page.fill("#id_card_number", card.number)
    page.fill("#id_code", _code_sent_to(email))
    page.click("button[value=buy]")
    voucher = page.locator(".voucher")
    expect(voucher).to_be_visible()
    shown = voucher.inner_text().strip()
    assert shown.replace("-", "") == Enrollment.objects.get().voucher_code
    w.fits()

    # The institution's staff redeem the voucher the participant shows them,
    # then report the completion with a certificate.
    desk, staff_page = _open_page(browser, **PHONE)
    staff_page.on("dialog", lambda d: d.accept())
    s = watch(staff_page)
    log_in_as(staff_page, live_server, staff.email)
    staff_page.wait_for_url(_path_is("/lembaga/"))
    staff_page.click("header a[href='/lembaga/peserta/']")
    staff_page.fill("#id_voucher_code", shown)  # as the participant shows it
    staff_page.get_by_role("button", name="Periksa kode").click()
    # The staff see whose course the code starts before they confirm.
    expect(staff_page.locator("#redeem-confirm")).to_contain_text(profile.full_name)
    assert Enrollment.objects.get().status == "authorised"
    staff_page.get_by_role("button", name="Tukarkan").click()
    expect(staff_page.locator(".msg.success")).to_be_visible()
    staff_page.get_by_role("link", name="Laporkan penyelesaian").click()
    certificate = tmp_path / "sertifikat.pdf"
    certificate.write_bytes(PDF)
    staff_page.set_input_files("#id_certificate", str(certificate))
    staff_page.get_by_role("button", name="Catat penyelesaian").click()
    expect(staff_page.locator(".msg.success")).to_be_visible()
    s.fits()
    s.check()
    desk.close()

    # The graduate reviews the course, links an e-wallet and is paid.
    page.click("a.brand")
    expect(page.locator("#next-step")).to_contain_text("Selesai dan ulasan")
    page.locator("#next-step a.button").click()
    page.check("input[name=rating][value='5']")
    page.fill("#id_text", "Praktiknya banyak dan instrukturnya sabar.")
    page.get_by_role("button", name="Kirim ulasan").click()
    expect(page.locator(".msg.success")).to_be_visible()
    page.click("a.brand")
    expect(page.locator("#next-step")).to_contain_text("Rekening untuk insentif")
    page.locator("#next-step a.button").click()
    page.select_option("#id_channel_code", "ID_OVO")
    page.fill("#id_account_number", profile.phone)
    page.fill("#id_account_holder", profile.full_name)
    page.get_by_role("button", name="Kirim kode").click()
    expect(page.locator(".msg.success")).to_be_visible()
    page.fill("#id_code", _code_sent_to(email))
    page.get_by_role("button", name="Konfirmasi rekening").click()
    expect(page.locator(".msg.success")).to_be_visible()
    assert IncentiveAccount.objects.get().status == "confirmed"
    wait_for(lambda: IncentivePayment.objects.filter(status="paid").count() == 1, what="the first month paid")
    page.click("a.brand")
    for step in ("account", "profile", "phone", "identity", "wave", "card", "course", "review", "incentive"):
        expect(page.locator(f".step[data-step={step}]")).to_contain_text("Selesai")
    w.fits()
    w.check()
    person.close()

"""Attendance in Chromium: the institution's staff make the face-check link
on their page, the participant opens it on a phone whose camera films a real
person (the GRID man, whose face their identity check accepted) and passes;
both pages show the session attended."""

import pytest
from playwright.sync_api import expect

from enrollment.models import AttendanceCheck
from tests.browser import PASSWORD_OF_FACTORIES, _log_in, _open_page, _url, watch
from tests.catalog.test_catalog import world  # noqa: F401  (fixture)
from tests.enrollment.test_attendance import attending  # noqa: F401  (fixture)
from tests.kyc.conftest import live, ready_participant  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_institution_sends_the_participant_to_the_face_check_and_sees_them_attend(
    attending,  # noqa: F811
    camera_phone_page,
    browser,
    live_server,
):
    desk, staff_page = _open_page(browser)
    office = watch(staff_page)
    _log_in(staff_page, live_server, attending.staff.email, PASSWORD_OF_FACTORIES)
    staff_page.goto(_url(live_server, "/lembaga/peserta/"))
    staff_page.get_by_role("link", name="Kehadiran").click()
    row = staff_page.locator("#attendance-sessions tr[data-sequence='1']")
    row.get_by_role("button", name="Buat tautan pemeriksaan wajah").click()
    link = staff_page.locator("#attendance-url").input_value()
    assert "/kehadiran/" in link

    phone = camera_phone_page
    w = watch(phone)
    _log_in(phone, live_server, attending.participant.user.email, PASSWORD_OF_FACTORIES)
    phone.goto(link)
    expect(phone.locator("#attendance-session")).to_contain_text("Modul 1")
    phone.get_by_role("button", name="Mulai pemeriksaan kamera dan kirim").click()
    expect(phone.locator("#live-instruction")).to_contain_text("Kedipkan mata Anda sekali")
    expect(phone.locator("#attendance-status")).to_have_text("Hadir: wajah terverifikasi", timeout=60_000)
    check = AttendanceCheck.objects.get(enrollment=attending.enrollment, session__sequence=1)
    assert check.status == "verified" and check.liveness["passed"]
    w.fits()
    # The link is spent: opening it again says so.
    phone.goto(link)
    expect(phone.locator("#attendance-refused")).to_contain_text("sudah dipakai")
    w.check()

    staff_page.reload()
    expect(row).to_contain_text("Hadir: wajah terverifikasi")
    expect(row.get_by_role("button")).to_have_count(0)
    office.check()
    desk.close()


def test_a_reviewer_compares_a_photo_sent_without_the_camera_and_approves_it(
    attending,  # noqa: F811
    page,
    live_server,
    committed,
):
    from accounts import roles
    from enrollment.services.attendance import attendance_request, attendance_submit
    from kyc import samples
    from tests.browser import log_in_as
    from tests.enrollment.test_attendance import token_of
    from tests.factories import make_staff
    from tests.kyc.conftest import frame_upload

    e = attending.enrollment
    check = attendance_request(enrollment_id=e.pk, sequence=1, user=attending.staff)
    photo = frame_upload(samples.frame_files("grid_bbaf2n_blink")[5])
    committed(attendance_submit, token=token_of(check), participant=attending.participant, selfie=photo)
    check.refresh_from_db()
    assert check.status == "needs_review"

    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    w = watch(page)
    log_in_as(page, live_server, reviewer.email)
    page.goto(_url(live_server, "/admin/enrollment/attendancecheck/?status__exact=needs_review"))
    page.locator("#result_list a", has_text=f"#{check.pk}").click()
    pictures = page.locator("#attendance-pictures img")
    expect(pictures).to_have_count(2)  # what was sent, and the face accepted at the identity check
    # Both pictures decode (a broken one never does); wait for the slower to arrive.
    page.wait_for_function("[...document.querySelectorAll('#attendance-pictures img')].every(i => i.complete)")
    widths = page.evaluate("[...document.querySelectorAll('#attendance-pictures img')].map(i => i.naturalWidth)")
    assert all(width > 0 for width in widths), widths
    expect(page.locator("body")).to_contain_text("Tanpa uji keaktifan: foto diunggah")
    page.get_by_label("Setujui: identitas terbukti").check()
    page.fill("#review-form textarea", "Wajah sama dengan verifikasi identitas")
    page.get_by_role("button", name="Catat keputusan").click()
    expect(page.locator(".messagelist")).to_contain_text("Keputusan dicatat; lembaga diberi tahu")
    check.refresh_from_db()
    assert check.status == "verified" and check.decided_by == reviewer
    assert check.events.filter(kind="viewed", actor=reviewer).exists()  # the look is recorded
    w.check()

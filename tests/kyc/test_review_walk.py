"""A PMO reviewer works a case of the camera check in admin, in Chromium:
the frames, the pose measured per action, what was read off the KTP and
every flag in words, then the decision, by clicking."""

import pytest
from playwright.sync_api import expect

from accounts import roles
from accounts.models import Participant
from kyc.models import KycSubmission
from kyc.services import kyc_submit
from tests.browser import _url, log_in_as, watch
from tests.factories import make_staff
from tests.kyc.conftest import grid_ktp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reviewer_sees_the_camera_check_and_the_ktp_reading_and_decides(page, live_server, ready_participant, live):
    participant = ready_participant()
    other_nik = "3273015708950099" if participant.nik != "3273015708950099" else "3273015708950098"
    # A live capture that passes, with a KTP showing another NIK: to review.
    kyc_submit(participant=participant, ktp_photo=grid_ktp(other_nik), live=live(participant))
    case = KycSubmission.objects.get(participant=participant)
    assert case.status == KycSubmission.Status.NEEDS_REVIEW

    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    w = watch(page)
    log_in_as(page, live_server, reviewer.email)
    page.goto(_url(live_server, "/admin/kyc/kycreviewcase/"))
    page.locator("#result_list a", has_text=f"KYC #{case.pk}").click()
    frames = page.locator("#liveness-frames img")
    expect(frames).to_be_visible()
    assert page.evaluate("document.querySelector('#liveness-frames img').naturalWidth") > 0  # the frames load
    rows = page.locator("#liveness-actions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Kedipkan mata Anda sekali")
    expect(rows.first.locator("td").last).to_have_text("ya")
    expect(page.locator("#ktp-reading")).to_contain_text("berbeda dengan NIK yang diketik")
    expect(page.locator("#ktp-reading")).to_contain_text("3273********")
    expect(page.locator("#case-findings")).to_contain_text("NIK yang terbaca di KTP berbeda dengan NIK yang diketik")
    expect(page.locator("#case-findings")).to_contain_text("Lulus: setiap gerakan terlihat")

    page.get_by_label("Setujui: identitas terbukti").check()
    page.fill("#review-form textarea", "NIK di KTP salah baca; data Dukcapil cocok")
    page.get_by_role("button", name="Catat keputusan").click()
    expect(page.locator(".messagelist")).to_contain_text("Keputusan dicatat")
    case.refresh_from_db()
    assert (case.status, case.decided_by) == (KycSubmission.Status.VERIFIED, reviewer)
    participant.refresh_from_db()
    assert participant.status == Participant.Status.KYC_VERIFIED
    assert case.photo_logs.filter(photo="frames", action="viewed").exists()  # the look is logged
    w.check()

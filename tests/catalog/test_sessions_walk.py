"""An institution lists a course's sessions and post-test on its page, in
Chromium at phone width; they go to curation with the course."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import CourseSession
from catalog.services import course_create
from tests.browser import PASSWORD_OF_FACTORIES, _log_in, _url, watch
from tests.catalog.test_catalog import course_input, world  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_set_the_sessions_and_the_post_test_of_a_draft(phone_page, live_server, world):  # noqa: F811
    institution, staff = world["institution"]("LPK Sesi")
    revision = course_create(institution=institution, platform=world["platform"], data=course_input(), by=staff)
    page = phone_page
    w = watch(page)
    _log_in(page, live_server, staff.email, PASSWORD_OF_FACTORIES)
    page.goto(_url(live_server, f"/lembaga/kursus/{revision.course_id}/"))
    expect(page.locator("#course-sessions")).to_contain_text("Belum ada sesi")
    page.get_by_role("link", name="Ubah sesi").click()
    page.select_option("#id_s-0-kind", "self_paced")
    page.fill("#id_s-0-title", "Modul 1: bahan")
    page.get_by_role("button", name="Simpan sesi").click()
    expect(page.locator("#course-sessions")).to_contain_text("Modul 1: bahan")
    w.fits()

    # A webinar too, with a start in the past first: refused with a reason.
    page.get_by_role("link", name="Ubah sesi").click()
    page.select_option("#id_s-1-kind", "webinar")
    page.fill("#id_s-1-title", "Webinar praktik")
    past = timezone.localtime() - datetime.timedelta(days=1)
    page.fill("#id_s-1-starts_at", past.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_s-1-ends_at", (past + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.check("#id_post_test")
    page.get_by_role("button", name="Simpan sesi").click()
    expect(page.locator(".errorbox")).to_contain_text("Sesi 2: webinar harus dimulai di masa depan")
    assert CourseSession.objects.filter(revision=revision).count() == 1  # nothing half-saved
    later = timezone.localtime() + datetime.timedelta(days=3)
    page.fill("#id_s-1-starts_at", later.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_s-1-ends_at", (later + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Simpan sesi").click()
    expect(page.locator("#course-sessions li")).to_have_count(3)
    expect(page.locator("#course-sessions")).to_contain_text("Post-test")
    saved = list(CourseSession.objects.filter(revision=revision).values_list("sequence", "kind"))
    assert saved == [(1, "self_paced"), (2, "webinar"), (999, "post_test")]
    w.fits()
    w.check()

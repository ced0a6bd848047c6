"""The conflict-of-interest control in Chromium: an institution's staff
member on a 360 px phone declares the institution's parent company, which
turns out to be the platform's own, so its listing there is suspended; the
PMO officer opens the case in admin and decides it by clicking."""

import pytest
from playwright.sync_api import expect

from catalog.models import Course, Platform
from catalog.selectors import on_sale
from integrity.models import Case
from tests.browser import _url, log_in_as, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NIB = "9120001234567"


def test_a_declared_parent_company_suspends_the_listing_and_the_officer_decides(
    page, phone_page, live_server, courses, officer
):
    Platform.objects.filter(pk=courses.world["platform"].pk).update(nib=NIB)
    (course,) = courses(250_000, title="Desain Grafis")
    w = watch(phone_page)
    log_in_as(phone_page, live_server, courses.staff.email)
    phone_page.goto(_url(live_server, "/lembaga/afiliasi/"))
    form = phone_page.locator("#declare-form")
    form.locator("#id_relation").select_option("affiliate")
    form.locator("input[name=party_kind][value=company]").check()
    form.locator("#id_name").fill("PT Induk Digital")
    form.locator("#id_number").fill("91200012")
    form.get_by_role("button").click()
    expect(phone_page.locator("#id_number_errors")).to_contain_text("13 digit")
    assert not courses.institution.affiliations.exists()
    w.fits()

    phone_page.locator("#id_number").fill(NIB)
    phone_page.locator("#declare-form").get_by_role("button").click()
    expect(phone_page.locator(".messages")).to_contain_text("ditangguhkan")
    expect(phone_page.locator(f"#declared-{courses.institution.pk}")).to_contain_text("PT Induk Digital")
    w.fits()
    course.refresh_from_db()
    assert course.is_suspended and not on_sale().filter(pk=course.pk).exists()
    case = Case.objects.get(kind=Case.Kind.CONFLICT)
    # On the institution's own course list the listing shows as suspended.
    phone_page.goto(_url(live_server, "/lembaga/"))
    expect(phone_page.locator("main table")).to_contain_text("ditangguhkan")

    admin = watch(page)
    log_in_as(page, live_server, officer.email)
    page.goto(_url(live_server, "/admin/integrity/case/?kind=conflict"))
    page.locator("#result_list a", has_text=f"Kasus {case.pk}").click()
    expect(page.locator(".field-finding")).to_contain_text("PT Induk Digital")
    expect(page.locator(".field-course")).to_contain_text("Desain Grafis")
    # No card to revoke or money to recover in an institution's case.
    expect(page.locator("#case-decision input[value=revoke]")).to_have_count(0)
    page.locator("#case-decision input[value=clear]").check()
    page.locator("#decision-form textarea").fill("Perusahaan induk sudah melepas sahamnya; akta Mei 2026.")
    page.get_by_role("button", name="Catat keputusan").click()
    expect(page.locator(".messagelist")).to_contain_text("Keputusan dicatat")
    assert Case.objects.get(pk=case.pk).status == "cleared"
    assert not Course.objects.get(pk=course.pk).is_suspended
    w.check()
    admin.check()

"""A wave set up and approved in admin, clicked in Chromium: the finance
maker fills in the wave with a province quota (a rule out of bounds and
quotas over the total are refused on the page first), cannot open it; the
finance checker approves the rules and opens registration."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts import roles
from enrollment.models import Wave
from tests.browser import _open_page, _url, log_in_as, watch
from tests.factories import make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_maker_sets_up_a_wave_and_a_checker_approves_and_opens_it(browser, live_server):
    maker, checker = make_staff(roles.PMO_FINANCE_MAKER), make_staff(roles.PMO_FINANCE_CHECKER)
    today = timezone.localtime()

    context, page = _open_page(browser)
    seen = watch(page)
    log_in_as(page, live_server, maker.email)
    page.goto(_url(live_server, "/admin/enrollment/wave/add/"))
    page.fill("#id_number", "12")
    page.fill("#id_opens_at_0", today.strftime("%Y-%m-%d"))
    page.fill("#id_opens_at_1", "08:00:00")
    page.fill("#id_closes_at_0", (today + datetime.timedelta(days=14)).strftime("%Y-%m-%d"))
    page.fill("#id_closes_at_1", "17:00:00")
    page.fill("#id_quota", "1000")
    page.fill("#id_training_balance", "10000000000")  # three zeros too many
    page.locator(".add-row a").first.click()
    page.select_option("#id_province_quotas-0-province_code", "32")
    page.fill("#id_province_quotas-0-quota", "1500")
    page.click("input[name=_continue]")
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-training_balance .errorlist")).to_be_visible()
    page.fill("#id_training_balance", "3500000")
    page.click("input[name=_continue]")
    expect(page.locator(".errorlist.nonform")).to_contain_text("1500")
    page.fill("#id_province_quotas-0-quota", "600")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    wave = Wave.objects.get(number=12)
    assert (wave.status, wave.training_balance) == ("draft", 3_500_000)
    # The maker is not the one who approves: the open page is closed to them.
    page.locator(".field-actions_links a.button").click()
    expect(page.locator(".messagelist .error")).to_contain_text("pemeriksa keuangan PMO")
    assert Wave.objects.get(pk=wave.pk).status == "draft"
    context.close()

    context, page = _open_page(browser)
    seen2 = watch(page)
    log_in_as(page, live_server, checker.email)
    page.goto(_url(live_server, f"/admin/enrollment/wave/{wave.pk}/change/"))
    page.locator(".field-actions_links a.button").click()
    expect(page.locator("#content")).to_contain_text("Jawa Barat: 600")
    page.click("input[type=submit].default")
    expect(page.locator(".messagelist .success")).to_contain_text("disetujui")
    wave.refresh_from_db()
    assert wave.status == "open"
    expect(page.locator("#id_training_balance")).to_have_count(0)  # fixed once approved
    seen2.check()
    context.close()
    seen.check()


def test_a_checker_issues_the_cards_a_stopped_issuing_left_out(browser, live_server, committed):
    from unittest import mock

    from enrollment import tasks
    from enrollment.models import Card
    from enrollment.services import waves

    from .conftest import close_window, ledger_ok, make_wave, verified_participant

    wave = make_wave(number=3, quota=2)
    for _i in range(2):
        waves.wave_apply(participant=verified_participant(committed), wave=wave)
    close_window(wave)
    checker = make_staff(roles.PMO_FINANCE_CHECKER)
    with mock.patch.object(tasks.issue_wave_cards, "delay"):  # the issuing never ran (its worker was lost)
        waves.wave_draw(wave=wave, by=checker)
    assert not Card.objects.exists()

    context, page = _open_page(browser)
    seen = watch(page)
    log_in_as(page, live_server, checker.email)
    page.goto(_url(live_server, f"/admin/enrollment/wave/{wave.pk}/change/"))
    expect(page.locator("#cards-issued")).to_contain_text("0 dari 2")
    page.click("#issue-cards")
    expect(page.locator("#content")).to_contain_text("2 peserta terpilih")
    page.click("input[type=submit].default")
    expect(page.locator(".messagelist .success")).to_be_visible()
    expect(page.locator(".field-actions_links")).to_contain_text("2 dari 2")
    expect(page.locator("#issue-cards")).to_have_count(0)
    # Back to the confirmation and pressed again: nothing is issued twice.
    page.go_back()
    page.click("input[type=submit].default")
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert Card.objects.filter(wave=wave).count() == 2
    ledger_ok()
    seen.check()
    context.close()

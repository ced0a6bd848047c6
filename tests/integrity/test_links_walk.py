"""The linked-accounts case in Chromium: the officer opens one member's
case, reads the group drawn as a graph (names masked) with its table,
goes to another member's case from it and keeps that one blocked."""

from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from integrity.devices import device_seen
from integrity.models import Case
from integrity.services.links import links_scan
from tests.browser import _url, log_in_as, watch
from tests.factories import make_participant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_officer_reads_the_linked_group_as_a_graph_and_decides_a_member(page, live_server, officer):
    browser = SimpleNamespace(device_token="one-browser-of-the-joki-01")
    people = [
        make_participant(full_name="Ani Lestari"),
        make_participant(full_name="Bambang Irawan", phone="081299990000"),
        make_participant(full_name="Cici Paramida", phone="081299990000"),
    ]
    for person in people:
        device_seen(browser, person.pk, "register")
    cases = links_scan()
    assert len(cases) == 3
    first = Case.objects.get(participant=people[0])
    second = Case.objects.get(participant=people[1])

    w = watch(page)
    log_in_as(page, live_server, officer.email)
    page.goto(_url(live_server, "/admin/integrity/case/?kind=linked"))
    page.locator("#result_list a", has_text=f"Kasus {first.pk}").click()
    graph = page.locator("#link-graph")
    expect(graph).to_be_visible()
    expect(graph.locator("g.member")).to_have_count(3)
    expect(graph.locator("g.shared")).to_have_count(2)  # one browser, one phone
    expect(graph).to_contain_text("A*** L***")
    assert "Lestari" not in graph.inner_html()
    expect(page.locator("#link-table")).to_contain_text("+62 812-****-0000")
    expect(page.locator(".field-finding")).to_contain_text("55")  # 15 x 2 + 25

    page.locator("#link-group a", has_text=f"Kasus {second.pk}").click()
    expect(page.locator("#case-summary")).to_be_visible()
    page.locator("#case-decision input[value=block]").check()
    page.locator("#decision-form textarea").fill("Nomor HP joki dipakai untuk dua akun; tunggu klarifikasi Disnaker.")
    page.get_by_role("button", name="Catat keputusan").click()
    expect(page.locator(".messagelist")).to_contain_text("Keputusan dicatat")
    assert Case.objects.get(pk=second.pk).status == "blocked"
    w.check()

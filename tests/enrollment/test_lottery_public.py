"""The lottery in the open (audit finding: the draw could be chosen after
seeing the candidates): the seed's SHA-256 is public from the moment the
wave opens, the seed at the draw, and anyone re-runs the draw from the
public list and gets the same outcome. No names anywhere on it."""

import csv
import hashlib
import io

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts import crypto, roles
from enrollment import lottery
from enrollment.models import Wave, WaveApplication
from enrollment.services import waves
from tests.browser import _url, watch
from tests.factories import make_staff

from .conftest import close_window, make_wave, verified_participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def drawn_wave(committed):
    wave = make_wave(number=41, quota=3)
    published = wave.draw_commitment
    people = [verified_participant(committed, province="32" if i % 2 else "35") for i in range(7)]
    for person in people:
        waves.wave_apply(participant=person, wave=wave)
    close_window(wave)
    committed(waves.wave_draw, wave=wave, by=make_staff(roles.PMO_FINANCE_CHECKER))
    wave.refresh_from_db()
    return wave, published, people


def test_the_seed_is_committed_when_the_wave_opens_and_hidden_until_the_draw(client):
    wave = make_wave(number=40)
    assert len(wave.draw_commitment) == 64 and wave.sealed_seed and not wave.draw_seed
    seed = crypto.decrypt(wave.sealed_seed)
    assert hashlib.sha256(seed.encode()).hexdigest() == wave.draw_commitment
    page = client.get(reverse("enrollment:wave_lottery", args=[40])).content.decode()
    assert wave.draw_commitment in page and seed not in page
    assert client.get(reverse("enrollment:wave_lottery_csv", args=[40])).status_code == 404  # nothing drawn yet


def test_the_draw_uses_the_committed_seed_and_anyone_can_run_it_again(drawn_wave, client):
    wave, published, people = drawn_wave
    assert wave.draw_commitment == published and not wave.sealed_seed
    assert hashlib.sha256(wave.draw_seed.encode()).hexdigest() == published
    page = client.get(reverse("enrollment:wave_lottery", args=[wave.number])).content.decode()
    assert wave.draw_seed in page and 'id="seed-check">ya<' in page.replace("\n", "")
    for person in people:  # no names, no NIK
        assert person.full_name not in page and person.nik not in page

    body = b"".join(client.get(reverse("enrollment:wave_lottery_csv", args=[wave.number])).streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(rows) == 7
    candidates = [lottery.Candidate(int(r["application"]), r["province"]) for r in rows if r["outcome"] != "ineligible"]
    order, selected = lottery.draw(
        wave.draw_seed, candidates, quota=wave.draw_quotas["quota"], province_quotas=wave.draw_quotas["provinces"]
    )
    published_selected = {int(r["application"]) for r in rows if r["outcome"] == "selected"}
    assert selected == published_selected and len(selected) == 3
    assert [int(r["application"]) for r in sorted(rows, key=lambda r: int(r["draw_position"]))] == order


def test_each_participant_sees_their_own_application_number(drawn_wave, client):
    wave, _published, people = drawn_wave
    person = people[0]
    mine = WaveApplication.objects.get(wave=wave, participant=person)
    client.force_login(person.user)
    page = client.get(reverse("enrollment:waves")).content.decode()
    assert f'<span class="mono application-number">{mine.pk}</span>' in page
    assert reverse("enrollment:wave_lottery", args=[wave.number]) in page


def test_a_draft_wave_has_no_public_page(client):
    Wave.objects.create(number=77, opens_at="2030-01-01T00:00Z", closes_at="2030-01-08T00:00Z", quota=5)
    assert client.get(reverse("enrollment:wave_lottery", args=[77])).status_code == 404


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_public_page_reads_on_a_phone_without_logging_in(drawn_wave, phone_page, live_server):
    wave, _published, _people = drawn_wave
    w = watch(phone_page)
    phone_page.goto(_url(live_server, f"/gelombang/{wave.number}/undian/"))
    expect(phone_page.locator("#seed")).to_have_text(wave.draw_seed)
    expect(phone_page.locator("#seed-check")).to_have_text("ya")
    expect(phone_page.locator("#lottery-rows tbody tr")).to_have_count(7)
    w.fits()
    w.check()

"""A Dinas operator on a phone registers one person with the form and two
more with a CSV file, in Chromium at 360 px, by the pages' own links and
buttons; a bad row is reported per row and the person gets a link to set a
password. Every page is watched for server errors, bare 403s, console errors
and sideways scrolling."""

import csv
import io

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts import crypto
from accounts.models import Participant
from tests.browser import _open_page, _path_is, log_in_as, watch
from tests.factories import make_operator, make_profile

from .test_offline_registration import csv_bytes, csv_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def test_a_dinas_operator_registers_one_person_and_a_csv_on_a_phone(browser, live_server, tmp_path):
    operator = make_operator("32")
    context, page = _open_page(browser, **PHONE)
    w = watch(page)
    log_in_as(page, live_server, operator.email)
    page.wait_for_url(_path_is("/dinas/"))
    w.fits()

    person = make_profile(province="32", gender="F")
    page.click("a[href='/dinas/daftar/']")
    expect(page.locator("main")).to_contain_text("KTP-nya")
    page.fill("#id_email", "warga.satu@example.com")
    page.fill("#id_full_name", person.full_name)
    page.fill("#id_nik", person.nik)
    page.fill("#id_kk_number", person.kk_number)
    page.fill("#id_birth_place", person.birth_place)
    page.fill("#id_birth_date", person.birth_date.isoformat())
    page.check("#id_gender_1")
    page.fill("#id_phone", person.phone)
    page.fill("#id_address", person.address)
    page.select_option("#id_education", person.education)
    page.select_option("#id_employment_status", person.employment_status)
    w.fits()
    page.get_by_role("button", name="Daftar", exact=True).click()
    page.wait_for_url(_path_is("/dinas/"))
    expect(page.locator(".msg.success")).to_be_visible()
    expect(page.locator("main")).to_contain_text(crypto.mask(person.nik))
    assert person.nik not in page.content()
    assert Participant.objects.get(nik_index=crypto.nik_index(person.nik)).registered_by == operator
    assert [m.to for m in mail.outbox] == [["warga.satu@example.com"]]
    w.fits()

    # A CSV of two good rows and one that names another province.
    good = [make_profile(province="32"), make_profile(province="32")]
    elsewhere = make_profile(province="31")
    rows = [csv_row(p, f"warga.csv{i}@example.com") for i, p in enumerate([*good, elsewhere])]
    upload = tmp_path / "peserta.csv"
    upload.write_bytes(csv_bytes(rows))
    page.click("a[href='/dinas/unggah/']")
    expect(page.locator("pre.example")).to_be_visible()
    page.set_input_files("#id_file", str(upload))
    page.get_by_role("button", name="Unggah").click()
    expect(page.locator(".msg.success")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Selesai")
    with page.expect_download() as download:
        page.get_by_role("link", name="Unduh hasil per baris").click()
    with open(download.value.path(), encoding="utf-8-sig") as file:
        result = list(csv.reader(io.StringIO(file.read())))
    assert len(result) == 4  # the header and a line per row
    registered = Participant.objects.filter(registered_by=operator).count()
    assert registered == 3
    w.fits()
    w.check()
    context.close()

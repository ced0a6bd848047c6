"""Offline registration by Dinas operators: one at a time and by CSV batch."""

import csv
import datetime
import io
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import crypto
from accounts.models import Participant, RegistrationBatch, User
from accounts.services.batches import COLUMNS, registration_batch_process
from tests.factories import UserFactory, make_operator, make_profile, profile_post_data

pytestmark = pytest.mark.django_db


def operator_post_data(profile, email):
    return {**profile_post_data(profile), "email": email}


def csv_row(profile, email, **overrides):
    row = {
        "nik": profile.nik,
        "no_kk": profile.kk_number,
        "nama_lengkap": profile.full_name,
        "tempat_lahir": profile.birth_place,
        "tanggal_lahir": profile.birth_date.isoformat(),
        "jenis_kelamin": {"M": "L", "F": "P"}[profile.gender],
        "no_hp": profile.phone,
        "email": email,
        "alamat": profile.address,
        "pendidikan": "SMA",
        "status_pekerjaan": "belum bekerja",
    }
    row.update(overrides)
    return row


def csv_bytes(rows, columns=tuple(COLUMNS), delimiter=",", encoding="utf-8"):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(client, content, name="peserta.csv"):
    return client.post(
        reverse("accounts:operator_batch_upload"), {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def result_rows(client, batch):
    response = client.get(reverse("accounts:operator_batch_result", args=[batch.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_an_operator_registers_a_person_of_their_province(client, committed):
    operator = make_operator("32")
    client.force_login(operator)
    profile = make_profile(province="32")
    response = committed(
        client.post, reverse("accounts:operator_register"), operator_post_data(profile, "Warga@Example.com")
    )
    assert response.status_code == 302

    participant = Participant.objects.get(nik_index=crypto.nik_index(profile.nik))
    assert participant.channel == Participant.Channel.OFFLINE
    assert participant.registered_by == operator
    assert participant.user.email == "warga@example.com"
    assert not participant.user.has_usable_password()
    assert participant.events.get().actor == operator

    # The person is told and can choose a password from the link.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["warga@example.com"]
    assert profile.nik not in message.body
    link = re.search(r"http://\S+/akun/password/reset/key/\S+", message.body).group(0)
    client.logout()
    page = client.get(link.replace("http://127.0.0.1:8000", ""), follow=True)
    assert page.status_code == 200
    set_url = page.redirect_chain[-1][0] if page.redirect_chain else link.replace("http://127.0.0.1:8000", "")
    done = client.post(set_url, {"password1": "Peserta-Baru-2026", "password2": "Peserta-Baru-2026"}, follow=True)
    assert User.objects.get(pk=participant.user_id).check_password("Peserta-Baru-2026")
    # The link came by email, so the address is proved: they are signed in
    # and land on their own page, not asked to confirm the address again.
    assert EmailAddress.objects.get(user=participant.user).verified
    assert done.redirect_chain[-1][0] == "/"
    assert "accounts/dashboard.html" in [t.name for t in done.templates]

    # The operator's own list shows the person with a masked NIK.
    client.force_login(operator)
    page = client.get(reverse("accounts:operator_dashboard")).content.decode()
    assert crypto.mask(profile.nik) in page and profile.nik not in page


def test_an_operator_cannot_register_a_nik_of_another_province(client):
    operator = make_operator("32")
    client.force_login(operator)
    profile = make_profile(province="31")
    response = client.post(reverse("accounts:operator_register"), operator_post_data(profile, "jkt@example.com"))
    assert response.status_code == 200
    assert [e for e in response.context["form"].errors["nik"]]
    assert "Jakarta" in response.context["form"].errors["nik"][0]
    assert not Participant.objects.exists()
    assert not User.objects.filter(email="jkt@example.com").exists()


def test_offline_form_refuses_bad_email_and_bad_fields_together_and_writes_nothing(client):
    operator = make_operator("32")
    client.force_login(operator)
    data = operator_post_data(make_profile(province="32"), "bukan-email")
    data["nik"] = "123"
    users_before = User.objects.count()
    response = client.post(reverse("accounts:operator_register"), data)
    errors = response.context["form"].errors
    assert "email" in errors and "nik" in errors
    assert User.objects.count() == users_before


def test_an_email_that_already_has_an_account_is_refused(client):
    operator = make_operator("32")
    existing = UserFactory()
    client.force_login(operator)
    response = client.post(
        reverse("accounts:operator_register"), operator_post_data(make_profile(province="32"), existing.email.upper())
    )
    assert response.context["form"].errors["email"]
    assert not Participant.objects.exists()


@pytest.mark.parametrize("url_name", ["accounts:operator_dashboard", "accounts:operator_register"])
def test_people_who_are_not_operators_cannot_use_the_operator_pages(client, url_name):
    client.force_login(UserFactory())
    assert client.get(reverse(url_name)).status_code == 404
    assert client.post(reverse("accounts:operator_register"), {}).status_code == 404


def test_a_csv_batch_registers_good_rows_and_reports_each_bad_one(client, committed):
    operator = make_operator("32")
    client.force_login(operator)
    good = [make_profile(province="32") for _ in range(3)]
    other_province = make_profile(province="35")
    too_young = make_profile(province="32", birth_date=datetime.date(2015, 1, 1))
    rows = [
        csv_row(good[0], "a@example.com"),
        csv_row(good[1], "b@example.com", jenis_kelamin="x"),
        csv_row(good[2], "c@example.com", tanggal_lahir="17-08-1995"),
        csv_row(other_province, "d@example.com"),
        csv_row(too_young, "e@example.com"),
        csv_row(good[0], "f@example.com"),  # the same NIK again
        csv_row(make_profile(province="32"), "g@example.com", nik="12345"),
    ]
    response = committed(upload, client, csv_bytes(rows))
    batch = RegistrationBatch.objects.get()
    assert response["Location"] == reverse("accounts:operator_batch", args=[batch.pk])
    batch.refresh_from_db()
    assert batch.status == RegistrationBatch.Status.DONE
    assert (batch.rows_total, batch.rows_registered, batch.rows_refused) == (7, 2, 5)

    registered = Participant.objects.filter(registration_batch=batch)
    assert {p.nik for p in registered} == {good[0].nik, good[2].nik}
    assert all(p.channel == "offline" and p.registered_by == operator for p in registered)

    result = result_rows(client, batch)
    assert result[0] == ["baris", "nik", "nama", "hasil", "alasan"]
    by_line = {row[0]: row for row in result[1:]}
    assert by_line["2"][3] == "terdaftar" and by_line["2"][1] == crypto.mask(good[0].nik)
    assert by_line["3"][3] == "ditolak" and by_line["3"][4].startswith("jenis_kelamin:")
    assert by_line["4"][3] == "terdaftar"
    assert by_line["5"][3] == "ditolak" and "nik:" in by_line["5"][4]
    assert by_line["6"][3] == "ditolak" and "tanggal_lahir:" in by_line["6"][4]
    assert by_line["7"][3] == "ditolak" and "nik:" in by_line["7"][4]
    assert by_line["8"][3] == "ditolak" and "nik:" in by_line["8"][4]
    # No full NIK anywhere in the result file.
    flat = " ".join(" ".join(r) for r in result)
    assert good[0].nik not in flat and other_province.nik not in flat


def test_a_semicolon_csv_from_excel_with_a_bom_is_read(client, committed):
    operator = make_operator("32")
    client.force_login(operator)
    profile = make_profile(province="32")
    content = b"\xef\xbb\xbf" + csv_bytes([csv_row(profile, "semi@example.com")], delimiter=";")
    committed(upload, client, content)
    assert RegistrationBatch.objects.get().rows_registered == 1


@pytest.mark.parametrize(
    ("content", "name", "fragment"),
    [
        (b"", "kosong.csv", None),
        (b"nik,no_kk,nama_lengkap\r\n3273015708950001,3273010101990001,SITI\r\n", "kurang.csv", "tempat_lahir"),
        ("nik,nama_lengkap\r\n3273015708950001,JOSÉ\r\n".encode("latin-1"), "latin1.csv", "UTF-8"),
        ("\ufeffnik,nama\r\n1,A\r\n".encode("utf-16"), "utf16.csv", "UTF-8"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)), "data.csv", "UTF-8"),
        (b"nik;no_kk\r\n", "data.xlsx", ".csv"),
        (csv_bytes([]), "header-only.csv", None),
        (b"nik," + b"," * 20_000 + b"\r\n", "one-long-line.csv", "16384"),
        (csv_bytes([]) + b"x" * 20_000 + b"\r\n", "long-row.csv", "16384"),
    ],
)
def test_bad_files_are_refused_at_upload_with_a_reason(client, content, name, fragment):
    operator = make_operator("32")
    client.force_login(operator)
    response = upload(client, content, name)
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert errors
    if fragment:
        assert fragment in " ".join(errors)
    assert not RegistrationBatch.objects.exists()


def test_an_operator_cannot_see_another_operators_batch(client, committed):
    owner, other = make_operator("32"), make_operator("32")
    client.force_login(owner)
    committed(upload, client, csv_bytes([csv_row(make_profile(province="32"), "x@example.com")]))
    batch = RegistrationBatch.objects.get()
    client.force_login(other)
    assert client.get(reverse("accounts:operator_batch", args=[batch.pk])).status_code == 404
    assert client.get(reverse("accounts:operator_batch_result", args=[batch.pk])).status_code == 404
    client.force_login(UserFactory())
    assert client.get(reverse("accounts:operator_batch_result", args=[batch.pk])).status_code == 404


def queued_batch(client, rows: int, tag: str) -> RegistrationBatch:
    """An operator's upload of ``rows`` good rows, accepted and not yet run."""
    operator = make_operator("32")
    client.force_login(operator)
    profiles = [make_profile(province="32") for _ in range(rows)]
    upload(client, csv_bytes([csv_row(p, f"{tag}{i}@example.com") for i, p in enumerate(profiles)]))
    batch = RegistrationBatch.objects.get()
    assert batch.status == "queued" and batch.source
    return batch


def test_processing_a_batch_twice_registers_nobody_twice(client):
    batch = queued_batch(client, 3, "twice")
    assert registration_batch_process(batch_id=batch.pk) == "done"
    assert Participant.objects.count() == 3
    # The upload held NIKs in clear; it is gone, the masked result stays.
    batch.refresh_from_db()
    assert not batch.source and batch.result
    assert registration_batch_process(batch_id=batch.pk) == "done"
    assert Participant.objects.count() == 3
    assert [r[3] for r in result_rows(client, batch)[1:]] == ["terdaftar"] * 3


def test_a_run_that_died_half_way_is_taken_over_and_reports_the_same(client, monkeypatch):
    from accounts.services import batches as batches_module

    batch = queued_batch(client, 3, "died")
    # The first run registers two rows, then its worker is killed.
    real = batches_module._register_row
    calls = []

    def dies_on_third(*args):
        calls.append(1)
        if len(calls) == 3:
            raise SystemExit("worker killed")
        return real(*args)

    monkeypatch.setattr(batches_module, "_register_row", dies_on_third)
    with pytest.raises(SystemExit):
        registration_batch_process(batch_id=batch.pk)
    monkeypatch.setattr(batches_module, "_register_row", real)
    assert Participant.objects.count() == 2
    # While its claim is fresh, another run keeps off; once stale, takes over.
    assert registration_batch_process(batch_id=batch.pk) == "busy"
    RegistrationBatch.objects.filter(pk=batch.pk).update(heartbeat_at=None)
    assert registration_batch_process(batch_id=batch.pk) == "done"
    batch.refresh_from_db()
    assert (batch.status, batch.rows_registered, batch.rows_refused) == ("done", 3, 0)
    assert Participant.objects.count() == 3
    assert [r[3] for r in result_rows(client, batch)[1:]] == ["terdaftar"] * 3


def test_a_system_error_mid_batch_ends_it_failed_with_the_rows_so_far(client, monkeypatch):
    from django.db import OperationalError

    from accounts.services import batches as batches_module

    batch = queued_batch(client, 3, "err")
    real = batches_module._register_row

    def database_goes_away(b, line, row, resumed):
        if line == 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real(b, line, row, resumed)

    monkeypatch.setattr(batches_module, "_register_row", database_goes_away)
    assert registration_batch_process(batch_id=batch.pk) == "done"
    batch.refresh_from_db()
    assert (batch.status, batch.rows_registered) == ("failed", 1)
    assert "baris 3" in batch.error
    assert not batch.source
    page = client.get(reverse("accounts:operator_batch", args=[batch.pk])).content.decode()
    assert batch.error in page


def test_the_template_csv_has_every_column(client):
    client.force_login(make_operator("32"))
    response = client.get(reverse("accounts:operator_batch_template"))
    lines = response.content.decode().splitlines()
    assert lines[0].split(",") == list(COLUMNS)
    # No example row: one left in by mistake would register somebody.
    assert lines[1:] == []
    page = client.get(reverse("accounts:operator_batch_upload")).content.decode()
    assert "SITI AMINAH" in page and "jangan diunggah" in page


def test_the_operator_form_speaks_of_the_person_not_to_the_operator(client):
    client.force_login(make_operator("32"))
    page = client.get(reverse("accounts:operator_register")).content.decode()
    assert "KTP-nya" in page and "KTP Anda" not in page
    refused = client.post(reverse("accounts:operator_register"), {"email": "a@example.com"}).content.decode()
    assert "Pilih jenis kelamin." in refused and "Masukkan nama lengkap sesuai yang tertulis di KTP." in refused
    assert "kelamin Anda" not in refused and "lahir Anda" not in refused


def test_the_operator_dashboard_costs_the_same_queries_for_3_or_30_people(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.services.registration import participant_register_offline

    operator = make_operator("32")
    client.force_login(operator)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("accounts:operator_dashboard")).status_code == 200
        return len(ctx)

    for i in range(3):
        participant_register_offline(operator=operator, email=f"q{i}@example.com", profile=make_profile(province="32"))
    few = queries()
    for i in range(3, 30):
        participant_register_offline(operator=operator, email=f"q{i}@example.com", profile=make_profile(province="32"))
    assert queries() == few


def test_the_result_file_cannot_carry_a_spreadsheet_formula(client, committed):
    operator = make_operator("32")
    client.force_login(operator)
    evil = csv_row(make_profile(province="32"), "evil@example.com", nama_lengkap='=HYPERLINK("http://x","klik")')
    evil_nik = csv_row(make_profile(province="32"), "evil2@example.com", nik="=1+2+cmd|' /C calc'!A0")
    committed(upload, client, csv_bytes([evil, evil_nik]))
    batch = RegistrationBatch.objects.get()
    assert batch.rows_refused == 2
    for row in result_rows(client, batch)[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row
    assert result_rows(client, batch)[1][2] == '\'=HYPERLINK("http://x","klik")'


def test_the_welcome_mail_writes_names_as_they_are(client, committed):
    operator = make_operator("32")
    client.force_login(operator)
    profile = make_profile(province="32", full_name="Nur'aini Ma'ruf")
    committed(client.post, reverse("accounts:operator_register"), operator_post_data(profile, "nur@example.com"))
    assert "Nur'aini Ma'ruf" in mail.outbox[0].body
    assert "&#x27;" not in mail.outbox[0].body

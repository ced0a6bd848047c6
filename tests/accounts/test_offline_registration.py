"""Offline registration by Dinas operators: one at a time and by CSV batch."""

import csv
import datetime
import io
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import crypto, csvio
from accounts.models import ExclusionEntry, ExclusionList, Participant, RegistrationBatch, RegistrationBatchChunk, User
from accounts.services.batches import COLUMNS, registration_batch_process
from tests.factories import UserFactory, make_operator, make_participant, make_profile, profile_post_data

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


def test_a_batch_is_registered_in_chunks_in_line_order(client, settings, tmp_path):
    settings.REGISTRATION_BATCH_CHUNK = 2
    batch = queued_batch(client, 5, "chunks")
    assert registration_batch_process(batch_id=batch.pk) == "done"
    batch.refresh_from_db()
    assert (batch.status, batch.rows_registered, batch.rows_refused) == ("done", 5, 0)
    assert list(batch.chunks.values_list("first_line", "last_line", "status")) == [
        (2, 3, "done"),
        (4, 5, "done"),
        (6, 6, "done"),
    ]
    lines = {p.registration_batch_line for p in Participant.objects.filter(registration_batch=batch)}
    assert lines == {2, 3, 4, 5, 6}
    assert [r[0] for r in result_rows(client, batch)[1:]] == ["2", "3", "4", "5", "6"]
    # The upload and its chunks held NIKs in clear: no file but the result stays.
    private = tmp_path / "private"
    assert [path.relative_to(private).as_posix() for path in private.rglob("*.csv")] == [batch.result.name]


def test_a_chunk_whose_worker_died_is_taken_over_and_reports_the_same(client, settings, monkeypatch):
    from accounts.services import batches as batches_module

    settings.REGISTRATION_BATCH_CHUNK = 2
    batch = queued_batch(client, 5, "died")
    queued = []
    monkeypatch.setattr(batches_module.process_registration_chunk, "delay", queued.append)
    assert registration_batch_process(batch_id=batch.pk) == "done"
    assert len(queued) == 3
    assert batches_module.registration_chunk_process(chunk_id=queued[0]) == "done"

    # The second chunk's rows are in, then its worker is killed before the
    # chunk is marked done.
    real = batches_module._result

    def killed(line, *args):
        if line == 4:
            raise SystemExit("worker killed")
        return real(line, *args)

    monkeypatch.setattr(batches_module, "_result", killed)
    with pytest.raises(SystemExit):
        batches_module.registration_chunk_process(chunk_id=queued[1])
    monkeypatch.setattr(batches_module, "_result", real)
    assert Participant.objects.count() == 4
    # While its claim is fresh, another run keeps off; once stale, takes over.
    assert batches_module.registration_chunk_process(chunk_id=queued[1]) == "busy"
    RegistrationBatchChunk.objects.filter(pk=queued[1]).update(heartbeat_at=None)
    assert batches_module.registration_chunk_process(chunk_id=queued[1]) == "done"
    batch.refresh_from_db()
    assert batch.status == "processing"
    assert batches_module.registration_chunk_process(chunk_id=queued[2]) == "done"

    batch.refresh_from_db()
    assert (batch.status, batch.rows_registered, batch.rows_refused) == ("done", 5, 0)
    assert Participant.objects.count() == 5
    assert [r[3] for r in result_rows(client, batch)[1:]] == ["terdaftar"] * 5
    assert registration_batch_process(batch_id=batch.pk) == "done"
    assert Participant.objects.count() == 5


def test_a_chunk_left_by_a_dead_worker_is_queued_again_by_the_beat(client, settings, monkeypatch):
    from accounts.services import batches as batches_module
    from accounts.tasks import requeue_stale_batch_chunks

    settings.REGISTRATION_BATCH_CHUNK = 2
    batch = queued_batch(client, 3, "beat")
    queued = []
    monkeypatch.setattr(batches_module.process_registration_chunk, "delay", queued.append)
    registration_batch_process(batch_id=batch.pk)
    # The first chunk's worker took it and died; the second was never taken.
    RegistrationBatchChunk.objects.filter(pk=queued[0]).update(status="processing", heartbeat_at=timezone.now())
    assert requeue_stale_batch_chunks() == 0
    long_ago = timezone.now() - batches_module.STALE_AFTER * 2
    RegistrationBatchChunk.objects.filter(pk=queued[0]).update(heartbeat_at=long_ago)
    RegistrationBatch.objects.filter(pk=batch.pk).update(heartbeat_at=long_ago)
    monkeypatch.undo()
    assert requeue_stale_batch_chunks() == 2
    batch.refresh_from_db()
    assert (batch.status, batch.rows_registered) == ("done", 3)
    assert requeue_stale_batch_chunks() == 0


def test_a_system_error_in_a_chunk_ends_the_batch_failed_with_the_rows_it_lost(client, settings, monkeypatch):
    from django.db import OperationalError

    from accounts.services import batches as batches_module

    settings.REGISTRATION_BATCH_CHUNK = 1
    batch = queued_batch(client, 3, "err")
    real = batches_module.participants_register_offline_many

    def database_goes_away(**kwargs):
        if kwargs["rows"][0][0] == 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(batches_module, "participants_register_offline_many", database_goes_away)
    assert registration_batch_process(batch_id=batch.pk) == "done"
    batch.refresh_from_db()
    assert (batch.status, batch.rows_registered, batch.rows_refused) == ("failed", 2, 1)
    assert "baris 3 sampai 3" in batch.error
    assert not batch.source
    assert set(Participant.objects.values_list("registration_batch_line", flat=True)) == {2, 4}
    result = {row[0]: row for row in result_rows(client, batch)[1:]}
    assert result["3"][3] == "ditolak" and "gangguan sistem" in result["3"][4]
    assert result["2"][3] == result["4"][3] == "terdaftar"
    page = client.get(reverse("accounts:operator_batch", args=[batch.pk])).content.decode()
    assert batch.error in page


def test_a_chunk_gets_the_same_answers_in_bulk_as_one_row_at_a_time(client, monkeypatch):
    """Every refusal a row can get, decided for the whole chunk at once, is
    the one it gets registered alone (the way taken when a concurrent
    registration gets in the way)."""
    from accounts.services import batches as batches_module

    operator = make_operator("32")
    kk = make_profile(province="32").kk_number
    on_file = make_participant(province="32")
    verified = make_participant(province="32")
    Participant.objects.filter(pk=verified.pk).update(phone_verified_at=timezone.now())
    UserFactory(email="taken@example.com")
    excluded = make_profile(province="32")
    civil_servants = ExclusionList.objects.create(
        kind="civil_servant", source="BKN 2026-10", status="ready", imported_by=operator
    )
    ExclusionEntry.objects.create(exclusion_list=civil_servants, nik_index=crypto.nik_index(excluded.nik))
    a, b, c = (make_profile(province="32", kk_number=kk) for _ in range(3))
    rows = [
        csv_row(a, "a@example.com"),
        csv_row(b, "b@example.com"),
        csv_row(c, "c@example.com"),  # a third on the family card
        csv_row(make_profile(province="32", nik=a.nik), "a2@example.com"),  # NIK twice in the file
        csv_row(make_profile(province="32"), "A@Example.com"),  # email twice, other case
        csv_row(make_profile(province="32", nik=on_file.nik), "d@example.com"),
        csv_row(make_profile(province="32"), "Taken@example.com"),
        csv_row(make_profile(province="32", phone=verified.phone), "e@example.com"),
        csv_row(make_profile(province="32", phone=on_file.phone), "f@example.com"),  # not verified: allowed
        csv_row(excluded, "g@example.com"),
        csv_row(excluded, "taken@example.com"),  # excluded comes first
        csv_row(make_profile(province="35"), "h@example.com"),
        csv_row(make_profile(province="32"), "i@example.com", jenis_kelamin="x"),
        csv_row(make_profile(province="32", birth_date=datetime.date(2015, 1, 1)), "j@example.com"),
        csv_row(make_profile(province="32"), "not-an-email", nama_lengkap=""),
        csv_row(make_profile(province="32"), "k@example.com"),
    ]
    client.force_login(operator)
    upload(client, csv_bytes(rows))
    batch = RegistrationBatch.objects.get()
    with batch.source.open("rb") as source:
        lines = list(csvio.open_rows(source)[1])

    def answers(bulk: bool):
        results = []
        with transaction.atomic():
            if not bulk:
                monkeypatch.setattr(batches_module, "participants_register_offline_many", one_at_a_time)
            batches_module._register_rows(batch, lines, results)
            monkeypatch.undo()
            transaction.set_rollback(True)
        return results

    def one_at_a_time(**kwargs):
        raise batches_module.BulkConflict("as if a concurrent registration took a card")

    bulk, alone = answers(True), answers(False)
    assert bulk == alone
    registered = [line for line, _nik, _name, ok, _reason in bulk if ok]
    assert registered == [2, 3, 10, 17]
    reasons = {line: reason for line, _nik, _name, _ok, reason in bulk}
    assert reasons[4].startswith("no_kk:") and reasons[5].startswith("nik:") and reasons[6].startswith("email:")
    assert reasons[7].startswith("nik:") and reasons[8].startswith("email:") and reasons[9].startswith("no_hp:")
    assert "ASN" in reasons[11] and "ASN" in reasons[12] and "belongs to" not in reasons[13]
    assert reasons[13].startswith("nik:") and reasons[14].startswith("jenis_kelamin:")
    assert reasons[15].startswith("tanggal_lahir:") and "email:" in reasons[16] and "nama_lengkap:" in reasons[16]


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

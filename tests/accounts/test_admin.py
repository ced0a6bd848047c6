"""Django admin for PMO staff: masked identity numbers, NIK search through the
blind index, exclusion lists, and who may see what."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import crypto, roles
from accounts.models import ExclusionEntry, ExclusionList, IdentityAccessLog, Participant
from accounts.services.registration import participant_register
from tests.factories import UserFactory, make_participant, make_profile, make_staff

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:accounts_participant_changelist"


def test_the_participant_list_shows_masked_niks_and_filters(client):
    west_java = make_participant(province="32")
    jakarta = make_participant(province="31")
    client.force_login(make_staff(roles.PMO_FINANCE_MAKER))
    page = client.get(reverse(CHANGELIST)).content.decode()
    for p in (west_java, jakarta):
        assert p.nik not in page
        assert crypto.mask(p.nik) in page
    filtered = client.get(reverse(CHANGELIST), {"province": "31"})
    assert list(filtered.context["cl"].result_list) == [jakarta]
    by_channel = client.get(reverse(CHANGELIST), {"channel__exact": "offline"})
    assert list(by_channel.context["cl"].result_list) == []
    by_status = client.get(reverse(CHANGELIST), {"status__exact": "registered"})
    assert set(by_status.context["cl"].result_list) == {west_java, jakarta}


def test_the_participant_list_costs_the_same_queries_for_5_or_50_rows(client):
    client.force_login(make_staff(roles.PMO_FINANCE_MAKER))

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(CHANGELIST)).status_code == 200
        return len(ctx)

    for _ in range(5):
        make_participant()
    few = queries()
    for _ in range(45):
        make_participant()
    assert queries() == few


def test_exact_nik_search_goes_by_post_and_leads_to_the_participant(client):
    target = make_participant()
    make_participant()
    client.force_login(make_staff(roles.PMO_FINANCE_MAKER))
    response = client.post(reverse("admin:accounts_participant_nik_search"), {"nik": target.nik})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:accounts_participant_change", args=[target.pk])
    assert target.nik not in response["Location"]

    missing = client.post(reverse("admin:accounts_participant_nik_search"), {"nik": "3273015708950999"}, follow=True)
    assert missing.redirect_chain[-1][0] == reverse(CHANGELIST)
    messages = [str(m) for m in missing.context["messages"]]
    assert messages == ["Tidak ada peserta dengan NIK 3273********0999."]


@pytest.mark.parametrize("separator", ["", " ", "-", ".", "/", "_", ",", " / ", "+"])
def test_a_nik_typed_in_the_plain_search_box_is_not_searched(client, separator):
    target = make_participant()
    client.force_login(make_staff(roles.PMO_FINANCE_MAKER))
    typed = separator.join([target.nik[:4], target.nik[4:8], target.nik[8:12], target.nik[12:]])
    response = client.get(reverse(CHANGELIST), {"q": typed, "status__exact": "active"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse(CHANGELIST) + "?status__exact=active"
    assert "formulir pencarian NIK" in " ".join(str(m) for m in response.context["messages"])


@pytest.mark.parametrize("url", ["/kursus/", "/akun/login/", "/admin/enrollment/wave/"])
def test_no_page_keeps_a_nik_shaped_parameter_in_its_address(client, url):
    client.force_login(make_staff(roles.PMO_CURATOR))
    response = client.get(url, {"institution": "3273/0115/0590/0950", "next": "/"})
    assert response.status_code == 303
    assert response["Location"] == url + "?next=%2F"


def test_only_roles_that_need_it_see_the_full_nik_and_each_view_is_logged(client):
    participant = make_participant()
    url = reverse("admin:accounts_participant_change", args=[participant.pk])

    finance = make_staff(roles.PMO_FINANCE_MAKER)
    client.force_login(finance)
    page = client.get(url).content.decode()
    assert participant.nik not in page and crypto.mask(participant.nik) in page
    assert participant.family_card.number not in page
    assert not IdentityAccessLog.objects.exists()

    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    client.force_login(reviewer)
    page = client.get(url).content.decode()
    assert participant.nik in page and participant.family_card.number in page
    log = IdentityAccessLog.objects.get()
    assert (log.staff, log.participant, log.what) == (reviewer, participant, "nik_kk_full")


def test_staff_cannot_edit_or_delete_participants_in_admin(client):
    participant = make_participant()
    client.force_login(make_staff(roles.PMO_KYC_REVIEWER))
    url = reverse("admin:accounts_participant_change", args=[participant.pk])
    assert client.get(url).status_code == 200  # may look
    assert client.post(url, {"full_name": "CHANGED"}).status_code == 403
    assert client.post(reverse("admin:accounts_participant_delete", args=[participant.pk])).status_code == 403
    assert client.get(reverse("admin:accounts_participant_add")).status_code == 403


def test_people_without_a_pmo_role_are_kept_out(client):
    participant = make_participant()
    client.force_login(participant.user)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    curator = make_staff(roles.PMO_CURATOR)
    client.force_login(curator)
    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert client.post(reverse("admin:accounts_participant_nik_search"), {"nik": participant.nik}).status_code == 403


def import_list(client, content, kind="civil_servant", source="BKN 2026-10", committed=None):
    if committed is not None:
        return committed(import_list, client, content, kind, source)
    return client.post(
        reverse("admin:accounts_exclusionlist_import"),
        {"kind": kind, "source": source, "file": SimpleUploadedFile("asn.csv", content, "text/csv")},
        follow=True,
    )


def test_an_exclusion_list_is_imported_as_keyed_hashes_and_blocks_registration(client, committed):
    excluded = make_profile()
    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    client.force_login(reviewer)
    spaced = f"{excluded.nik[:4]} {excluded.nik[4:8]} {excluded.nik[8:12]} {excluded.nik[12:]}"
    content = f"nama,nik\r\nPNS A,{spaced}\r\nPNS B,3171011708450001\r\nrusak,12AB\r\n".encode()
    response = import_list(client, content, committed=committed)
    assert response.status_code == 200
    imported = ExclusionList.objects.get()
    assert (imported.status, imported.entry_count, imported.skipped_count) == ("ready", 2, 1)
    assert imported.imported_by == reviewer
    # The uploaded file (NIKs in clear) is gone once imported.
    assert not imported.upload

    with connection.cursor() as cursor:
        cursor.execute("SELECT nik_index FROM accounts_exclusionentry")
        stored = [row[0] for row in cursor.fetchall()]
    assert excluded.nik not in stored and crypto.nik_index(excluded.nik) in stored

    with pytest.raises(ValidationError) as exc:
        participant_register(user=UserFactory(), profile=excluded)
    assert exc.value.error_dict["nik"][0].code == "nik_excluded"
    assert "ASN" in exc.value.messages[0]
    assert not Participant.objects.exists()

    # A deactivated list no longer blocks.
    client.post(
        reverse("admin:accounts_exclusionlist_changelist"),
        {"action": "deactivate", "_selected_action": [imported.pk]},
    )
    participant_register(user=UserFactory(), profile=excluded)


def test_a_list_still_importing_refuses_nobody(client):
    excluded = make_profile()
    client.force_login(make_staff(roles.PMO_KYC_REVIEWER))
    import_list(client, f"nik\r\n{excluded.nik}\r\n".encode())  # the import task has not run
    assert ExclusionList.objects.get().status == "importing"
    participant_register(user=UserFactory(), profile=excluded)


def test_a_bad_exclusion_file_is_refused_whole(client):
    client.force_login(make_staff(roles.PMO_KYC_REVIEWER))
    response = import_list(client, b"nama,nomor\r\nA,3171011708450001\r\n")
    assert "nik" in " ".join(response.context["form"].errors["file"])
    response = import_list(client, "nik\r\n3171011708450001\r\nJOSÉ\r\n".encode("latin-1"))
    assert "UTF-8" in " ".join(response.context["form"].errors["file"])
    assert not ExclusionList.objects.exists() and not ExclusionEntry.objects.exists()


def test_only_permitted_staff_import_exclusion_lists(client):
    client.force_login(make_staff(roles.PMO_FINANCE_CHECKER))
    response = import_list(client, b"nik\r\n3171011708450001\r\n")
    assert response.status_code == 403
    assert not ExclusionList.objects.exists()


def test_making_someone_a_dinas_operator_in_admin_opens_the_operator_pages(client):
    person = UserFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:accounts_dinasoperator_add"),
        {"user": person.pk, "province_code": "35", "office_name": "Disnakertrans Jawa Timur"},
    )
    assert response.status_code == 302
    client.force_login(person)
    page = client.get(reverse("accounts:operator_dashboard"))
    assert page.status_code == 200 and "Jawa Timur" in page.content.decode()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    bad = client.post(
        reverse("admin:accounts_dinasoperator_add"),
        {"user": UserFactory().pk, "province_code": "99", "office_name": "X"},
    )
    assert bad.status_code == 200 and bad.context["adminform"].form.errors["province_code"]

"""The PMO side: registry extracts, the review queue, decisions, photo
access logging."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import crypto, roles
from accounts.models import Participant
from kyc import samples
from kyc.models import FaceTemplate, KycPhotoLog, KycSubmission, RegistryImport, RegistryRecord
from kyc.registry import names_match
from kyc.services import kyc_review, kyc_submit
from tests.factories import make_staff
from tests.kyc.conftest import frame_upload, grid_ktp, ktp_card, photo

pytestmark = pytest.mark.django_db

Status = KycSubmission.Status
Flag = KycSubmission.Flag


@pytest.fixture
def submit(committed):
    """Without the camera: a KTP card around the named photo's face, and a selfie."""

    def run(participant, ktp, selfie):
        ktp = ktp_card(ktp, nik=participant.nik) if isinstance(ktp, str) else ktp
        selfie = photo(selfie) if isinstance(selfie, str) else selfie
        submission = committed(kyc_submit, participant=participant, ktp_photo=ktp, selfie=selfie)
        submission.refresh_from_db()
        return submission

    return run


@pytest.fixture
def submit_live(committed, live):
    """With the camera check: the GRID man's capture and his KTP."""

    def run(participant):
        submission = committed(
            kyc_submit, participant=participant, ktp_photo=grid_ktp(participant.nik), live=live(participant)
        )
        submission.refresh_from_db()
        return submission

    return run


def import_registry(client, committed, rows, source="Dukcapil 2026-11"):
    lines = ["nik,nama,tanggal_lahir,jenis_kelamin", *rows]
    content = ("\r\n".join(lines) + "\r\n").encode()
    return committed(
        client.post,
        reverse("admin:kyc_registryimport_import"),
        {"source": source, "file": SimpleUploadedFile("dukcapil.csv", content, "text/csv")},
    )


def registry_row(participant, *, name=None, birth_date=None, gender=None):
    gender = gender or {"M": "L", "F": "P"}[participant.gender]
    born = (birth_date or participant.birth_date).isoformat()
    return f"{participant.nik},{name or participant.full_name},{born},{gender}"


@pytest.mark.parametrize(
    ("entered", "registered", "same"),
    [
        ("Siti Aminah", "SITI AMINAH", True),
        ("Siti  Aminah", "SITIAMINAH", True),
        ("Muhamad Rizky", "MUHAMMAD RIZKY", True),
        ("Siti Aminah", "SITI AMINA", True),
        ("Nur'aini", "NURAINI", True),
        ("Siti Aminah", "BUDI SANTOSO", False),
        ("Siti Aminah", "SITI RAHAYU", False),
        ("Rohman", "RAHMAT", False),
        ("Fauzi", "FAUZAN", False),
        ("Halizah", "FAIZAH", False),
        ("Siti", "SITI AMINAH", False),
    ],
)
def test_names_match_allows_for_spelling_and_spacing(entered, registered, same):
    assert names_match(entered, registered) is same


def test_the_registry_extract_is_imported_by_pmo_staff_as_blind_indexed_records(client, committed, ready_participant):
    participant = ready_participant()
    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    client.force_login(reviewer)
    response = import_registry(client, committed, [registry_row(participant), "123,RUSAK,1990-01-01,L"])
    assert response.status_code == 302
    extract = RegistryImport.objects.get()
    assert (extract.status, extract.record_count, extract.skipped_count) == ("ready", 1, 1)
    assert not extract.upload  # the file with NIKs in clear is gone
    record = RegistryRecord.objects.get(registry_import=extract)
    assert record.nik_index == crypto.nik_index(participant.nik)
    assert participant.nik not in (record.nik_index, record.full_name)


def test_a_nik_missing_from_the_registry_is_refused(client, committed, ready_participant, submit):
    listed, missing = ready_participant(), ready_participant()
    client.force_login(make_staff(roles.PMO_KYC_REVIEWER))
    import_registry(client, committed, [registry_row(listed)])
    submission = submit(missing, "obama.jpg", "obama2.jpg")
    assert (submission.status, submission.reason_code) == (Status.REJECTED, "nik_not_in_registry")
    assert "Dukcapil" in submission.reason


@pytest.mark.parametrize(
    ("changes", "flag"),
    [
        ({"name": "BUDI SANTOSO"}, Flag.REGISTRY_NAME_MISMATCH),
        ({"birth_date": __import__("datetime").date(1990, 1, 1)}, Flag.REGISTRY_BIRTH_DATE_MISMATCH),
        ({"gender": "L"}, Flag.REGISTRY_GENDER_MISMATCH),
    ],
)
def test_a_registry_mismatch_sends_the_case_to_review(client, committed, ready_participant, submit, changes, flag):
    participant = ready_participant()
    client.force_login(make_staff(roles.PMO_KYC_REVIEWER))
    import_registry(client, committed, [registry_row(participant, **changes)])
    submission = submit(participant, "obama.jpg", "obama2.jpg")
    assert submission.status == Status.NEEDS_REVIEW
    assert flag in submission.flags


def test_a_spelling_difference_from_the_registry_still_verifies(client, committed, ready_participant, submit_live):
    participant = ready_participant(full_name="Muhamad Rizky")
    client.force_login(make_staff(roles.PMO_KYC_REVIEWER))
    import_registry(client, committed, [registry_row(participant, name="MUHAMMAD  RIZKY")])
    assert submit_live(participant).status == Status.VERIFIED


def duplicate_case(ready_participant, submit, submit_live):
    """The GRID man verified with the camera; then another NIK with his face
    in another frame, uploaded without it."""
    first = ready_participant()
    assert submit_live(first).status == Status.VERIFIED
    second = ready_participant()
    case = submit(second, grid_ktp(second.nik), frame_upload(samples.frame_files("grid_bbaf2n_blink")[18]))
    assert case.status == Status.NEEDS_REVIEW and Flag.POSSIBLE_DUPLICATE in case.flags
    return first, second, case


def test_the_review_queue_lists_waiting_cases_oldest_first(client, ready_participant, submit, submit_live):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _first, _second, case = duplicate_case(ready_participant, submit, submit_live)
    later = submit(ready_participant(), "obama.jpg", "obama_small.jpg")  # no liveness: a reviewer decides
    submit(ready_participant(), "obama.jpg", "biden.jpg")  # refused, not in the queue
    client.force_login(make_staff(roles.PMO_KYC_REVIEWER))
    with CaptureQueriesContext(connection) as two:
        response = client.get(reverse("admin:kyc_kycreviewcase_changelist"))
    assert list(response.context["cl"].result_list) == [case, later]
    for _ in range(3):
        submit(ready_participant(), "obama.jpg", "obama_small.jpg")
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(reverse("admin:kyc_kycreviewcase_changelist")).context["cl"].result_list) == 5
    assert len(five) == len(two)


def test_the_case_page_shows_both_photos_and_the_duplicates_and_logs_each_look(
    client, ready_participant, submit, submit_live
):
    first, _second, case = duplicate_case(ready_participant, submit, submit_live)
    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    client.force_login(reviewer)
    page = client.get(reverse("admin:kyc_kycsubmission_change", args=[case.pk])).content.decode()
    original = KycSubmission.objects.get(participant=first)
    for submission, kind in [(case, "ktp"), (case, "selfie"), (original, "ktp"), (original, "selfie")]:
        url = reverse("kyc:photo", args=[submission.pk, kind])
        assert url in page
        assert client.get(url).status_code == 200
    assert str(case.distance).replace(".", ",") in page  # Indonesian decimal comma
    assert "automatic check: distance" in page  # the status history inline is shown to the reviewer
    assert KycPhotoLog.objects.filter(action="viewed", by=reviewer).count() == 4


def test_a_reviewer_approves_and_the_participant_is_verified_and_told(
    client, ready_participant, submit, submit_live, committed
):
    _first, second, case = duplicate_case(ready_participant, submit, submit_live)
    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    client.force_login(reviewer)
    mail.outbox.clear()
    response = committed(
        client.post,
        reverse("admin:kyc_kycsubmission_review", args=[case.pk]),
        {"decision": "approve", "reason": "Kembar identik, dokumen diperiksa langsung"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.decided_by, case.reason_code) == (Status.VERIFIED, reviewer, "reviewer")
    second.refresh_from_db()
    assert second.status == Participant.Status.KYC_VERIFIED
    assert FaceTemplate.objects.filter(participant=second).exists()
    assert case.events.last().actor == reviewer
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [second.user.email]


def test_a_reviewer_rejects_with_a_reason_the_participant_reads(client, ready_participant, submit, submit_live):
    _first, second, case = duplicate_case(ready_participant, submit, submit_live)
    client.force_login(make_staff(roles.PMO_KYC_REVIEWER))
    client.post(
        reverse("admin:kyc_kycsubmission_review", args=[case.pk]),
        {"decision": "reject", "reason": "Wajah sama dengan peserta lain"},
    )
    case.refresh_from_db()
    assert case.status == Status.REJECTED
    client.force_login(second.user)
    assert "Wajah sama dengan peserta lain" in client.get(reverse("kyc:status")).content.decode()


def test_a_decision_needs_a_reason_and_is_taken_once(client, ready_participant, submit, submit_live):
    _first, _second, case = duplicate_case(ready_participant, submit, submit_live)
    client.force_login(make_staff(roles.PMO_KYC_REVIEWER))
    url = reverse("admin:kyc_kycsubmission_review", args=[case.pk])
    client.post(url, {"decision": "approve", "reason": ""})
    assert KycSubmission.objects.get(pk=case.pk).status == Status.NEEDS_REVIEW
    client.post(url, {"decision": "reject", "reason": "Foto tidak jelas"})
    response = client.post(url, {"decision": "approve", "reason": "berubah pikiran"}, follow=True)
    assert KycSubmission.objects.get(pk=case.pk).status == Status.REJECTED
    assert any("tidak lagi menunggu" in str(m) for m in response.context["messages"])


def test_staff_without_the_reviewer_role_can_neither_decide_nor_see_photos(
    client, ready_participant, submit, submit_live
):
    _first, _second, case = duplicate_case(ready_participant, submit, submit_live)
    finance = make_staff(roles.PMO_FINANCE_MAKER)
    client.force_login(finance)
    response = client.post(
        reverse("admin:kyc_kycsubmission_review", args=[case.pk]), {"decision": "approve", "reason": "boleh saja"}
    )
    assert response.status_code in (302, 403)
    assert KycSubmission.objects.get(pk=case.pk).status == Status.NEEDS_REVIEW
    assert client.get(reverse("kyc:photo", args=[case.pk, "selfie"])).status_code == 404
    assert client.get(reverse("admin:kyc_kycreviewcase_changelist")).status_code == 403


def test_a_new_extract_takes_over_only_when_complete(client, committed, ready_participant, submit_live):
    from kyc.services import registry_extract_import

    participant = ready_participant()
    client.force_login(make_staff(roles.PMO_KYC_REVIEWER))
    import_registry(client, committed, [registry_row(participant)], source="first")
    # A second extract, queued but not imported yet, then one that fails.
    import_registry(client, lambda fn, *a, **k: fn(*a, **k), [registry_row(participant, name="ORANG LAIN")], "second")
    pending = RegistryImport.objects.get(source="second")
    assert pending.status == "importing"
    assert submit_live(participant).status == Status.VERIFIED
    # Now let the second one import: it answers for the NIK from then on.
    registry_extract_import(extract_id=pending.pk)
    from kyc.registry import ImportedExtractRegistry

    assert ImportedExtractRegistry().lookup(participant.nik).full_name == "ORANG LAIN"


def test_a_repeated_nik_in_an_extract_keeps_its_first_row(client, committed, ready_participant):
    participant = ready_participant()
    client.force_login(make_staff(roles.PMO_KYC_REVIEWER))
    import_registry(client, committed, [registry_row(participant), registry_row(participant, name="DUPLIKAT")])
    extract = RegistryImport.objects.get()
    assert (extract.status, extract.record_count) == ("ready", 1)
    from kyc.registry import ImportedExtractRegistry

    assert ImportedExtractRegistry().lookup(participant.nik).full_name == participant.full_name


def test_an_approval_looks_again_for_a_face_accepted_since_the_check(client, ready_participant, submit, committed):
    """A case waits for review; meanwhile someone with the same face is
    verified. The approval must not go through unseen."""
    waiting_participant = ready_participant()
    # Without the camera check: sent to review, no duplicate yet.
    case = submit(waiting_participant, "obama2.jpg", "obama2.jpg")
    assert case.status == Status.NEEDS_REVIEW and case.duplicate_of is None
    other = ready_participant()
    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    theirs = submit(other, "obama.jpg", "obama3.jpg")
    committed(kyc_review, submission=theirs, reviewer=reviewer, approve=True, reason="faces match, checked")
    client.force_login(reviewer)
    url = reverse("admin:kyc_kycsubmission_review", args=[case.pk])
    response = client.post(url, {"decision": "approve", "reason": "Foto KTP jelas"}, follow=True)
    case.refresh_from_db()
    assert case.status == Status.NEEDS_REVIEW
    assert case.duplicate_of == other and Flag.POSSIBLE_DUPLICATE in case.flags
    assert any("wajah yang sama" in str(m) for m in response.context["messages"])
    # Having seen it, the reviewer may still decide (here: approve twins).
    client.post(url, {"decision": "approve", "reason": "Kembar, diperiksa langsung"})
    case.refresh_from_db()
    assert case.status == Status.VERIFIED


def test_a_case_decided_twice_or_rejected_after_approval_gets_a_message_on_the_queue(
    client, ready_participant, submit, submit_live, committed
):
    from django.contrib.messages import get_messages

    _first, _second, case = duplicate_case(ready_participant, submit, submit_live)
    client.force_login(make_staff(roles.PMO_KYC_REVIEWER))
    client.cookies["django_language"] = "id"
    url = reverse("admin:kyc_kycsubmission_review", args=[case.pk])
    committed(client.post, url, {"decision": "approve", "reason": "Kembar identik, dokumen diperiksa langsung"})
    mail.outbox.clear()
    for decision in ("approve", "reject"):  # a second tab, a second reviewer
        response = committed(client.post, url, {"decision": decision, "reason": "Oke"}, follow=True)
        # The case's own page (or the queue, from the queue's copy), with the reason.
        assert response.status_code == 200
        assert "Mungkin telah dihapus" not in response.content.decode()  # not "... may have been deleted?"
        said = " ".join(str(m) for m in get_messages(response.wsgi_request))
        assert "tidak lagi menunggu" in response.content.decode() or "tidak lagi menunggu" in said
    case.refresh_from_db()
    assert case.status == Status.VERIFIED
    assert case.events.filter(to_status=Status.VERIFIED).count() == 1
    assert not mail.outbox, "the participant is told once"

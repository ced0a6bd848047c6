"""The identity check end to end, with the real face_recognition models on
the real photos of ../shared/faces."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import roles
from accounts.models import Participant
from kyc.models import FaceTemplate, KycSubmission
from kyc.services import kyc_process, kyc_review, kyc_submit
from tests.factories import make_staff
from tests.kyc.conftest import face_path, grid_ktp, ktp_card, photo

pytestmark = pytest.mark.django_db

Status = KycSubmission.Status
Flag = KycSubmission.Flag


@pytest.fixture
def submit(committed):
    """Submits photos as the page does without the camera: a KTP card drawn
    around the named photo's face (with the participant's NIK) and the named
    selfie. The check runs after commit (in-process in tests), as a worker
    would run it."""

    def run(participant, ktp, selfie):
        ktp = ktp_card(ktp, nik=participant.nik) if isinstance(ktp, str) else ktp
        selfie = photo(selfie) if isinstance(selfie, str) else selfie
        submission = committed(kyc_submit, participant=participant, ktp_photo=ktp, selfie=selfie)
        submission.refresh_from_db()
        return submission

    return run


INFORMATION_ONLY = {Flag.REGISTRY_NOT_CHECKED, Flag.PHOTO_TURNED}


def awaits_only_liveness(submission) -> bool:
    """Sent to a reviewer only because the selfie was uploaded without the
    camera check: the faces match and nothing else is wrong."""
    return submission.status == Status.NEEDS_REVIEW and set(submission.flags) - INFORMATION_ONLY == {Flag.NO_LIVENESS}


@pytest.fixture
def verify(submit, committed):
    """A participant verified as one without a camera is: the upload, then a reviewer's approval."""
    reviewer = make_staff(roles.PMO_KYC_REVIEWER)

    def run(participant, ktp, selfie):
        submission = submit(participant, ktp, selfie)
        assert awaits_only_liveness(submission), (submission.status, submission.flags)
        committed(kyc_review, submission=submission, reviewer=reviewer, approve=True, reason="faces match, checked")
        submission.refresh_from_db()
        assert submission.status == Status.VERIFIED
        return submission

    return run


def test_the_same_person_without_the_camera_check_waits_for_a_reviewer(ready_participant, submit):
    participant = ready_participant()
    submission = submit(participant, "obama.jpg", "obama2.jpg")
    assert awaits_only_liveness(submission)
    assert 0.25 < submission.distance <= 0.45
    assert (submission.ktp_faces, submission.selfie_faces) == (1, 1)
    assert submission.ktp_reading["nik_matches"] is True
    assert {"decode_selfie", "faces_selfie", "faces_ktp", "ocr", "duplicate_search", "total"} <= set(submission.timings)
    participant.refresh_from_db()
    assert participant.status == Participant.Status.PROFILE_COMPLETE
    assert not FaceTemplate.objects.exists()
    moves = list(submission.events.values_list("from_status", "to_status", "actor"))
    assert moves == [
        ("", "submitted", participant.user_id),
        ("submitted", "processing", None),
        ("processing", "needs_review", None),
    ]


def test_a_different_person_is_rejected_with_a_reason(ready_participant, submit, client):
    participant = ready_participant()
    submission = submit(participant, "obama.jpg", "biden.jpg")
    assert submission.status == Status.REJECTED
    assert submission.reason_code == "face_mismatch" and submission.distance > 0.6
    assert not FaceTemplate.objects.exists()
    participant.refresh_from_db()
    assert participant.status == Participant.Status.PROFILE_COMPLETE
    client.force_login(participant.user)
    page = client.get(reverse("kyc:status")).content.decode()
    assert "Wajah di swafoto Anda tidak cocok dengan foto di KTP Anda" in page
    assert "Kirim foto baru" in page  # may try again


def test_two_people_in_a_selfie_are_refused(ready_participant, submit):
    submission = submit(ready_participant(), "obama.jpg", "two_people.jpg")
    assert (submission.status, submission.reason_code, submission.selfie_faces) == (
        Status.REJECTED,
        "selfie_many_faces",
        2,
    )


def test_a_face_cut_at_the_edge_is_refused_without_a_crash(ready_participant, submit):
    submission = submit(ready_participant(), "obama.jpg", "obama_partial_face.jpg")
    assert (submission.status, submission.reason_code) == (Status.REJECTED, "selfie_face_cut")


def test_an_rgba_png_selfie_works(ready_participant, submit):
    assert awaits_only_liveness(submit(ready_participant(), "obama.jpg", "obama2_rgba.png"))


def test_a_small_low_resolution_selfie_works(ready_participant, submit):
    assert awaits_only_liveness(submit(ready_participant(), "obama2.jpg", "obama_small.jpg"))


def test_a_selfie_turned_sideways_without_exif_is_turned_to_find_the_face(ready_participant, submit):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    out = io.BytesIO()
    Image.open(face_path("obama2.jpg")).rotate(-90, expand=True).save(out, format="JPEG")
    submission = submit(ready_participant(), "obama.jpg", SimpleUploadedFile("s.jpg", out.getvalue()))
    assert Flag.PHOTO_TURNED in submission.flags
    assert submission.distance <= 0.45 and awaits_only_liveness(submission)


def test_a_card_without_a_face_is_refused(ready_participant, submit):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1000, 630), (140, 190, 230)).save(out, format="JPEG")
    submission = submit(ready_participant(), SimpleUploadedFile("k.jpg", out.getvalue()), photo("obama2.jpg"))
    assert (submission.status, submission.reason_code) == (Status.REJECTED, "ktp_no_face")
    assert not submission.counted  # the file's fault: no attempt used


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b"not a photo at all" * 20, "not_an_image"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "not_an_image"),
        (face_path("obama2.jpg").read_bytes()[:20_000], "not_an_image"),  # a truncated JPEG
    ],
)
def test_a_blank_or_non_image_file_is_refused_at_once_and_costs_no_attempt(ready_participant, content, code):
    from django.core.files.uploadedfile import SimpleUploadedFile

    participant = ready_participant()
    with pytest.raises(ValidationError) as exc:
        kyc_submit(
            participant=participant, ktp_photo=ktp_card("obama.jpg"), selfie=SimpleUploadedFile("s.jpg", content)
        )
    assert exc.value.error_dict["selfie"][0].code == code
    assert not KycSubmission.objects.exists()


def test_the_upload_page_shows_the_reason_next_to_the_photo(ready_participant, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    participant = ready_participant()
    client.force_login(participant.user)
    response = client.post(
        reverse("kyc:status"),
        {"ktp_photo": ktp_card("obama.jpg"), "selfie": SimpleUploadedFile("s.txt", b"hello" * 100)},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["selfie"] == [
        "Berkas ini bukan foto yang dapat kami baca. Kirim foto JPEG, PNG, atau HEIC."
    ]


def test_a_second_participant_with_a_verified_persons_face_is_flagged_as_a_duplicate(ready_participant, submit, verify):
    first = ready_participant()
    verify(first, "obama.jpg", "obama2.jpg")
    # Another NIK, person A's face again in a different photo.
    second = ready_participant()
    submission = submit(second, "obama.jpg", "obama3.jpg")
    assert submission.status == Status.NEEDS_REVIEW
    assert Flag.POSSIBLE_DUPLICATE in submission.flags and Flag.SAME_PHOTO not in submission.flags
    assert submission.duplicate_of == first
    assert submission.duplicate_distance <= 0.45
    second.refresh_from_db()
    assert second.status == Participant.Status.PROFILE_COMPLETE


def test_the_same_photo_twice_is_flagged_as_such(ready_participant, submit, verify):
    first = ready_participant()
    verify(first, "obama.jpg", "obama2.jpg")
    second = ready_participant()
    submission = submit(second, "obama3.jpg", "obama2_rgba.png")  # obama2.jpg, re-saved
    assert submission.status == Status.NEEDS_REVIEW
    assert Flag.SAME_PHOTO in submission.flags
    assert submission.duplicate_of == first and submission.duplicate_distance < 0.15


def test_a_different_persons_face_is_no_duplicate(ready_participant, verify):
    verify(ready_participant(), "obama.jpg", "obama2.jpg")
    # Person B's photos for both: no match with A's template.
    from kyc.services import check_photos

    result = check_photos(ktp_photo=ktp_card("biden.jpg"), selfie=photo("biden.jpg"), participant=ready_participant())
    assert result.duplicate_of is None
    assert not {Flag.POSSIBLE_DUPLICATE, Flag.SAME_PHOTO} & set(result.flags)


def test_three_refusals_then_a_reviewer_decides(ready_participant, submit):
    participant = ready_participant()
    for attempt in (1, 2):
        submission = submit(participant, "obama.jpg", "biden.jpg")
        assert (submission.attempt, submission.status) == (attempt, Status.REJECTED)
    third = submit(participant, "obama.jpg", "biden.jpg")
    assert third.status == Status.NEEDS_REVIEW and Flag.LAST_ATTEMPT in third.flags
    with pytest.raises(ValidationError) as exc:
        kyc_submit(participant=participant, ktp_photo=ktp_card("obama.jpg"), selfie=photo("obama2.jpg"))
    assert exc.value.error_list[0].code == "not_allowed"


def test_no_new_photos_while_a_check_is_running(ready_participant):
    participant = ready_participant()
    kyc_submit(participant=participant, ktp_photo=ktp_card("obama.jpg"), selfie=photo("obama2.jpg"))  # not yet run
    with pytest.raises(ValidationError):
        kyc_submit(participant=participant, ktp_photo=ktp_card("obama.jpg"), selfie=photo("obama2.jpg"))
    assert KycSubmission.objects.count() == 1


def test_only_a_participant_with_a_verified_phone_may_send_photos(committed):
    from tests.factories import make_participant

    participant = make_participant()
    with pytest.raises(ValidationError) as exc:
        kyc_submit(participant=participant, ktp_photo=ktp_card("obama.jpg"), selfie=photo("obama2.jpg"))
    assert exc.value.error_list[0].code == "not_allowed"


def test_a_worker_killed_mid_check_is_requeued_and_gives_one_result(ready_participant, live, monkeypatch):
    from django.utils import timezone

    from kyc import tasks
    from kyc.services import check as services  # where the check looks its helpers up

    participant = ready_participant()
    submission = kyc_submit(participant=participant, ktp_photo=grid_ktp(participant.nik), live=live(participant))
    real = services.check_photos

    def killed(**kwargs):
        raise SystemExit("worker killed half-way")  # not an Exception: nothing in the task catches it

    monkeypatch.setattr(services, "check_photos", killed)
    with pytest.raises(SystemExit):
        kyc_process(submission_id=submission.pk)
    assert KycSubmission.objects.get(pk=submission.pk).status == Status.PROCESSING
    monkeypatch.setattr(services, "check_photos", real)
    # Nothing queued it again yet; the periodic sweep does, once it is stale.
    assert services.kyc_requeue_stale() == 0
    queued = []
    monkeypatch.setattr(tasks.run_kyc_check, "delay", queued.append)
    later = timezone.now() + datetime.timedelta(minutes=16)
    assert services.kyc_requeue_stale(now=later) == 1 and queued == [submission.pk]
    assert kyc_process(submission_id=submission.pk) == Status.VERIFIED
    assert kyc_process(submission_id=submission.pk) == Status.VERIFIED  # delivered once more
    assert FaceTemplate.objects.filter(participant=participant).count() == 1
    assert list(submission.events.values_list("to_status", flat=True)) == [
        "submitted",
        "processing",
        "verified",
    ]
    participant.refresh_from_db()
    assert participant.events.filter(to_status="kyc_verified").count() == 1


def test_a_crash_while_recording_the_result_leaves_nothing_half_written(ready_participant, live, monkeypatch):
    from kyc.services import check as services  # where the check looks its helpers up

    participant = ready_participant()
    submission = kyc_submit(participant=participant, ktp_photo=grid_ktp(participant.nik), live=live(participant))
    real = services.participant_mark_kyc_verified

    def dies_after_the_face_is_saved(**kwargs):
        assert FaceTemplate.objects.filter(participant=participant).exists()
        raise SystemExit("worker killed while saving")

    monkeypatch.setattr(services, "participant_mark_kyc_verified", dies_after_the_face_is_saved)
    with pytest.raises(SystemExit):
        kyc_process(submission_id=submission.pk)
    assert not FaceTemplate.objects.exists()
    assert KycSubmission.objects.get(pk=submission.pk).status == Status.PROCESSING
    monkeypatch.setattr(services, "participant_mark_kyc_verified", real)
    assert kyc_process(submission_id=submission.pk) == Status.VERIFIED
    assert FaceTemplate.objects.filter(participant=participant).count() == 1


def test_a_check_that_fails_goes_to_a_reviewer_instead_of_hanging(ready_participant, monkeypatch):
    from kyc.services import check as services  # where the check looks its helpers up

    participant = ready_participant()
    submission = kyc_submit(participant=participant, ktp_photo=ktp_card("obama.jpg"), selfie=photo("obama2.jpg"))

    def out_of_memory(**kwargs):
        raise MemoryError

    monkeypatch.setattr(services, "check_photos", out_of_memory)
    assert kyc_process(submission_id=submission.pk) == Status.NEEDS_REVIEW
    submission.refresh_from_db()
    assert Flag.CHECK_FAILED in submission.flags and submission.reason


def test_participants_see_their_own_photos_only(ready_participant, submit, client):
    owner = ready_participant()
    submission = submit(owner, "obama.jpg", "obama2.jpg")
    url = reverse("kyc:photo", args=[submission.pk, "selfie"])
    client.force_login(owner.user)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    client.force_login(ready_participant().user)
    assert client.get(url).status_code == 404
    assert client.get(reverse("kyc:photo", args=[submission.pk, "ktp"])).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    assert not submission.photo_logs.exists()


def test_the_retention_task_removes_photos_and_keeps_the_encoding(ready_participant, submit, verify, settings):
    from django.utils import timezone

    from kyc.models import KycPhotoLog
    from kyc.tasks import purge_kyc_photos

    old = verify(ready_participant(), "obama.jpg", "obama2.jpg")
    recent = submit(ready_participant(), "obama.jpg", "biden.jpg")
    waiting = submit(ready_participant(), "biden.jpg", "biden.jpg")  # no liveness: review
    assert waiting.status == Status.NEEDS_REVIEW
    KycSubmission.objects.filter(pk=old.pk).update(decided_at=timezone.now() - datetime.timedelta(days=31))
    KycSubmission.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - datetime.timedelta(days=90))
    paths = [old.ktp_photo.path, old.selfie.path]
    assert purge_kyc_photos.delay().get() == 1
    old.refresh_from_db()
    assert old.photos_deleted_at and not old.ktp_photo and not old.selfie
    assert old.selfie_encoding is not None
    assert FaceTemplate.objects.filter(submission=old).exists()
    import os

    assert not any(os.path.exists(p) for p in paths)
    assert set(KycPhotoLog.objects.filter(submission=old).values_list("action", "photo")) == {
        ("deleted", "ktp"),
        ("deleted", "selfie"),
    }
    recent.refresh_from_db()
    waiting.refresh_from_db()
    assert recent.has_photos and waiting.has_photos  # undecided cases keep their photos, however old
    assert purge_kyc_photos.delay().get() == 0


@pytest.mark.django_db(transaction=True)
def test_two_people_with_one_face_checked_at_the_same_moment_are_not_both_accepted(
    ready_participant, live, monkeypatch
):
    import threading

    from django.db import connections

    from kyc import tasks
    from kyc.services import check as services  # where the check looks its helpers up

    monkeypatch.setattr(tasks.run_kyc_check, "delay", lambda *a, **k: None)  # run by hand below, at once
    first, second = ready_participant(), ready_participant()
    a = kyc_submit(participant=first, ktp_photo=grid_ktp(first.nik), live=live(first))
    b = kyc_submit(participant=second, ktp_photo=grid_ktp(second.nik), live=live(second))  # the same capture
    # Both checks search for duplicates before either has saved its face.
    barrier = threading.Barrier(2, timeout=60)
    index = services.template_index()
    searched = threading.local()

    class MeetAtFirstSearch:
        def search(self, *args, **kwargs):
            if not getattr(searched, "done", False):
                searched.done = True
                barrier.wait()
            return index.search(*args, **kwargs)

    monkeypatch.setattr(services, "template_index", MeetAtFirstSearch)
    outcome = {}

    def run(submission):
        try:
            outcome[submission.pk] = kyc_process(submission_id=submission.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome.values()) == [Status.NEEDS_REVIEW, Status.VERIFIED]
    assert FaceTemplate.objects.count() == 1
    waiting = KycSubmission.objects.get(status=Status.NEEDS_REVIEW)
    assert Flag.SAME_PHOTO in waiting.flags and waiting.duplicate_of_id in (first.pk, second.pk)

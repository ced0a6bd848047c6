"""Attendance: before each session the participant's face is checked live,
1:1 against the face accepted at their identity check, through a signed,
one-time link the institution asks for; completion and payment wait for
every session. Real frames of real people (../shared/liveness)."""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from catalog.models import Course, CourseSession
from catalog.services import SessionInput, course_create, revision_decide, revision_set_sessions, revision_submit
from enrollment.models import AttendanceCheck, Card, Enrollment, Wave
from enrollment.services import delivery, waves
from enrollment.services.attendance import (
    attendance_challenge,
    attendance_link,
    attendance_open,
    attendance_request,
    attendance_review,
    attendance_submit,
)
from enrollment.services.purchases import enrollment_submit
from kyc import samples
from kyc.models import FaceTemplate, KycSubmission
from kyc.services import LiveCapture, kyc_submit
from payouts.services.batches import payout_batch_build
from prakerja.api.errors import error_code
from tests.catalog.test_catalog import ALL1, ALL2, course_input, world  # noqa: F401  (fixture)
from tests.enrollment.conftest import close_window, make_wave
from tests.factories import make_staff
from tests.kyc.conftest import GRID, capture_of, frame_upload, grid_ktp, live, ready_participant  # noqa: F401

pytestmark = pytest.mark.django_db

A = AttendanceCheck.Status
PEXELS = samples.GENUINE[2]
PDF = b"%PDF-1.4 sertifikat"
DAY = datetime.timedelta(days=1)


def token_of(check) -> str:
    return re.search(r"/kehadiran/([^/]+)/$", attendance_link(check)).group(1)


@pytest.fixture
def attending(committed, world, ready_participant, live, settings):  # noqa: F811
    """The GRID man, verified with the camera, holding a card, in a course
    of two sessions (a module, then a webinar under way) and a post-test,
    redeemed at the institution."""
    institution, staff = world["institution"]("LPK Hadir")
    participant = ready_participant()
    committed(kyc_submit, participant=participant, ktp_photo=grid_ktp(participant.nik), live=live(participant))
    assert KycSubmission.objects.get(participant=participant).status == "verified"
    wave = make_wave(number=(Wave.objects.count() + 1), training_balance=1_000_000)
    waves.wave_apply(participant=participant, wave=wave)
    close_window(wave)
    committed(waves.wave_draw, wave=wave, by=make_staff(roles.PMO_FINANCE_CHECKER))
    card = Card.objects.get(participant=participant)

    now = timezone.now()
    revision = course_create(institution=institution, platform=world["platform"], data=course_input(), by=staff)
    revision_set_sessions(
        revision=revision,
        sessions=[
            SessionInput("self_paced", "Modul 1: bahan dan alat"),
            SessionInput(
                "webinar",
                "Webinar 2: praktik",
                now + datetime.timedelta(days=1),
                now + datetime.timedelta(days=1, hours=2),
            ),
        ],
        post_test=True,
        by=staff,
    )
    revision_submit(revision=revision, by=staff)
    revision_decide(revision=revision, stage=1, approve=True, checklist=ALL1, reason="", by=world["curator1"])
    revision_decide(revision=revision, stage=2, approve=True, checklist=ALL2, reason="", by=world["curator2"])
    # Time passes: the webinar is on now.
    CourseSession.objects.filter(revision=revision, kind="webinar").update(
        starts_at=now - datetime.timedelta(minutes=10), ends_at=now + datetime.timedelta(hours=1)
    )
    course = Course.objects.get(pk=revision.course_id)
    bought = committed(enrollment_submit, participant=participant, course=course, request_key="att-1")
    bought.refresh_from_db()
    delivery.enrollment_redeem(user=staff, voucher_code=bought.voucher_code)
    enrollment = Enrollment.objects.get(pk=bought.pk)
    assert enrollment.status == "redeemed"

    class Attending:
        pass

    Attending.participant, Attending.staff, Attending.enrollment, Attending.card = participant, staff, enrollment, card
    Attending.institution, Attending.world = institution, world
    return Attending


@pytest.fixture
def attend(committed, settings):
    """Does the face check a link asks for, with a recorded capture."""

    def run(check, participant, case=GRID, bursts=None):
        settings.LIVENESS_FIXED_ACTIONS = list(case.actions)
        token = token_of(check)
        challenge = attendance_challenge(token=token, participant=participant)
        capture = LiveCapture(challenge.nonce, bursts if bursts is not None else capture_of(case))
        committed(attendance_submit, token=token, participant=participant, live=capture)
        check.refresh_from_db()
        return check

    return run


def test_every_session_attended_by_face_then_completion_and_payment(attending, attend, committed, settings):
    e, staff = attending.enrollment, attending.staff
    with pytest.raises(ValidationError) as refused:
        delivery.enrollment_complete(enrollment_id=e.pk, certificate=SimpleUploadedFile("s.pdf", PDF), user=staff)
    assert error_code(refused.value) == "attendance_not_met"
    assert "1, 2, 999" in str(refused.value)

    for sequence in (1, 2, 999):
        check = attendance_request(enrollment_id=e.pk, sequence=sequence, user=staff)
        assert check.status == A.ISSUED and check.link_expires_at > timezone.now()
        done = attend(check, attending.participant)
        assert done.status == A.VERIFIED, (done.reason_code, done.liveness, done.distance)
        assert done.distance <= settings.KYC_MATCH_THRESHOLD and done.liveness["passed"]
    # A session attended once needs no second check.
    with pytest.raises(ValidationError) as refused:
        attendance_request(enrollment_id=e.pk, sequence=1, user=staff)
    assert error_code(refused.value) == "already_attended"

    completed = committed(
        delivery.enrollment_complete, enrollment_id=e.pk, certificate=SimpleUploadedFile("s.pdf", PDF), user=staff
    )
    assert completed.status == "completed"
    maker = make_staff(roles.PMO_FINANCE_MAKER)
    batch = payout_batch_build(by=maker, cutoff=timezone.now())
    assert batch.enrollment_count == 1 and batch.total_amount == e.price


def test_training_not_attended_is_not_paid(attending, committed):
    """A completed enrolment without verified attendance (one completed
    before this control existed) is left out of the payout batch."""
    e = attending.enrollment
    Enrollment.objects.filter(pk=e.pk).update(
        status="completed", completed_at=timezone.now(), certificate="certificates/old.pdf", certificate_name="old.pdf"
    )
    with pytest.raises(ValidationError) as refused:
        payout_batch_build(by=make_staff(roles.PMO_FINANCE_MAKER), cutoff=timezone.now())
    assert "No completed enrolment waits for payment" in str(refused.value)


def test_someone_elses_face_is_refused_with_a_reason(attending, attend):
    check = attendance_request(enrollment_id=attending.enrollment.pk, sequence=1, user=attending.staff)
    # A live person, but not the participant: the Pexels woman at the GRID man's link.
    done = attend(check, attending.participant, case=PEXELS)
    assert (done.status, done.reason_code) == (A.REFUSED, "someone_else")
    assert done.distance > 0.6 and "Only you can attend" in done.reason


def test_a_replayed_photo_or_still_cannot_attend(attending, attend):
    check = attendance_request(enrollment_id=attending.enrollment.pk, sequence=1, user=attending.staff)
    still = samples.frame_files(GRID.folder)[3].read_bytes()
    frames = [SimpleUploadedFile(f"f{i}.jpg", still) for i in range(12)]
    done = attend(check, attending.participant, bursts=[frames[:6], frames[6:]])
    assert done.status == A.REFUSED and done.reason_code == "liveness_still"


def test_a_link_used_twice_late_or_by_another_is_refused(attending, attend, ready_participant, live, settings):  # noqa: F811
    e, staff, participant = attending.enrollment, attending.staff, attending.participant
    check = attendance_request(enrollment_id=e.pk, sequence=1, user=staff)
    token = token_of(check)
    # Someone else, logged in, with the participant's link: as if it did not exist.
    stranger = ready_participant()
    with pytest.raises(PermissionDenied):
        attendance_open(token=token, participant=stranger)
    # A tampered link.
    with pytest.raises(PermissionDenied):
        attendance_open(token=token[:-2] + "xx", participant=participant)
    attend(check, participant)
    # Used once: the link and its capture cannot be sent again.
    with pytest.raises(ValidationError) as refused:
        attendance_open(token=token, participant=participant)
    assert error_code(refused.value) == "link_used"
    # Late: a new link not used within its minutes.
    late = attendance_request(enrollment_id=e.pk, sequence=999, user=staff)
    AttendanceCheck.objects.filter(pk=late.pk).update(link_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(ValidationError) as refused:
        attendance_open(token=token_of(late), participant=participant)
    assert error_code(refused.value) == "link_expired"
    # A capture whose challenge was already answered (a replay) is refused at once.
    fresh = attendance_request(enrollment_id=e.pk, sequence=2, user=staff)
    settings.LIVENESS_FIXED_ACTIONS = list(GRID.actions)
    used = attendance_challenge(token=token_of(fresh), participant=participant)
    used.used_at = timezone.now()
    used.save()
    with pytest.raises(ValidationError) as refused:
        attendance_submit(
            token=token_of(fresh), participant=participant, live=LiveCapture(used.nonce, capture_of(GRID))
        )
    assert error_code(refused.value) == "challenge_used"
    assert AttendanceCheck.objects.get(pk=fresh.pk).status == A.ISSUED  # the link is still good


def test_a_check_outside_the_webinars_window_is_refused(attending):
    e, staff = attending.enrollment, attending.staff
    later = timezone.now() + datetime.timedelta(hours=3)
    CourseSession.objects.filter(revision_id=e.revision_id, sequence=2).update(
        starts_at=later, ends_at=later + datetime.timedelta(hours=1)
    )
    with pytest.raises(ValidationError) as refused:
        attendance_request(enrollment_id=e.pk, sequence=2, user=staff)
    assert error_code(refused.value) == "outside_window"
    with pytest.raises(ValidationError) as refused:
        attendance_request(enrollment_id=e.pk, sequence=7, user=staff)
    assert error_code(refused.value) == "no_such_session"


def test_without_a_camera_a_photo_goes_to_a_reviewer_and_a_reviewed_check_counts(attending, committed):
    e, staff, participant = attending.enrollment, attending.staff, attending.participant
    check = attendance_request(enrollment_id=e.pk, sequence=1, user=staff)
    photo = frame_upload(samples.frame_files(GRID.folder)[5])
    committed(attendance_submit, token=token_of(check), participant=participant, selfie=photo)
    check.refresh_from_db()
    assert check.status == A.NEEDS_REVIEW and "no_liveness" in check.flags
    assert check.distance <= 0.45
    with pytest.raises(PermissionDenied):
        attendance_review(check=check, reviewer=staff, approve=True, reason="bukan petugas")
    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    decided = committed(attendance_review, check=check, reviewer=reviewer, approve=True, reason="Wajah sama, dicek")
    assert decided.status == A.VERIFIED and decided.decided_by == reviewer
    assert FaceTemplate.objects.filter(participant=participant).count() == 1


def test_the_institution_asks_through_the_api_and_hears_the_result_by_webhook(
    attending, attend, client, django_capture_on_commit_callbacks
):
    from tests.api import django_transport, partner
    from webhooks.models import WebhookMessage

    transport = django_transport(client, django_capture_on_commit_callbacks)
    api = partner("LPK-HADIR", transport, institution=attending.institution)
    api.set_webhook("http://127.0.0.1:9/hooks")  # loopback: allowed outside production
    asked = api.request_attendance(attending.enrollment.pk, 1)
    assert asked["status"] == "issued" and asked["sequence"] == 1
    assert asked["url"].startswith("http") and "/kehadiran/" in asked["url"]
    check = AttendanceCheck.objects.get(pk=asked["attendance_id"])
    assert check.requested_via is not None
    attend(check, attending.participant)
    listed = api.attendance(attending.enrollment.pk)
    assert [(c["sequence"], c["status"], c["liveness"]) for c in listed] == [(1, "verified", True)]
    message = WebhookMessage.objects.get(event_type="attendance.verified")
    assert message.payload["data"]["enrollment_id"] == attending.enrollment.pk
    assert message.payload["data"]["sequence"] == 1


def test_the_participants_page_and_the_institutions_page(attending, client, ready_participant):  # noqa: F811
    e, staff, participant = attending.enrollment, attending.staff, attending.participant
    client.force_login(staff)
    page = client.post(reverse("enrollment:institution_attendance", args=[e.pk]), {"sequence": "1"})
    assert page.status_code == 200
    path = re.search(r'value="https?://[^/"]+(/kehadiran/[^"]+)"', page.content.decode()).group(1)
    client.force_login(participant.user)
    shown = client.get(path).content.decode()
    assert "data-challenge-url" in shown and "Modul 1" in shown
    client.force_login(ready_participant().user)  # another participant with the link
    assert client.get(path).status_code == 404


def test_frames_are_deleted_after_the_retention_time_and_a_stuck_check_is_queued_again(
    attending, attend, committed, monkeypatch
):
    from enrollment import tasks
    from enrollment.services.attendance import attendance_purge_photos, attendance_requeue_stale

    e, staff, participant = attending.enrollment, attending.staff, attending.participant
    done = attend(attendance_request(enrollment_id=e.pk, sequence=1, user=staff), participant)
    path = done.frames.path
    assert attendance_purge_photos() == 0  # decided just now: kept
    later = timezone.now() + datetime.timedelta(days=31)
    assert attendance_purge_photos(now=later) == 1
    done.refresh_from_db()
    assert not done.frames and done.status == A.VERIFIED and done.liveness["passed"]
    import os

    assert not os.path.exists(path)

    # A check whose worker died stays "processing" until the sweep queues it again.
    queued = []
    monkeypatch.setattr(tasks.run_attendance_check, "delay", queued.append)
    stuck = attendance_request(enrollment_id=e.pk, sequence=999, user=staff)
    AttendanceCheck.objects.filter(pk=stuck.pk).update(status=A.PROCESSING, opened_at=timezone.now())
    assert attendance_requeue_stale() == 0
    assert attendance_requeue_stale(now=timezone.now() + datetime.timedelta(minutes=16)) == 1
    assert queued == [stuck.pk]


@pytest.mark.parametrize(("rule", "needed"), [("sessions", [1, 2]), ("post_test", [999])])
def test_the_waves_attendance_rule_says_which_sessions_completion_and_payment_wait_for(
    attending, attend, committed, rule, needed
):
    e, staff = attending.enrollment, attending.staff
    Wave.objects.filter(pk=attending.card.wave_id).update(attendance_rule=rule)  # as the wave was approved
    with pytest.raises(ValidationError) as refused:
        delivery.enrollment_complete(enrollment_id=e.pk, certificate=SimpleUploadedFile("s.pdf", PDF), user=staff)
    assert ", ".join(str(n) for n in needed) in str(refused.value)
    for sequence in needed:
        assert (
            attend(attendance_request(enrollment_id=e.pk, sequence=sequence, user=staff), attending.participant).status
            == A.VERIFIED
        )
    committed(
        delivery.enrollment_complete, enrollment_id=e.pk, certificate=SimpleUploadedFile("s.pdf", PDF), user=staff
    )
    batch = payout_batch_build(by=make_staff(roles.PMO_FINANCE_MAKER), cutoff=timezone.now())
    assert batch.enrollment_count == 1


def test_one_face_check_at_a_time_per_session(attending, attend):
    """Staff pressing the button twice do not get two live links for one session."""
    e, staff = attending.enrollment, attending.staff
    first = attendance_request(enrollment_id=e.pk, sequence=1, user=staff)
    with pytest.raises(ValidationError) as refused:
        attendance_request(enrollment_id=e.pk, sequence=1, user=staff)
    assert error_code(refused.value) == "check_pending"
    # Once the first link has lapsed unused, a new one can be made, and used.
    AttendanceCheck.objects.filter(pk=first.pk).update(link_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    second = attendance_request(enrollment_id=e.pk, sequence=1, user=staff)
    assert attend(second, attending.participant).status == A.VERIFIED
    assert AttendanceCheck.objects.filter(enrollment=e, status=A.VERIFIED).count() == 1

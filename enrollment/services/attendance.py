"""Attendance: before each session of a course the participant's face is
checked, live, against the face accepted at their identity check.

The institution asks for a check (its pages or its API client): the PMO
makes a one-time link, signed and valid ATTENDANCE_LINK_MINUTES, to its own
page. There the participant (logged in: the link is theirs only) does the
camera check of the identity check (kyc.liveness, a fresh challenge), and
the best live frame is matched 1:1 to their accepted face. Without a camera,
photos go to a reviewer, flagged no liveness. The result reaches the
institution on its pages, through the API and by webhook."""

import io
import logging
import secrets
import uuid
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Participant, User
from catalog.models import CourseSession
from kyc import capture, faces, images, liveness
from kyc.models import FaceTemplate, LivenessChallenge
from kyc.services import LiveCapture, liveness_challenge_issue, liveness_challenge_use
from prakerja import ratelimit
from prakerja.lifecycle import record_change, record_created, record_move
from webhooks.services import webhook_emit

from ..models import ATTENDANCE_TRANSITIONS, AttendanceCheck, Enrollment
from .delivery import _scope

logger = logging.getLogger(__name__)

A = AttendanceCheck.Status
_SIGNER_SALT = "prakerja.attendance-link"
ATTENDANCE_SUBMITS_PER_HOUR = 20

REASONS = {
    "someone_else": gettext_lazy(
        "The face at the camera is not the face accepted at your identity check. Only you can attend for yourself."
    ),
    "no_face": gettext_lazy("We found no face in your photo. Take it facing the camera, in good light."),
    "many_faces": gettext_lazy("Your photo shows more than one face. Take it with nobody else in the picture."),
    "check_failed": gettext_lazy("The automatic check could not finish; a reviewer will look at it."),
    "already_attended": gettext_lazy("This session's attendance was already verified by another check."),
    **liveness.REASONS,
}


def reason_text(code: str) -> str:
    return str(REASONS.get(code, code))


def _move(check: AttendanceCheck, to: str, *, by: User | None, reason: str = "") -> None:
    record_move(check, to, table=ATTENDANCE_TRANSITIONS, by=by, reason=reason)


def _window_problem(session: CourseSession, now) -> str:
    """Why a check of this session cannot be done now, if it cannot: a
    webinar's check opens ATTENDANCE_OPENS_MINUTES before its start and
    closes at its end; a module or the post-test any time while in progress."""
    if session.kind != CourseSession.Kind.WEBINAR:
        return ""
    opens = session.starts_at - timedelta(minutes=settings.ATTENDANCE_OPENS_MINUTES)
    if now < opens or now > session.ends_at:
        return _("The face check of this session is open from %(opens)s to %(closes)s.") % {
            "opens": timezone.localtime(opens).strftime("%d-%m-%Y %H:%M"),
            "closes": timezone.localtime(session.ends_at).strftime("%d-%m-%Y %H:%M"),
        }
    return ""


def attendance_link(check: AttendanceCheck) -> str:
    """The page's address, signed (path only; the caller adds the site)."""
    token = signing.TimestampSigner(salt=_SIGNER_SALT).sign(check.link_nonce)
    return reverse("enrollment:attendance", args=[token])


def attendance_request(
    *, enrollment_id: int, sequence: int, user: User | None = None, institution_id: int | None = None, via=None
) -> AttendanceCheck:
    """The institution (staff on its pages, or its API client) asks for the
    face check of a session of one of its enrolments in progress."""
    institutions = _scope(user, institution_id)
    now = timezone.now()
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update()
            .filter(pk=enrollment_id, institution__in=institutions)
            .select_related("participant")
            .first()
        )
        if enrollment is None:
            raise ValidationError(_("No enrolment of your institution has this number."), code="not_found")
        if enrollment.status != Enrollment.Status.REDEEMED:
            raise ValidationError(
                _("Attendance is checked only for a course in progress; this one is %(status)s.")
                % {"status": enrollment.get_status_display()},
                code="not_in_progress",
            )
        session = CourseSession.objects.filter(revision_id=enrollment.revision_id, sequence=sequence).first()
        if session is None:
            raise ValidationError(_("This course has no session %(n)s.") % {"n": sequence}, code="no_such_session")
        if enrollment.attendance_checks.filter(session=session, status=A.VERIFIED).exists():
            raise ValidationError(_("This session's attendance is already verified."), code="already_attended")
        # One check at a time per session: a second link while the first is
        # unused, being checked or with a reviewer would let two results race.
        pending = (
            enrollment.attendance_checks.filter(session=session, status__in=(A.PROCESSING, A.NEEDS_REVIEW)).exists()
            or enrollment.attendance_checks.filter(session=session, status=A.ISSUED, link_expires_at__gt=now).exists()
        )
        if pending:
            raise ValidationError(
                _("A face check of this session is already under way; wait for its result or for its link to expire."),
                code="check_pending",
            )
        problem = _window_problem(session, now)
        if problem:
            raise ValidationError(problem, code="outside_window")
        if not FaceTemplate.objects.filter(participant_id=enrollment.participant_id).exists():
            raise ValidationError(_("This participant has no accepted face to check against."), code="no_face")
        check = AttendanceCheck.objects.create(
            enrollment=enrollment,
            session=session,
            link_nonce=secrets.token_urlsafe(32),
            link_expires_at=now + timedelta(minutes=settings.ATTENDANCE_LINK_MINUTES),
            requested_by=user,
            requested_via=via,
        )
        record_created(check, A.ISSUED, by=user, reason="requested" + (" via the API" if via else ""))
    return check


def _usable(check: AttendanceCheck, participant: Participant, now) -> None:
    if check.enrollment.participant_id != participant.pk:
        raise PermissionDenied
    if check.status != A.ISSUED:
        raise ValidationError(
            _("This face-check link was already used. Ask your training institution for a new one."), code="link_used"
        )
    if now > check.link_expires_at:
        raise ValidationError(
            _("This face-check link has expired. Ask your training institution for a new one."), code="link_expired"
        )
    problem = _window_problem(check.session, now)
    if problem:
        raise ValidationError(problem, code="outside_window")


def attendance_open(*, token: str, participant: Participant, lock: bool = False) -> AttendanceCheck:
    """The check a link names, if this participant may do it now; refused
    with a reason: a link that is not theirs reads as not found
    (PermissionDenied), one used already, one too late, or outside the
    session's window."""
    try:
        nonce = signing.TimestampSigner(salt=_SIGNER_SALT).unsign(
            str(token)[:200], max_age=timedelta(minutes=settings.ATTENDANCE_LINK_MINUTES)
        )
    except signing.SignatureExpired:
        raise ValidationError(
            _("This face-check link has expired. Ask your training institution for a new one."), code="link_expired"
        ) from None
    except signing.BadSignature:
        raise PermissionDenied from None
    checks = AttendanceCheck.objects.select_related("session", "enrollment__course", "enrollment__revision")
    if lock:
        checks = checks.select_for_update(of=("self",))
    check = checks.filter(link_nonce=nonce).first()
    if check is None:
        raise PermissionDenied
    _usable(check, participant, timezone.now())
    return check


def attendance_challenge(*, token: str, participant: Participant) -> LivenessChallenge:
    attendance_open(token=token, participant=participant)
    return liveness_challenge_issue(participant=participant, purpose=LivenessChallenge.Purpose.ATTENDANCE)


def attendance_submit(
    *, token: str, participant: Participant, live: LiveCapture | None = None, selfie=None
) -> AttendanceCheck:
    """Sends the camera check's frames (or, without a camera, a photo) for
    the check the link names; the link is used up by it. Refusals leave the
    link unused and nothing stored."""
    if not ratelimit.hit(f"attendance-submit:{participant.pk}", limit=ATTENDANCE_SUBMITS_PER_HOUR, window_seconds=3600):
        raise ValidationError(_("Too many face checks were sent. Try again in an hour."), code="rate_limited")
    frames = None
    if live is not None:
        try:
            frames = capture.read_frames(live.bursts)
        except capture.CaptureRefused as exc:
            raise ValidationError(exc.message, code=exc.code) from None
    if live is None:
        if selfie is None:
            raise ValidationError({"selfie": [ValidationError(_("Choose a photo."), code="required")]})
        try:
            images.inspect(selfie)
        except images.PhotoRefused as exc:
            raise ValidationError({"selfie": [ValidationError(exc.message, code=exc.code)]}) from None
    saved: list[str] = []
    try:
        with transaction.atomic():
            check = attendance_open(token=token, participant=participant, lock=True)
            if live is not None:
                challenge = liveness_challenge_use(
                    participant=participant, nonce=live.nonce, purpose=LivenessChallenge.Purpose.ATTENDANCE
                )
                try:
                    frames = capture.fit(frames, challenge.actions)
                except capture.CaptureRefused as exc:
                    raise ValidationError(exc.message, code=exc.code) from None
                check.challenge = challenge
                check.frames.save(uuid.uuid4().hex, ContentFile(capture.pack(frames)), save=False)
                saved.append(check.frames.name)
            else:
                check.selfie.save(uuid.uuid4().hex, File(selfie), save=False)
                saved.append(check.selfie.name)
                check.flags = [AttendanceCheck.Flag.NO_LIVENESS]
            check.opened_at = timezone.now()
            _move(check, A.PROCESSING, by=participant.user, reason="camera check sent" if live else "photo sent")
            check.save()
            from ..tasks import run_attendance_check

            transaction.on_commit(lambda: run_attendance_check.delay(check.pk))
    except BaseException:
        storage = AttendanceCheck.frames.field.storage
        for name in saved:  # the row rolled back: no face photo left behind
            storage.delete(name)
        raise
    return check


def _live_face(check: AttendanceCheck) -> tuple[np.ndarray | None, str, dict]:
    """(encoding, refusal code, liveness record) of what was sent."""
    if check.challenge_id is not None:
        with check.frames.open("rb") as f:
            result = liveness.analyse(capture.unpack(f), list(check.challenge.actions))
        return (result.encoding if result.passed else None), result.reason_code, result.as_dict()
    with check.selfie.open("rb") as f:
        found, _pixels, _turns = faces.find_faces_upright(images.load(io.BytesIO(f.read())).pixels)
    if not found:
        return None, "no_face", {}
    if len(found) > 1:
        return None, "many_faces", {}
    return found[0].encoding, "", {}


def attendance_process(*, check_id: int) -> str:
    """The task's body: liveness, then the 1:1 match to the accepted face;
    the result recorded once and sent to the institution by webhook."""
    check = AttendanceCheck.objects.select_related("challenge", "enrollment").get(pk=check_id)
    if check.status != A.PROCESSING:
        return check.status
    template = FaceTemplate.objects.get(participant_id=check.enrollment.participant_id)
    accepted = np.frombuffer(bytes(template.encoding), dtype=np.float64)
    flags = list(check.flags)
    try:
        encoding, code, record = _live_face(check)
    except Exception:
        logger.exception("attendance check %s failed", check_id)
        encoding, code, record = None, "check_failed", {}
    distance = None
    if code == "check_failed":
        status = A.NEEDS_REVIEW
        flags.append(AttendanceCheck.Flag.CHECK_FAILED)
    elif encoding is None:
        status = A.REFUSED
    else:
        distance = round(faces.distance(accepted, encoding), 4)
        if distance > settings.KYC_REJECT_THRESHOLD:
            status, code = A.REFUSED, "someone_else"
        elif AttendanceCheck.Flag.NO_LIVENESS in flags:
            status = A.NEEDS_REVIEW
            if distance <= settings.KYC_SAME_PHOTO_THRESHOLD:
                flags.append(AttendanceCheck.Flag.SAME_PHOTO)
        elif distance <= settings.KYC_MATCH_THRESHOLD:
            status = A.VERIFIED
        else:
            status = A.NEEDS_REVIEW
            flags.append(AttendanceCheck.Flag.BORDERLINE_MATCH)
    with transaction.atomic():
        # The enrolment's row first: two checks of one session finishing at
        # once are recorded one after the other, and the second sees the first.
        Enrollment.objects.select_for_update().filter(pk=check.enrollment_id).first()
        locked = AttendanceCheck.objects.select_for_update().get(pk=check_id)
        if locked.status != A.PROCESSING:
            return locked.status
        if (
            status == A.VERIFIED
            and AttendanceCheck.objects.filter(
                enrollment_id=locked.enrollment_id, session_id=locked.session_id, status=A.VERIFIED
            )
            .exclude(pk=locked.pk)
            .exists()
        ):
            status, code = A.REFUSED, "already_attended"
        locked.liveness, locked.distance, locked.flags = record, distance, [str(f) for f in flags]
        locked.reason_code, locked.reason = code, reason_text(code) if code else ""
        _move(locked, status, by=None, reason=f"automatic check: distance {distance}; {code or 'ok'}")
        if status in (A.VERIFIED, A.REFUSED):
            locked.decided_at = timezone.now()
        locked.save()
        transaction.on_commit(lambda: attendance_event_emit(locked))
    return status


def attendance_review(*, check: AttendanceCheck, reviewer: User, approve: bool, reason: str) -> AttendanceCheck:
    """A PMO reviewer decides a check the machine could not (photos without
    the camera check, a borderline match); a reviewed check counts."""
    if not reviewer.has_perm("enrollment.review_attendancecheck"):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not 5 <= len(reason) <= 2000:
        raise ValidationError({"reason": _("Write the reason for the decision, 5 to 2000 characters.")})
    with transaction.atomic():
        Enrollment.objects.select_for_update().filter(pk=check.enrollment_id).first()
        locked = AttendanceCheck.objects.select_for_update().get(pk=check.pk)
        if locked.status != A.NEEDS_REVIEW:
            raise ValidationError(
                _("This check is no longer waiting for review (it is %(status)s).")
                % {"status": locked.get_status_display()},
                code="not_in_review",
            )
        to = A.VERIFIED if approve else A.REFUSED
        if (
            approve
            and AttendanceCheck.objects.filter(
                enrollment_id=locked.enrollment_id, session_id=locked.session_id, status=A.VERIFIED
            ).exists()
        ):
            to = A.REFUSED
            reason = f"{reason} (already attended)"
        _move(locked, to, by=reviewer, reason=reason)
        locked.reason_code, locked.reason = "reviewer", reason
        locked.decided_by, locked.decided_at = reviewer, timezone.now()
        locked.save()
        transaction.on_commit(lambda: attendance_event_emit(locked))
    return locked


def attendance_event_emit(check: AttendanceCheck) -> None:
    """The result, to the institution (and the platform) by webhook: which
    enrolment and session, and the outcome; no face data."""
    enrollment = check.enrollment
    webhook_emit(
        event_type=f"attendance.{check.status}",
        key=f"attendance:{check.pk}:{check.status}",
        platform_id=enrollment.platform_id,
        institution_id=enrollment.institution_id,
        data=attendance_summary(check),
    )


def attendance_summary(check: AttendanceCheck) -> dict:
    return {
        "attendance_id": check.pk,
        "enrollment_id": check.enrollment_id,
        "sequence": check.session.sequence,
        "session_kind": check.session.kind,
        "status": check.status,
        "liveness": AttendanceCheck.Flag.NO_LIVENESS not in check.flags,
        "reason_code": check.reason_code or None,
        "link_expires_at": check.link_expires_at.isoformat(),
        "decided_at": check.decided_at.isoformat() if check.decided_at else None,
    }


def attendance_photo_open(*, check: AttendanceCheck, kind: str, viewer: User):
    """What was sent for a check ("frames" or "photo") opened for its
    participant or an attendance reviewer, whose look goes into the check's
    history; PermissionDenied for anyone else, None once deleted."""
    is_owner = check.enrollment.participant.user_id == viewer.pk
    if kind not in ("frames", "photo") or not (is_owner or viewer.has_perm("enrollment.review_attendancecheck")):
        raise PermissionDenied
    field_file = check.frames if kind == "frames" else check.selfie
    if not field_file:
        return None
    if not is_owner:
        record_change(check, f"attendance {kind} viewed", by=viewer, before={}, after={}, kind="viewed")
    return field_file.open("rb")


def attendance_purge_photos(*, now=None) -> int:
    """Deletes the frames and photos of checks decided more than
    KYC_PHOTO_RETENTION_DAYS ago (face data kept no longer than needed); the
    result and its measurements stay."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.KYC_PHOTO_RETENTION_DAYS)
    due = (
        AttendanceCheck.objects.filter(status__in=(A.VERIFIED, A.REFUSED), decided_at__lt=cutoff)
        .exclude(frames="", selfie="")
        .values_list("pk", flat=True)
    )
    purged = 0
    for pk in list(due):
        with transaction.atomic():
            check = AttendanceCheck.objects.select_for_update().get(pk=pk)
            for field_file in (check.frames, check.selfie):
                if field_file:
                    field_file.delete(save=False)
            check.save(update_fields=["frames", "selfie"])
            purged += 1
    return purged


def attendance_requeue_stale(*, now=None) -> int:
    """Queues again the checks a worker never finished (it died, or the
    broker was down): a check run twice records its result once."""
    from ..tasks import run_attendance_check

    now = now or timezone.now()
    stale = list(
        AttendanceCheck.objects.filter(status=A.PROCESSING, opened_at__lt=now - timedelta(minutes=15)).values_list(
            "pk", flat=True
        )
    )
    for pk in stale:
        run_attendance_check.delay(pk)
    return len(stale)

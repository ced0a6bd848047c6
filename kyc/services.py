"""Every write of the kyc app: submitting photos, the automatic check, the
reviewer's decision, photo access and retention, registry extracts."""

import datetime
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import BinaryIO

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import crypto, csvio
from accounts.models import Participant, User
from accounts.nik import compact_number, is_sixteen_digits
from accounts.services.registration import participant_mark_kyc_verified
from prakerja import ratelimit
from prakerja.lifecycle import record_created, record_move, transition_many
from prakerja.locks import advisory_xact_lock

from . import faces, images
from .index import template_index
from .models import (
    FINAL_STATUSES,
    REGISTRY_IMPORT_TRANSITIONS,
    SUBMISSION_TRANSITIONS,
    FaceTemplate,
    KycPhotoLog,
    KycSubmission,
    RegistryImport,
    RegistryRecord,
)
from .registry import get_registry, names_match
from .tasks import import_registry_extract, run_kyc_check, send_kyc_decision

logger = logging.getLogger(__name__)

Status = KycSubmission.Status
Flag = KycSubmission.Flag
_FACE_ACCEPT_LOCK = 0x4B5943  # "KYC", the advisory lock key
_STALE_CHECK = timedelta(minutes=15)
OWNER_PHOTO_VIEWS_PER_HOUR = 60

# Flags that send a case to a reviewer whatever the faces say.
_REVIEW_FLAGS = frozenset(
    {
        Flag.POSSIBLE_DUPLICATE,
        Flag.SAME_PHOTO,
        Flag.SELFIE_IS_KTP_PHOTO,
        Flag.BORDERLINE_MATCH,
        Flag.REGISTRY_NAME_MISMATCH,
        Flag.REGISTRY_BIRTH_DATE_MISMATCH,
        Flag.REGISTRY_GENDER_MISMATCH,
    }
)

# Why a submission was refused, and what to do: shown to the participant.
REASONS = {
    "empty": gettext_lazy("A photo file was empty. Choose the photos again."),
    "too_large": gettext_lazy("A photo is too large. Take it again at a lower resolution."),
    "too_many_pixels": gettext_lazy("A photo has too many pixels. Take it again at a lower resolution."),
    "not_an_image": gettext_lazy("A file is not a photo we can read. Send JPEG, PNG or HEIC photos."),
    "selfie_no_face": gettext_lazy(
        "We found no face in your selfie. Take it facing the camera, in good light, without a mask, hat or sunglasses."
    ),
    "selfie_many_faces": gettext_lazy("Your selfie shows more than one face. Take it with nobody else in the picture."),
    "selfie_face_cut": gettext_lazy(
        "Your face is not fully inside the selfie. Hold the phone further away so your whole face shows."
    ),
    "ktp_no_face": gettext_lazy(
        "We found no photo of a face on your KTP picture. Photograph the whole card, flat, in good light and "
        "without glare."
    ),
    "face_mismatch": gettext_lazy(
        "The face in your selfie does not match the photo on your KTP. Take a new selfie of yourself; the KTP "
        "must be your own."
    ),
    "check_failed": gettext_lazy("The automatic check could not finish; a reviewer will look at your photos."),
    "nik_not_in_registry": gettext_lazy(
        "Your NIK was not found in the population registry (Dukcapil). Check your NIK at the Dukcapil office "
        "of your regency or city."
    ),
}


def reason_text(code: str) -> str:
    return str(REASONS.get(code, code))


# --------------------------------------------------------------- submitting


def can_submit(participant: Participant) -> tuple[bool, str]:
    """Whether the participant may send photos now, and if not, why."""
    if participant.status == Participant.Status.REGISTERED:
        return False, _("Verify your mobile number first.")
    if participant.status != Participant.Status.PROFILE_COMPLETE:
        return False, _("Your identity is already verified.")
    latest = participant.kyc_submissions.order_by("-attempt").first()
    if latest is None:
        return True, ""
    if latest.status != Status.REJECTED:
        return False, _("Your photos are being checked. You will be told the result here and by email.")
    if latest.attempt >= settings.KYC_MAX_ATTEMPTS:
        return False, _("You have used all your attempts. A reviewer will contact you.")
    return True, ""


def kyc_submit(*, participant: Participant, ktp_photo: BinaryIO, selfie: BinaryIO) -> KycSubmission:
    """Stores the KTP photo and selfie and queues the check. Files that are
    no usable photo are refused at once, before an attempt is counted."""
    errors = {}
    for name, upload in (("ktp_photo", ktp_photo), ("selfie", selfie)):
        if upload is None:
            errors[name] = [ValidationError(_("Choose a photo."), code="required")]
            continue
        try:
            images.inspect(upload)
        except images.PhotoRefused as exc:
            errors[name] = [ValidationError(exc.message, code=exc.code)]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        allowed, why = can_submit(locked)
        if not allowed:
            raise ValidationError(why, code="not_allowed")
        attempt = (locked.kyc_submissions.order_by("-attempt").values_list("attempt", flat=True).first() or 0) + 1
        submission = KycSubmission(participant=locked, attempt=attempt)
        submission.ktp_photo.save(uuid.uuid4().hex, File(ktp_photo), save=False)
        submission.selfie.save(uuid.uuid4().hex, File(selfie), save=False)
        submission.save()
        record_created(submission, Status.SUBMITTED, by=locked.user)
        transaction.on_commit(lambda: run_kyc_check.delay(submission.pk))
    return submission


# --------------------------------------------------------------- the check


@dataclass
class CheckResult:
    status: str
    reason_code: str = ""
    flags: list[str] = field(default_factory=list)
    distance: float | None = None
    ktp_faces: int | None = None
    selfie_faces: int | None = None
    encoding: np.ndarray | None = None
    duplicate_of: int | None = None
    duplicate_distance: float | None = None
    timings: dict[str, float] = field(default_factory=dict)


class _Timer:
    def __init__(self, timings: dict[str, float]):
        self.timings = timings

    def __call__(self, name: str):
        timer = self

        class _Span:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                timer.timings[name] = round(time.perf_counter() - self.start, 4)

        return _Span()


def face_decision(distance: float) -> str:
    """What the KTP-to-selfie distance alone says: verified, review or rejected."""
    if distance <= settings.KYC_MATCH_THRESHOLD:
        return "verified"
    if distance > settings.KYC_REJECT_THRESHOLD:
        return "rejected"
    return "review"


def check_photos(*, ktp_photo: BinaryIO, selfie: BinaryIO, participant: Participant | None = None) -> CheckResult:
    """The whole automatic check, without writing anything. ``participant``
    (with NIK, name and birth date) enables the registry and 1:N checks."""
    timings: dict[str, float] = {}
    span = _Timer(timings)
    started = time.perf_counter()
    result = CheckResult(status=Status.REJECTED, timings=timings)
    try:
        with span("decode_selfie"):
            selfie_photo = images.load(selfie)
        with span("decode_ktp"):
            ktp = images.load(ktp_photo)
    except images.PhotoRefused as exc:
        result.reason_code = exc.code
        return result

    with span("faces_selfie"):
        selfie_found = faces.find_faces(selfie_photo.pixels)
    result.selfie_faces = len(selfie_found)
    if not selfie_found:
        result.reason_code = "selfie_no_face"
        return result
    if len(selfie_found) > 1:
        result.reason_code = "selfie_many_faces"
        return result
    face = selfie_found[0]
    if face.touches_edge(selfie_photo.pixels.shape):
        result.reason_code = "selfie_face_cut"
        return result
    result.encoding = face.encoding

    with span("faces_ktp"):
        ktp_found = faces.find_faces(ktp.pixels)
    result.ktp_faces = len(ktp_found)
    if not ktp_found:
        result.reason_code = "ktp_no_face"
        return result
    card_face = max(ktp_found, key=lambda f: f.area)
    result.distance = round(faces.distance(card_face.encoding, face.encoding), 4)
    if result.distance <= settings.KYC_SAME_PHOTO_THRESHOLD:
        result.flags.append(Flag.SELFIE_IS_KTP_PHOTO)

    if participant is not None:
        with span("registry"):
            registry_code = _registry_flags(participant, result.flags)
        if registry_code:
            result.reason_code = registry_code
            return result
        with span("duplicate_search"):
            _duplicate_flags(participant, face.encoding, result)

    if face_decision(result.distance) == "rejected":
        result.reason_code = "face_mismatch"
        # A face that matches another participant's is worth a human look
        # even when it does not match this KTP.
        duplicate = {Flag.POSSIBLE_DUPLICATE, Flag.SAME_PHOTO} & set(result.flags)
        result.status = Status.NEEDS_REVIEW if duplicate else Status.REJECTED
    else:
        if face_decision(result.distance) == "review":
            result.flags.append(Flag.BORDERLINE_MATCH)
        result.status = Status.NEEDS_REVIEW if set(result.flags) & _REVIEW_FLAGS else Status.VERIFIED
    timings["total"] = round(time.perf_counter() - started, 4)
    return result


def _registry_flags(participant: Participant, flags: list[str]) -> str:
    """Adds mismatch flags; returns a refusal code for a NIK not found."""
    registry = get_registry()
    if registry is None or not registry.is_configured():
        flags.append(Flag.REGISTRY_NOT_CHECKED)
        return ""
    person = registry.lookup(participant.nik)
    if person is None:
        return "nik_not_in_registry"
    if not names_match(participant.full_name, person.full_name):
        flags.append(Flag.REGISTRY_NAME_MISMATCH)
    if person.birth_date != participant.birth_date:
        flags.append(Flag.REGISTRY_BIRTH_DATE_MISMATCH)
    if person.gender != participant.gender:
        flags.append(Flag.REGISTRY_GENDER_MISMATCH)
    return ""


def _duplicate_flags(participant: Participant, encoding: np.ndarray, result: CheckResult) -> None:
    matches = template_index().search(encoding, k=1, exclude=participant.pk)
    if not matches or matches[0].distance > settings.KYC_DUPLICATE_THRESHOLD:
        return
    nearest = matches[0]
    result.duplicate_of = nearest.key
    result.duplicate_distance = round(nearest.distance, 4)
    result.flags.append(
        Flag.SAME_PHOTO if nearest.distance <= settings.KYC_SAME_PHOTO_THRESHOLD else Flag.POSSIBLE_DUPLICATE
    )


def _lock_face_acceptance() -> None:
    """A transaction-long lock taken before a face is accepted (PostgreSQL;
    SQLite runs one writer at a time anyway)."""
    advisory_xact_lock(_FACE_ACCEPT_LOCK)


def _move(submission: KycSubmission, to: str, *, by: User | None, reason: str = "") -> None:
    record_move(submission, to, table=SUBMISSION_TRANSITIONS, by=by, reason=reason)


def _accept(submission: KycSubmission, *, by: User | None, reason: str) -> None:
    """Verified: the participant's identity is proved and their face kept.
    Callers hold _lock_face_acceptance, so templates are inserted (and get
    their ids) in the order they are committed: the index loads by id."""
    FaceTemplate.objects.create(
        participant_id=submission.participant_id, submission=submission, encoding=submission.selfie_encoding
    )
    participant_mark_kyc_verified(participant_id=submission.participant_id, by=by, reason=reason)


def kyc_process(*, submission_id: int) -> str:
    """The Celery task's body. Claims the submission, checks the photos
    without writing, then records the outcome in one transaction. A second
    run, or a retry after a crash, finds it decided (or re-checks it from
    the same photos) and writes nothing twice. Returns the final status."""
    with transaction.atomic():
        submission = KycSubmission.objects.select_for_update().get(pk=submission_id)
        if submission.status not in (Status.SUBMITTED, Status.PROCESSING):
            return submission.status
        if submission.status == Status.SUBMITTED:
            _move(submission, Status.PROCESSING, by=None)
            submission.save(update_fields=["status"])
    participant = Participant.objects.select_related("family_card").get(pk=submission.participant_id)
    try:
        with submission.ktp_photo.open("rb") as ktp, submission.selfie.open("rb") as selfie:
            result = check_photos(ktp_photo=ktp, selfie=selfie, participant=participant)
    except Exception:
        # The participant must not wait for ever behind a check that cannot
        # finish (out of memory, a broken file store): a person decides.
        logger.exception("KYC check of submission %s failed", submission_id)
        result = CheckResult(status=Status.NEEDS_REVIEW, reason_code="check_failed", flags=[Flag.CHECK_FAILED])

    last_attempt = submission.attempt >= settings.KYC_MAX_ATTEMPTS
    if result.status == Status.REJECTED and last_attempt:
        result.status = Status.NEEDS_REVIEW
        result.flags.append(Flag.LAST_ATTEMPT)

    with transaction.atomic():
        submission = KycSubmission.objects.select_for_update().get(pk=submission_id)
        if submission.status != Status.PROCESSING:
            return submission.status  # another run finished first
        if result.status == Status.VERIFIED:
            # Two people with one face checked at the same moment would each
            # miss the other: accepting is serialised, and the search is
            # repeated against every face accepted up to this point.
            _lock_face_acceptance()
            _duplicate_flags(participant, result.encoding, result)
            if {Flag.POSSIBLE_DUPLICATE, Flag.SAME_PHOTO} & set(result.flags):
                result.status = Status.NEEDS_REVIEW
        submission.ktp_faces = result.ktp_faces
        submission.selfie_faces = result.selfie_faces
        submission.distance = result.distance
        submission.selfie_encoding = None if result.encoding is None else result.encoding.astype(np.float64).tobytes()
        submission.flags = [str(f) for f in result.flags]
        submission.duplicate_of_id = result.duplicate_of
        submission.duplicate_distance = result.duplicate_distance
        submission.timings = result.timings
        submission.reason_code = result.reason_code
        submission.reason = reason_text(result.reason_code) if result.reason_code else ""
        note = f"automatic check: distance {result.distance}" if result.distance is not None else "automatic check"
        _move(submission, result.status, by=None, reason=f"{note}; {result.reason_code or 'ok'}")
        if result.status in FINAL_STATUSES:
            submission.decided_at = timezone.now()
        submission.save()
        if result.status == Status.VERIFIED:
            _accept(submission, by=None, reason="identity verified by face match")
        if result.status in FINAL_STATUSES:
            transaction.on_commit(lambda: send_kyc_decision.delay(submission.pk))
    return result.status


def kyc_requeue_stale(*, now: datetime.datetime | None = None) -> int:
    """Queues again the checks of submissions that waited too long (the
    broker was down when they were sent, or a worker died on them); a check
    that runs twice is harmless. Returns how many were queued."""
    now = now or timezone.now()
    cutoff = now - _STALE_CHECK
    stale = list(
        KycSubmission.objects.filter(status__in=(Status.SUBMITTED, Status.PROCESSING), created_at__lt=cutoff)
        .exclude(events__created_at__gte=cutoff)
        .values_list("pk", flat=True)
        .distinct()
    )
    for pk in stale:
        run_kyc_check.delay(pk)
    return len(stale)


# --------------------------------------------------------------- review


def kyc_review(*, submission: KycSubmission, reviewer: User, approve: bool, reason: str) -> KycSubmission:
    """A PMO reviewer decides a case the machine could not. Before an
    approval the duplicate search runs again: if another participant with
    this face was accepted since the check, the case records that match and
    the approval waits for the reviewer to look at it."""
    if not reviewer.has_perm("kyc.review_kycsubmission"):
        raise PermissionDenied
    reason = (reason or "").strip()
    new_duplicate = None
    with transaction.atomic():
        locked = KycSubmission.objects.select_for_update().get(pk=submission.pk)
        if locked.status != Status.NEEDS_REVIEW:
            raise ValidationError(
                _("This case is no longer waiting for review (it is %(status)s).")
                % {"status": locked.get_status_display()},
                code="not_in_review",
            )
        if len(reason) < 5:
            raise ValidationError(
                {"reason": _("Write the reason for the decision, at least 5 characters (the participant reads it).")}
            )
        if approve and locked.selfie_encoding is None:
            raise ValidationError(_("No face was read from this selfie, so it cannot be approved."), code="no_encoding")
        if approve:
            _lock_face_acceptance()
            found = CheckResult(status=Status.NEEDS_REVIEW)
            _duplicate_flags(locked.participant, locked.encoding, found)
            if found.duplicate_of is not None and found.duplicate_of != locked.duplicate_of_id:
                locked.duplicate_of_id = found.duplicate_of
                locked.duplicate_distance = found.duplicate_distance
                locked.flags = sorted({*locked.flags, *(str(f) for f in found.flags)})
                locked.save(update_fields=["duplicate_of", "duplicate_distance", "flags"])
                new_duplicate = found
        if new_duplicate is None:
            to = Status.VERIFIED if approve else Status.REJECTED
            _move(locked, to, by=reviewer, reason=reason)
            locked.reason_code = "reviewer"
            locked.reason = reason[:2000]
            locked.decided_by = reviewer
            locked.decided_at = timezone.now()
            locked.save()
            if approve:
                _accept(locked, by=reviewer, reason=f"identity approved by reviewer: {reason}"[:255])
            transaction.on_commit(lambda: send_kyc_decision.delay(locked.pk))
    if new_duplicate is not None:
        raise ValidationError(
            _(
                "Since this case was checked, another participant with the same face was verified (distance "
                "%(distance)s). The case now shows that participant; look at both before deciding."
            )
            % {"distance": new_duplicate.duplicate_distance},
            code="new_duplicate",
        )
    return locked


# --------------------------------------------------------------- photos


def kyc_photo_open(*, submission: KycSubmission, photo: str, viewer: User):
    """The photo file for its owner or a KYC reviewer; a reviewer's look is
    logged. Anyone else gets PermissionDenied."""
    if photo not in ("ktp", "selfie"):
        raise PermissionDenied
    is_owner = submission.participant.user_id == viewer.pk
    if not is_owner and not viewer.has_perm("kyc.view_kyc_photos"):
        raise PermissionDenied
    field_file = submission.ktp_photo if photo == "ktp" else submission.selfie
    if submission.photos_deleted_at is not None or not field_file:
        return None
    # Each view decodes the original again; an owner has no need for many.
    if is_owner and not ratelimit.hit(f"kyc-photo:{viewer.pk}", limit=OWNER_PHOTO_VIEWS_PER_HOUR, window_seconds=3600):
        raise PermissionDenied
    if not is_owner:
        KycPhotoLog.objects.create(submission=submission, action=KycPhotoLog.Action.VIEWED, photo=photo, by=viewer)
    return field_file.open("rb")


def kyc_purge_photos(*, now: datetime.datetime | None = None) -> int:
    """Deletes the raw photos of cases decided more than
    KYC_PHOTO_RETENTION_DAYS ago; encodings and the record stay."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.KYC_PHOTO_RETENTION_DAYS)
    due = KycSubmission.objects.filter(
        status__in=FINAL_STATUSES, decided_at__lt=cutoff, photos_deleted_at__isnull=True
    ).values_list("pk", flat=True)
    purged = 0
    for pk in list(due):
        with transaction.atomic():
            submission = KycSubmission.objects.select_for_update().get(pk=pk)
            if submission.photos_deleted_at is not None:
                continue
            for name in ("ktp_photo", "selfie"):
                field_file = getattr(submission, name)
                if field_file:
                    field_file.delete(save=False)
                    KycPhotoLog.objects.create(
                        submission=submission, action=KycPhotoLog.Action.DELETED, photo=name.replace("_photo", "")
                    )
            submission.photos_deleted_at = now
            submission.save(update_fields=["ktp_photo", "selfie", "photos_deleted_at"])
            purged += 1
    return purged


# --------------------------------------------------------------- registry


REGISTRY_COLUMNS = ("nik", "nama", "tanggal_lahir", "jenis_kelamin")
_GENDERS = {"l": "M", "laki-laki": "M", "m": "M", "p": "F", "perempuan": "F", "f": "F"}


def registry_extract_upload(*, source: str, csv_file: BinaryIO, imported_by: User) -> RegistryImport:
    """Checks a registry extract CSV and queues its import."""
    errors = {}
    source = (source or "").strip()
    if not source:
        errors["source"] = [_("Say where the extract came from.")]
    try:
        csvio.check(csv_file, REGISTRY_COLUMNS)
    except ValidationError as exc:
        errors["file"] = exc.error_list
    if errors:
        raise ValidationError(errors)
    csv_file.seek(0)
    with transaction.atomic():
        extract = RegistryImport(source=source[:200], imported_by=imported_by)
        extract.upload.save(f"{uuid.uuid4().hex}.csv", File(csv_file), save=False)
        extract.save()
        transaction.on_commit(lambda: import_registry_extract.delay(extract.pk))
    return extract


def _registry_rows(extract: RegistryImport, rows, counters: dict[str, int]):
    for _line, row in rows:
        number = compact_number(row["nik"])
        gender = _GENDERS.get(row["jenis_kelamin"].lower())
        try:
            born = datetime.date.fromisoformat(row["tanggal_lahir"])
        except ValueError:
            born = None
        name = " ".join(row["nama"].split())[:150]
        if not is_sixteen_digits(number) or gender is None or born is None or not name:
            counters["skipped"] += 1
            continue
        counters["records"] += 1
        yield RegistryRecord(
            nik_index=crypto.nik_index(number), full_name=name, birth_date=born, gender=gender, registry_import=extract
        )


def registry_extract_import(*, extract_id: int) -> None:
    """Imports an uploaded extract as a whole new set of records: until it
    is ready the previous extracts keep answering, and a failed one leaves
    no records. A NIK repeated in the file keeps its first row. Ends ready
    or failed; the uploaded file is deleted either way."""
    extract = RegistryImport.objects.get(pk=extract_id)
    if extract.status != RegistryImport.Status.IMPORTING:
        return
    counters = {"records": 0, "skipped": 0}
    error = csvio.import_rows(extract.upload, lambda rows: _registry_rows(extract, rows, counters), RegistryRecord)
    if error:
        extract.records.all().delete()
    transition_many(
        RegistryImport,
        [extract.pk],
        from_status=RegistryImport.Status.IMPORTING,
        to=RegistryImport.Status.FAILED if error else RegistryImport.Status.READY,
        table=REGISTRY_IMPORT_TRANSITIONS,
        reason=error or "imported",
        error=error[:500],
        record_count=0 if error else extract.records.count(),
        skipped_count=counters["skipped"],
        upload="",
    )
    extract.upload.delete(save=False)

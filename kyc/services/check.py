"""The automatic identity check: photos to faces, the registry, the 1:N
duplicate search, the decision; and queuing again checks that hung."""

import datetime
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import BinaryIO

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts import crypto
from accounts.models import Participant, User
from accounts.services.status import participant_mark_kyc_verified
from prakerja.lifecycle import record_move
from prakerja.locks import advisory_xact_lock

from .. import capture, faces, images, ktp, liveness
from ..index import template_index
from ..models import (
    FINAL_STATUSES,
    SUBMISSION_TRANSITIONS,
    FaceTemplate,
    KycSubmission,
)
from ..registry import get_registry, names_match
from ..tasks import run_kyc_check, send_kyc_decision
from .submission import FILE_FAULTS, attempts_used, reason_text

logger = logging.getLogger(__name__)

Status = KycSubmission.Status
Flag = KycSubmission.Flag

_FACE_ACCEPT_LOCK = 0x4B5943  # "KYC", the advisory lock key
_STALE_CHECK = timedelta(minutes=15)

_REVIEW_FLAGS = frozenset(
    {
        Flag.POSSIBLE_DUPLICATE,
        Flag.SAME_PHOTO,
        Flag.SELFIE_IS_KTP_PHOTO,
        Flag.BORDERLINE_MATCH,
        Flag.REGISTRY_NAME_MISMATCH,
        Flag.REGISTRY_BIRTH_DATE_MISMATCH,
        Flag.REGISTRY_GENDER_MISMATCH,
        Flag.NO_LIVENESS,
        Flag.KTP_NIK_MISMATCH,
        # Not a refusal, but no machine verification either: someone covering
        # the NIK on their own card could type another person's.
        Flag.KTP_NIK_UNREADABLE,
        Flag.KTP_TEXT_UNREADABLE,
        Flag.KTP_NOT_READ,
    }
)

# Why a submission was refused, and what to do: shown to the participant.


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
    liveness: dict = field(default_factory=dict)
    ktp_reading: dict = field(default_factory=dict)


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


def check_photos(
    *,
    ktp_photo: BinaryIO,
    selfie: BinaryIO | None = None,
    frames: list[list[np.ndarray]] | None = None,
    actions: list[str] | None = None,
    participant: Participant | None = None,
) -> CheckResult:
    """The whole automatic check, without writing anything. The live face
    comes from the camera check's ``frames`` (one burst per challenge
    action) or, without liveness, from an uploaded ``selfie``, which always
    goes to a reviewer. ``participant`` (with NIK, name and birth date)
    enables the NIK read off the card, the registry and the 1:N checks."""
    timings: dict[str, float] = {}
    span = _Timer(timings)
    started = time.perf_counter()
    result = CheckResult(status=Status.REJECTED, timings=timings)
    try:
        with span("decode_ktp"):
            ktp_picture = images.load(ktp_photo)
        if frames is None:
            with span("decode_selfie"):
                selfie_photo = images.load(selfie)
    except images.PhotoRefused as exc:
        result.reason_code = exc.code
        return result

    if frames is not None:
        with span("liveness"):
            live = liveness.analyse(frames, list(actions))
        result.liveness = live.as_dict()
        timings.update({f"liveness_{k}": v for k, v in live.timings.items()})
        if not live.passed:
            result.reason_code = live.reason_code
            return result
        result.selfie_faces = 1
        result.encoding = live.encoding
    else:
        result.flags.append(Flag.NO_LIVENESS)
        with span("faces_selfie"):
            selfie_found, selfie_pixels, turns = faces.find_faces_upright(selfie_photo.pixels)
        result.selfie_faces = len(selfie_found)
        if not selfie_found:
            result.reason_code = "selfie_no_face"
            return result
        if len(selfie_found) > 1:
            result.reason_code = "selfie_many_faces"
            return result
        if turns:
            result.flags.append(Flag.PHOTO_TURNED)
        face = selfie_found[0]
        if face.touches_edge(selfie_pixels.shape):
            result.reason_code = "selfie_face_cut"
            return result
        result.encoding = face.encoding

    with span("faces_ktp"):
        ktp_found, ktp_pixels, turns = faces.find_faces_upright(ktp_picture.pixels)
    result.ktp_faces = len(ktp_found)
    if not ktp_found:
        result.reason_code = "ktp_no_face"
        return result
    card_face = max(ktp_found, key=lambda f: f.area)
    if ktp.face_too_big_for_a_card(card_face, ktp_pixels.shape):
        result.reason_code = "ktp_not_card"
        return result
    if turns and Flag.PHOTO_TURNED not in result.flags:
        result.flags.append(Flag.PHOTO_TURNED)
    with span("ocr"):
        _read_card(ktp_pixels, card_face, participant, result, turns)
    result.distance = round(faces.distance(card_face.encoding, result.encoding), 4)
    if result.distance <= settings.KYC_SAME_PHOTO_THRESHOLD:
        result.flags.append(Flag.SELFIE_IS_KTP_PHOTO)

    if participant is not None:
        with span("registry"):
            registry_code = _registry_flags(participant, result.flags)
        if registry_code:
            result.reason_code = registry_code
            return result
        with span("duplicate_search"):
            _duplicate_flags(participant, result.encoding, result)

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


def _read_card(pixels, card_face, participant: Participant | None, result: CheckResult, turns: int) -> None:
    """The card's printed words and NIK, as flags and a record for the
    reviewer (the NIK read is kept masked)."""
    try:
        reading = ktp.read(pixels, card_face)
    except ktp.ReadFailed:
        logger.exception("reading the KTP photo failed")
        result.flags.append(Flag.KTP_NOT_READ)
        result.ktp_reading = {"read": False, "turns": turns}
        return
    matches = None
    if not reading.looks_printed:
        result.flags.append(Flag.KTP_TEXT_UNREADABLE)
    if not reading.nik:
        result.flags.append(Flag.KTP_NIK_UNREADABLE)
    elif participant is not None:
        matches = reading.nik == participant.nik
        if not matches:
            result.flags.append(Flag.KTP_NIK_MISMATCH)
    result.ktp_reading = {
        "read": True,
        "card_words": reading.card_words,
        "text_lines": reading.text_lines,
        "nik": crypto.mask(reading.nik) if reading.nik else "",
        "nik_matches": matches,
        "turns": turns,
    }


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
        if submission.challenge_id is not None:
            with submission.ktp_photo.open("rb") as ktp_file, submission.liveness_frames.open("rb") as frames_file:
                result = check_photos(
                    ktp_photo=ktp_file,
                    frames=capture.unpack(frames_file),
                    actions=submission.challenge.actions,
                    participant=participant,
                )
        else:
            with submission.ktp_photo.open("rb") as ktp_file, submission.selfie.open("rb") as selfie:
                result = check_photos(ktp_photo=ktp_file, selfie=selfie, participant=participant)
    except Exception:
        # The participant must not wait for ever behind a check that cannot
        # finish (out of memory, a broken file store): a person decides.
        logger.exception("KYC check of submission %s failed", submission_id)
        result = CheckResult(status=Status.NEEDS_REVIEW, reason_code="check_failed", flags=[Flag.CHECK_FAILED])

    # A refusal for the file's fault (no face in it, not a card) does not use
    # up an attempt; any other refusal on the last attempt goes to a person.
    counted = not (result.status == Status.REJECTED and result.reason_code in FILE_FAULTS)
    earlier = attempts_used(participant) - (1 if submission.counted else 0)
    last_attempt = counted and earlier + 1 >= settings.KYC_MAX_ATTEMPTS
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
        submission.liveness = result.liveness
        submission.ktp_reading = result.ktp_reading
        submission.counted = counted
        best = (result.liveness or {}).get("best_frame")
        if submission.challenge_id is not None and best and result.liveness.get("passed"):
            # The face kept to look at is the one matched: the most frontal,
            # eyes-open frame (not a frame that may catch a blink).
            with submission.liveness_frames.open("rb") as frames_file:
                picture = capture.frame(frames_file, *best)
            replaced = submission.selfie.name
            submission.selfie.save(uuid.uuid4().hex, ContentFile(picture), save=False)
            storage = submission.selfie.storage
            transaction.on_commit(lambda: storage.delete(replaced))
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

"""Every write of the kyc app, one subject per module: submitting photos
(submission), the camera check's challenges (liveness), the automatic check (check), the reviewer's decision (review),
photo access and retention (photos), registry extracts (registry)."""

from .check import CheckResult, check_photos, face_decision, kyc_process, kyc_requeue_stale
from .liveness import liveness_challenge_issue, liveness_challenge_payload, liveness_challenge_use
from .photos import OWNER_PHOTO_VIEWS_PER_HOUR, kyc_photo_open, kyc_purge_photos
from .registry import REGISTRY_COLUMNS, registry_extract_import, registry_extract_upload
from .review import kyc_review
from .submission import FILE_FAULTS, REASONS, LiveCapture, attempts_used, can_submit, kyc_submit, reason_text

__all__ = [
    "FILE_FAULTS",
    "OWNER_PHOTO_VIEWS_PER_HOUR",
    "REASONS",
    "REGISTRY_COLUMNS",
    "CheckResult",
    "LiveCapture",
    "attempts_used",
    "can_submit",
    "check_photos",
    "face_decision",
    "kyc_photo_open",
    "kyc_process",
    "kyc_purge_photos",
    "kyc_requeue_stale",
    "kyc_review",
    "kyc_submit",
    "liveness_challenge_issue",
    "liveness_challenge_payload",
    "liveness_challenge_use",
    "reason_text",
    "registry_extract_import",
    "registry_extract_upload",
]

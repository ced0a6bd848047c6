"""A PMO reviewer's decision on a case the check sent to review."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from ..models import KycSubmission
from ..tasks import send_kyc_decision
from .check import CheckResult, _accept, _duplicate_flags, _lock_face_acceptance, _move

Status = KycSubmission.Status


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
        if len(reason) > 2000:
            raise ValidationError({"reason": _("Keep the reason to 2000 characters.")}, code="too_long")
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
            locked.reason = reason
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

"""Enrolments paid out, when the payout of their course fees succeeded
(the handler payouts calls for course fees)."""

from django.db import transaction

from prakerja.lifecycle import transition_many

from ..models import (
    ENROLLMENT_TRANSITIONS,
    Enrollment,
    PlatformNotice,
)
from .purchases import enrollment_event_emit

S = Enrollment.Status


def enrollments_paid(*, payout) -> None:
    """A payout of course fees finished: when it succeeded, its enrolments
    are paid out (registered with payouts as its course-fees handler; a
    failed one leaves them completed, for a later batch)."""
    if payout.status == "succeeded":
        enrollment_ids = list(payout.items.values_list("enrollment_id", flat=True))
        enrollments_mark_paid_out(enrollment_ids=enrollment_ids, reason=f"payout {payout.pk}")


def enrollments_mark_paid_out(*, enrollment_ids: list[int], reason: str) -> int:
    """Completed enrolments whose price reached the institution: set-based,
    for the payout of a whole institution at once. Returns how many moved;
    those already paid out are left as they are."""
    with transaction.atomic():
        moved = transition_many(
            Enrollment,
            enrollment_ids,
            from_status=S.COMPLETED,
            to=S.PAID_OUT,
            table=ENROLLMENT_TRANSITIONS,
            reason=reason,
        )
        if not moved:
            return 0
        paid = list(Enrollment.objects.filter(pk__in=moved))
        PlatformNotice.objects.bulk_create(
            PlatformNotice(platform_id=enrollment.platform_id, enrollment_id=enrollment.pk, event=S.PAID_OUT)
            for enrollment in paid
        )
        for enrollment in paid:
            enrollment_event_emit(enrollment, S.PAID_OUT)
    return len(moved)

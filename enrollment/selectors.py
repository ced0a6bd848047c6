"""Reads of waves, cards and purchases that other apps' pages need."""

from django.utils.translation import gettext as _

from payments.channels import PayoutChannel

from .models import Card, CourseReview, Enrollment

_CHANNELS = ", ".join(f"'{code}'" for code in PayoutChannel.values)


def purchase_outlook(user, course) -> str | None:
    """For the course page: None for someone who is not a participant (no buy
    button), "" when they can buy ``course`` now, else why the purchase would
    be declined, in words (a participant without a card is told how to get one)."""
    from accounts.models import Participant

    from .services.purchases import decline_message, purchase_obstacle

    if not user.is_authenticated:
        return None
    card = Card.objects.filter(participant__user=user).select_related("participant").first()
    if card is None:
        if Participant.objects.filter(user=user).exists():
            return _("You need a Prakerja card to buy a course: apply to a wave from your home page.")
        return None
    reason = purchase_obstacle(participant=card.participant, course=course)
    return decline_message(reason) if reason else ""


def course_reviews(course, *, limit: int):
    return list(CourseReview.objects.filter(course=course).order_by("-created_at", "-id")[:limit])


def participant_purchases(participant):
    """A participant's purchases, newest first, with what their pages show."""
    return (
        Enrollment.objects.filter(participant=participant)
        .select_related("revision", "institution", "platform", "review")
        .order_by("-created_at", "-id")
    )


# The wave's attendance rule (Wave.attendance_rule) in SQL: true when session
# ``s`` of an enrolment in wave ``w`` must be attended (the same rule as
# enrollment.services.attendance_rule.attendance_missing).
ATTENDANCE_REQUIRED_SQL = (
    "(w.attendance_rule = 'all'"
    " OR (w.attendance_rule = 'sessions' AND s.kind <> 'post_test')"
    " OR (w.attendance_rule = 'post_test' AND s.kind = 'post_test'))"
)


def payable_enrollments_sql(*, not_in: str) -> str:
    """A SELECT of the completed enrolments whose price is owed, completed
    by ``%(cutoff)s``, with who is paid: the institution when its platform
    pays directly, the platform when it forwards the money. Only payees
    whose bank the gateway knows are included (the others wait for the PMO
    to correct the bank). ``not_in`` is a correlated subquery on ``e.id``
    naming enrolments to leave out (those a live batch holds). Columns:
    enrollment_id, price, institution_id, payee_institution_id,
    payee_platform_id. Set-based, for batches of a million enrolments.
    Only training attended is paid: every session the wave's attendance
    rule requires of the version bought has a verified attendance check."""
    return f"""
    SELECT e.id AS enrollment_id, e.price, e.institution_id,
           CASE WHEN p.payout_route = 'direct' THEN e.institution_id END AS payee_institution_id,
           CASE WHEN p.payout_route = 'direct' THEN NULL ELSE e.platform_id END AS payee_platform_id
    FROM enrollment_enrollment e JOIN catalog_platform p ON p.id = e.platform_id
    WHERE e.status = '{Enrollment.Status.COMPLETED}' AND e.completed_at <= %(cutoff)s
      AND NOT EXISTS ({not_in})
      AND NOT EXISTS (
          SELECT 1 FROM catalog_coursesession s
          JOIN enrollment_card c ON c.id = e.card_id
          JOIN enrollment_wave w ON w.id = c.wave_id
          WHERE s.revision_id = e.revision_id AND {ATTENDANCE_REQUIRED_SQL} AND NOT EXISTS (
              SELECT 1 FROM enrollment_attendancecheck a
              WHERE a.enrollment_id = e.id AND a.session_id = s.id AND a.status = 'verified'))
      AND CASE WHEN p.payout_route = 'direct'
               THEN (SELECT i2.bank_name FROM catalog_institution i2 WHERE i2.id = e.institution_id)
               ELSE p.settlement_bank END IN ({_CHANNELS})
    """  # noqa: S608 - constant SQL, values are parameters


def seats_taken(course_ids) -> dict[int, int]:
    """Seats held in each course (bought and not undone, whichever version
    sold them): what its capacity is counted against."""
    from django.db.models import Count

    from .models import HELD_STATUSES

    rows = (
        Enrollment.objects.filter(course_id__in=list(course_ids), status__in=HELD_STATUSES)
        .values("course_id")
        .annotate(n=Count("id"))
        .values_list("course_id", "n")
    )
    return dict(rows)

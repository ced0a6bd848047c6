"""The attendance rule completion and payment wait for, the wave's
(Wave.attendance_rule; by default every session of the version bought and
its post-test): a verified attendance check of each of those sessions (a
reviewed check counts). A version without sessions (listed before sessions
existed) has nothing to attend."""

from catalog.models import CourseSession

from ..models import AttendanceCheck, Enrollment, Wave

_KINDS = {
    Wave.AttendanceRule.ALL: None,
    Wave.AttendanceRule.SESSIONS: [CourseSession.Kind.WEBINAR, CourseSession.Kind.SELF_PACED],
    Wave.AttendanceRule.POST_TEST: [CourseSession.Kind.POST_TEST],
}

# The same rule in SQL is enrollment.selectors.ATTENDANCE_REQUIRED_SQL (payouts).


def attendance_missing(enrollment: Enrollment) -> list[int]:
    """The sequences of the sessions the rule requires and not yet attended, in order."""
    rule = Wave.objects.filter(cards__pk=enrollment.card_id).values_list("attendance_rule", flat=True).first()
    sessions = CourseSession.objects.filter(revision_id=enrollment.revision_id)
    kinds = _KINDS.get(rule or Wave.AttendanceRule.ALL)
    if kinds is not None:
        sessions = sessions.filter(kind__in=kinds)
    required = dict(sessions.values_list("pk", "sequence"))
    attended = set(
        AttendanceCheck.objects.filter(
            enrollment_id=enrollment.pk, status=AttendanceCheck.Status.VERIFIED, session_id__in=list(required)
        ).values_list("session_id", flat=True)
    )
    return sorted(sequence for pk, sequence in required.items() if pk not in attended)

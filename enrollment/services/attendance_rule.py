"""The attendance rule completion and payment wait for: every session of the
version bought, the post-test included, has a verified attendance check (a
reviewed check counts). A version without sessions (listed before sessions
existed) has nothing to attend."""

from catalog.models import CourseSession

from ..models import AttendanceCheck, Enrollment


def attendance_missing(enrollment: Enrollment) -> list[int]:
    """The sequences of the sessions not yet attended, in order."""
    sessions = dict(CourseSession.objects.filter(revision_id=enrollment.revision_id).values_list("pk", "sequence"))
    attended = set(
        AttendanceCheck.objects.filter(
            enrollment_id=enrollment.pk, status=AttendanceCheck.Status.VERIFIED, session_id__in=list(sessions)
        ).values_list("session_id", flat=True)
    )
    return sorted(sequence for pk, sequence in sessions.items() if pk not in attended)

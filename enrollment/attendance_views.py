"""The attendance pages: the PMO's face-check page a participant reaches
through an institution's link, their result, and the institution's page of
an enrolment's sessions where staff make the links."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.views import participant_required
from catalog.models import CourseSession
from kyc import liveness
from kyc.services import LiveCapture, liveness_challenge_payload
from kyc.views import picture_response
from prakerja.inputs import parse_id
from prakerja.web import apply_errors, institution_staff_required

from .forms import AttendanceForm
from .models import AttendanceCheck, Enrollment
from .services import attendance


@never_cache
@participant_required
@require_http_methods(["GET", "POST"])
def attendance_page(request, participant, token):
    try:
        check = attendance.attendance_open(token=token, participant=participant)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        return render(request, "enrollment/attendance_refused.html", {"why": " ".join(exc.messages)})
    form = AttendanceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        nonce = form.cleaned_data["nonce"]
        live = None
        if nonce:
            live = LiveCapture(nonce, [request.FILES.getlist(f"frames_{i}") for i in range(liveness.MAX_ACTIONS)])
        try:
            sent = attendance.attendance_submit(
                token=token, participant=participant, live=live, selfie=None if live else form.cleaned_data["selfie"]
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("enrollment:attendance_status", pk=sent.pk)
    return render(
        request,
        "enrollment/attendance.html",
        {"check": check, "form": form, "token": token, "frame_slots": range(liveness.MAX_ACTIONS)},
    )


@never_cache
@participant_required
@require_http_methods(["POST"])
def attendance_challenge(request, participant, token):
    try:
        issued = attendance.attendance_challenge(token=token, participant=participant)
    except PermissionDenied:
        return JsonResponse({"error": _("This face-check link is not yours.")}, status=404)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=409)
    return JsonResponse(liveness_challenge_payload(issued))


@never_cache
@participant_required
def attendance_status(request, participant, pk):
    check = get_object_or_404(
        AttendanceCheck.objects.select_related("session", "enrollment__revision"),
        pk=pk,
        enrollment__participant=participant,
    )
    return render(request, "enrollment/attendance_status.html", {"check": check})


@never_cache
@login_required
def attendance_photo(request, pk, kind):
    """What was sent for a check (the camera's frames as one sheet, or the
    photo), to its participant and to attendance reviewers; a reviewer's
    look is recorded in the check's history."""
    check = get_object_or_404(AttendanceCheck.objects.select_related("enrollment__participant"), pk=pk)
    try:
        opened = attendance.attendance_photo_open(check=check, kind=kind, viewer=request.user)
    except PermissionDenied:
        raise Http404 from None
    if opened is None:
        raise Http404
    return picture_response(opened, frames=kind == "frames")


@never_cache
@institution_staff_required
@require_http_methods(["GET", "POST"])
def institution_attendance(request, institutions, pk):
    """An enrolment's sessions, the face check of each, and the button that
    makes the one-time link to send the participant to."""
    enrollment = get_object_or_404(
        Enrollment.objects.select_related("participant", "revision"), pk=pk, institution__in=institutions
    )
    new_link = None
    if request.method == "POST":
        sequence = parse_id(request.POST.get("sequence"))
        try:
            if sequence is None:
                raise ValidationError(_("Choose a session."), code="no_such_session")
            check = attendance.attendance_request(enrollment_id=enrollment.pk, sequence=sequence, user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("enrollment:institution_attendance", pk=enrollment.pk)
        new_link = (check, request.build_absolute_uri(attendance.attendance_link(check)))
    sessions = list(CourseSession.objects.filter(revision_id=enrollment.revision_id).order_by("sequence"))
    checks = {}
    for c in enrollment.attendance_checks.order_by("created_at", "pk"):
        checks.setdefault(c.session_id, []).append(c)
    rows = [{"session": s, "checks": checks.get(s.pk, [])} for s in sessions]
    for row in rows:
        row["attended"] = any(c.status == AttendanceCheck.Status.VERIFIED for c in row["checks"])
    return render(
        request,
        "enrollment/institution/attendance.html",
        {
            "enrollment": enrollment,
            "rows": rows,
            "new_link": new_link,
            "link_minutes": settings.ATTENDANCE_LINK_MINUTES,
        },
    )

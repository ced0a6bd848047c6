"""The participant's identity-check page and the guarded photo view."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.views import participant_required
from integrity.devices import device_seen
from prakerja.web import apply_errors

from . import capture, liveness
from .forms import KycUploadForm
from .images import PhotoRefused, as_jpeg
from .models import KycSubmission, LivenessChallenge
from .services import (
    LiveCapture,
    attempts_used,
    can_submit,
    kyc_photo_open,
    kyc_submit,
    liveness_challenge_issue,
    liveness_challenge_payload,
)


@never_cache
@participant_required
@require_http_methods(["GET", "POST"])
def status(request, participant):
    form = KycUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        nonce = form.cleaned_data["nonce"]
        live = None
        if nonce:
            live = LiveCapture(nonce, [request.FILES.getlist(f"frames_{i}") for i in range(liveness.MAX_ACTIONS)])
        try:
            kyc_submit(
                participant=participant,
                ktp_photo=form.cleaned_data["ktp_photo"],
                selfie=None if live else form.cleaned_data["selfie"],
                live=live,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            device_seen(request, participant.pk, "kyc")
            messages.success(request, _("Your photos were received. The check takes a minute or two."))
            return redirect("kyc:status")
    submissions = list(participant.kyc_submissions.order_by("-attempt"))
    allowed, why = can_submit(participant)
    return render(
        request,
        "kyc/status.html",
        {
            "participant": participant,
            "latest": submissions[0] if submissions else None,
            "submissions": submissions,
            "form": form,
            "can_submit": allowed,
            "why_not": why,
            "max_attempts": settings.KYC_MAX_ATTEMPTS,
            "attempts_used": attempts_used(participant),
            "frame_slots": range(liveness.MAX_ACTIONS),
        },
    )


@never_cache
@participant_required
@require_http_methods(["POST"])
def challenge(request, participant):
    """A new camera-check challenge for the page's script, as JSON."""
    allowed, why = can_submit(participant)
    if not allowed:
        return JsonResponse({"error": why}, status=409)
    try:
        issued = liveness_challenge_issue(participant=participant, purpose=LivenessChallenge.Purpose.KYC)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=429)
    return JsonResponse(liveness_challenge_payload(issued))


@never_cache
@login_required
def photo(request, pk, photo):
    submission = get_object_or_404(KycSubmission.objects.select_related("participant"), pk=pk)
    try:
        opened = kyc_photo_open(submission=submission, photo=photo, viewer=request.user)
    except PermissionDenied:
        raise Http404 from None
    if opened is None:
        raise Http404
    return picture_response(opened, frames=photo == "frames")


def picture_response(opened, *, frames: bool) -> HttpResponse:
    """An identity photo (or a camera check's frames, as one sheet) re-encoded
    as JPEG without EXIF, never cached; 404 for a file that is no picture."""
    with opened:
        try:
            body = capture.contact_sheet(opened) if frames else as_jpeg(opened)
        except (PhotoRefused, ValueError, KeyError, OSError):
            raise Http404 from None
    response = HttpResponse(body, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response

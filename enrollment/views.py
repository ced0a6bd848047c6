"""Pages of participants (waves, card, checkout, purchases), institutions
(vouchers, completion) and platforms (orders). Each validates input and
calls a service; the rules are there."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Participant
from accounts.phone import mask_phone
from accounts.views import participant_required
from catalog.models import Institution
from catalog.selectors import on_sale
from payments.models import Account
from prakerja.inputs import parse_id
from prakerja.web import apply_errors, institution_staff_required, platform_staff_required

from . import selectors as card_selectors
from .certificates import CONTENT_TYPES
from .forms import CheckoutForm, CompletionForm, RedeemForm, ReviewForm
from .models import HELD_STATUSES, Card, Enrollment, PlatformNotice, Wave, WaveApplication
from .services import delivery, purchases, reviews, waves

S = Enrollment.Status


@never_cache
@participant_required
@require_http_methods(["GET", "POST"])
def waves_page(request, participant):
    if request.method == "POST":
        wave = get_object_or_404(Wave, pk=parse_id(request.POST.get("wave")) or 0, status=Wave.Status.OPEN)
        try:
            if request.POST.get("action") == "withdraw":
                waves.wave_withdraw(participant=participant, wave=wave)
                messages.success(request, _("Your application was withdrawn."))
            else:
                waves.wave_apply(participant=participant, wave=wave)
                applied = _("You applied to %(wave)s. The result comes after registration closes.")
                messages.success(request, applied % {"wave": wave})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("enrollment:waves")
    participant.refresh_from_db(fields=["status"])
    applications = list(
        WaveApplication.objects.filter(participant=participant).select_related("wave").order_by("-wave__number")
    )
    applied_to = {a.wave_id: a for a in applications}
    open_list = [(wave, applied_to.get(wave.pk)) for wave in waves.open_waves()]
    return render(
        request,
        "enrollment/waves.html",
        {
            "participant": participant,
            "open_waves": open_list,
            "applications": applications,
            "cannot_apply": waves.apply_obstacle(participant),
        },
    )


def _card_context(participant):
    card = Card.objects.filter(participant=participant).select_related("wave").first()
    account = Account.objects.get(pk=card.account_id) if card else None
    return card, account


@never_cache
@participant_required
def my_card(request, participant):
    card, account = _card_context(participant)
    purchases_list = list(card_selectors.participant_purchases(participant))
    return render(
        request,
        "enrollment/card.html",
        {
            "participant": participant,
            "card": card,
            "account": account,
            "purchases": purchases_list,
            # The deadline is for the first purchase only (a cancelled one does not count).
            "deadline_applies": not any(p.status in HELD_STATUSES for p in purchases_list),
            "review_form": ReviewForm(),
            "decline_message": purchases.decline_message,
        },
    )


@never_cache
@sensitive_post_parameters("card_number", "code")
@participant_required
@require_http_methods(["GET", "POST"])
def checkout(request, participant, pk):
    course = get_object_or_404(on_sale().select_related("published_revision", "institution", "platform"), pk=pk)
    card, account = _card_context(participant)
    if card is None or card.status != Card.Status.ACTIVE:
        messages.error(request, _("You need an active Prakerja card to buy a course."))
        return redirect("enrollment:card")
    action = request.POST.get("action")
    form = CheckoutForm(
        request.POST if action == "buy" else None,
        initial={"request_key": uuid.uuid4().hex, "revision": course.published_revision_id},
    )
    if action == "send":
        try:
            purchases.checkout_send_code(participant=participant, course=course)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("We sent a code to %(phone)s.") % {"phone": mask_phone(participant.phone)})
        return redirect("enrollment:checkout", pk)
    if action == "buy" and form.is_valid():
        try:
            enrollment = purchases.enrollment_request(
                participant=participant,
                course=course,
                revision_id=form.cleaned_data["revision"],
                card_number=form.cleaned_data["card_number"],
                code=form.cleaned_data["code"],
                request_key=form.cleaned_data["request_key"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("enrollment:purchase", enrollment.pk)
    obstacle = purchases.purchase_obstacle(participant=participant, course=course)
    return render(
        request,
        "enrollment/checkout.html",
        {
            "course": course,
            "revision": course.published_revision,
            "card": card,
            "account": account,
            "form": form,
            "obstacle": purchases.decline_message(obstacle) if obstacle else "",
        },
    )


def _own_purchase(participant: Participant, pk: int) -> Enrollment:
    return get_object_or_404(
        Enrollment.objects.select_related("revision", "institution", "platform"), pk=pk, participant=participant
    )


@never_cache
@participant_required
def purchase(request, participant, pk):
    enrollment = _own_purchase(participant, pk)
    return render(
        request,
        "enrollment/purchase.html",
        {
            "enrollment": enrollment,
            "voucher": purchases.voucher_display(enrollment.voucher_code) if enrollment.voucher_code else "",
            "decline": purchases.decline_message(enrollment.decline_code) if enrollment.decline_code else "",
            "review_form": ReviewForm(),
            "reviewed": hasattr(enrollment, "review"),
        },
    )


@participant_required
@require_POST
def purchase_cancel(request, participant, pk):
    enrollment = _own_purchase(participant, pk)
    try:
        purchases.enrollment_cancel(participant=participant, enrollment_id=enrollment.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if enrollment.status == Enrollment.Status.CANCELLED:  # a second tab, a double tap
            messages.info(request, _("This voucher was already cancelled."))
        else:
            messages.success(request, _("The voucher was cancelled and the amount is back in your balance."))
    return redirect("enrollment:purchase", pk)


@participant_required
@require_http_methods(["GET", "POST"])
def purchase_review(request, participant, pk):
    enrollment = _own_purchase(participant, pk)
    if request.method != "POST":  # a reload, the language switch: the purchase page has the form
        return redirect("enrollment:purchase", pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            reviews.review_create(
                participant=participant,
                enrollment_id=enrollment.pk,
                rating=form.cleaned_data["rating"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "already_reviewed":
                messages.info(request, " ".join(exc.messages))
                return redirect("enrollment:purchase", pk)
            apply_errors(form, exc)
        else:
            messages.success(request, _("Thank you for your review."))
            return redirect("enrollment:purchase", pk)
    return render(
        request,
        "enrollment/purchase.html",
        {"enrollment": enrollment, "review_form": form, "reviewed": False, "voucher": "", "decline": ""},
    )


@never_cache
@login_required
def certificate(request, pk):
    """The certificate file, to its participant, the institution's staff and
    PMO staff who may view enrolments; 404 to anyone else."""
    enrollment = get_object_or_404(Enrollment, pk=pk)
    user = request.user
    allowed = (
        Participant.objects.filter(user=user, pk=enrollment.participant_id).exists()
        or Institution.objects.filter(staff=user, pk=enrollment.institution_id).exists()
        or (user.is_staff and user.has_perm("enrollment.view_enrollment"))
    )
    if not allowed or not enrollment.certificate:
        raise Http404
    extension = enrollment.certificate_name.rsplit(".", 1)[-1]
    response = FileResponse(
        enrollment.certificate.open("rb"),
        as_attachment=True,
        filename=enrollment.certificate_name,
        content_type=CONTENT_TYPES.get(extension, "application/octet-stream"),
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --------------------------------------------------------------- institutions


@never_cache
@institution_staff_required
@require_http_methods(["GET", "POST"])
def institution_enrollments(request, institutions):
    # Two steps on the page: the code is checked and the staff see whose
    # course it starts, then they confirm. A POST without the check step
    # (older pages, scripts) redeems at once, under the same rules.
    form = RedeemForm(request.POST or None)
    to_confirm = None
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["voucher_code"]
        try:
            if request.POST.get("action") == "check":
                to_confirm = delivery.voucher_check(user=request.user, voucher_code=code)
            else:
                enrollment = delivery.enrollment_redeem(user=request.user, voucher_code=code)
        except ValidationError as exc:
            apply_errors(form, exc, field="voucher_code")
        else:
            if to_confirm is None:
                messages.success(
                    request,
                    _("Voucher redeemed: %(name)s starts %(course)s.")
                    % {"name": enrollment.participant.full_name, "course": enrollment.revision.title},
                )
                return redirect("enrollment:institution_enrollments")
    enrollments = (
        Enrollment.objects.filter(institution__in=institutions, status__in=[S.REDEEMED, S.COMPLETED, S.PAID_OUT])
        .select_related("participant", "revision", "institution")
        .order_by("-redeemed_at", "-id")
    )
    page = Paginator(enrollments, 25).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "institutions": institutions, "to_confirm": to_confirm}
    if to_confirm is not None:
        context["voucher"] = purchases.voucher_display(to_confirm.voucher_code)
    return render(request, "enrollment/institution/list.html", context)


@never_cache
@institution_staff_required
@require_http_methods(["GET", "POST"])
def institution_complete(request, institutions, pk):
    enrollment = get_object_or_404(
        Enrollment.objects.select_related("participant", "revision"), pk=pk, institution__in=institutions
    )
    form = CompletionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            delivery.enrollment_complete(
                user=request.user, enrollment_id=enrollment.pk, certificate=form.cleaned_data["certificate"]
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):  # about the file
                apply_errors(form, exc)
            else:
                # About the enrolment (already completed in another tab, not
                # ended yet): the form may not be on the page any more.
                messages.error(request, " ".join(exc.messages))
                return redirect("enrollment:institution_complete", pk)
        else:
            messages.success(request, _("Completion recorded. The price is now payable to your institution."))
            return redirect("enrollment:institution_enrollments")
    return render(request, "enrollment/institution/complete.html", {"form": form, "enrollment": enrollment})


# ------------------------------------------------------------------ platforms


@never_cache
@platform_staff_required
def platform_orders(request, platforms):
    notices = (
        PlatformNotice.objects.filter(platform__in=platforms)
        .select_related("enrollment__revision", "enrollment__institution", "platform")
        .order_by("-created_at", "-id")
    )
    page = Paginator(notices, 50).get_page(request.GET.get("page"))
    return render(request, "enrollment/platform_orders.html", {"page": page, "platforms": platforms})

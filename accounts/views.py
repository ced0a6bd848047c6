"""Pages of participants and Dinas operators. Each validates input and calls
a service; the rules are there."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from integrity.devices import device_seen
from prakerja.journey import next_step, participant_journey
from prakerja.web import apply_errors, role_home

from .forms import (
    BatchUploadForm,
    ChangePhoneForm,
    OperatorProfileForm,
    PhoneCodeForm,
    ProfileForm,
)
from .models import DinasOperator, Participant, RegistrationBatch
from .phone import mask_phone
from .services import batches, phone, registration


def participant_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        participant = Participant.objects.filter(user=request.user).select_related("user").first()
        if participant is None:
            return redirect("accounts:register")
        return view(request, participant, *args, **kwargs)

    return wrapper


def operator_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        office = DinasOperator.objects.filter(user=request.user).first()
        if office is None or not request.user.has_perm("accounts.register_offline"):
            raise Http404
        return view(request, office, *args, **kwargs)

    return wrapper


def home(request):
    """Each role's own start: the participant's dashboard, the institution's,
    platform's or Dinas office's pages, admin for PMO staff; someone signed in
    with none of these registers as a participant."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "home.html")
    elsewhere = role_home(user)
    if elsewhere:
        return redirect(elsewhere)
    participant = Participant.objects.filter(user=user).first()
    if participant is None:
        return redirect("accounts:register")
    steps = participant_journey(participant)
    from integrity.selectors import participant_holding_cases

    context = {
        "participant": participant,
        "steps": steps,
        "next": next_step(steps),
        "cases": participant_holding_cases(participant),
    }
    return render(request, "accounts/dashboard.html", context)


@never_cache
@sensitive_post_parameters("nik", "kk_number")
@login_required
@require_http_methods(["GET", "POST"])
def register(request):
    if Participant.objects.filter(user=request.user).exists():
        return redirect("home")
    form = ProfileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            participant = registration.participant_register(user=request.user, profile=form.to_input())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            device_seen(request, participant.pk, "register")
            messages.success(request, _("You are registered. Now verify your mobile number."))
            return redirect("accounts:verify_phone")
    return render(request, "accounts/register.html", {"form": form})


@never_cache
@participant_required
@require_http_methods(["GET", "POST"])
def verify_phone(request, participant):
    code_form = PhoneCodeForm(request.POST if request.POST.get("action") == "verify" else None)
    phone_form = ChangePhoneForm(request.POST if request.POST.get("action") == "change" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "send":
                phone.participant_send_phone_code(participant=participant)
                messages.success(
                    request,
                    _("We sent a code to %(phone)s.") % {"phone": mask_phone(participant.phone)},
                )
                return redirect("accounts:verify_phone")
            if action == "verify" and code_form.is_valid():
                phone.participant_verify_phone(participant=participant, code=code_form.cleaned_data["code"])
                messages.success(
                    request,
                    _("Your mobile number is verified. Your profile is complete."),
                )
                return redirect("home")
            if action == "change" and phone_form.is_valid():
                phone.participant_change_phone(participant=participant, phone=phone_form.cleaned_data["phone"])
                messages.success(
                    request,
                    _("Your mobile number was changed. Ask for a code to verify it."),
                )
                return redirect("accounts:verify_phone")
        except ValidationError as exc:
            if action == "send":
                messages.error(request, " ".join(exc.messages))
                return redirect("accounts:verify_phone")
            if action == "change":
                apply_errors(phone_form, exc, field="phone")
            else:
                apply_errors(code_form, exc, field="code")
    return render(
        request,
        "accounts/verify_phone.html",
        {
            "participant": participant,
            "masked_phone": mask_phone(participant.phone),
            "code_form": code_form,
            "phone_form": phone_form,
        },
    )


@operator_required
def operator_dashboard(request, office):
    participants = Participant.objects.filter(registered_by=request.user).select_related("user").order_by("-created_at")
    page = Paginator(participants, 25).get_page(request.GET.get("page"))
    recent_batches = RegistrationBatch.objects.filter(operator=request.user)[:10]
    return render(
        request,
        "accounts/operator/dashboard.html",
        {"office": office, "page": page, "batches": recent_batches},
    )


@never_cache
@sensitive_post_parameters("nik", "kk_number")
@operator_required
@require_http_methods(["GET", "POST"])
def operator_register(request, office):
    form = OperatorProfileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            participant = registration.participant_register_offline(
                operator=request.user,
                email=form.cleaned_data["email"],
                profile=form.to_input(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is registered. They received an email to set a password.")
                % {"name": participant.full_name},
            )
            return redirect("accounts:operator_dashboard")
    return render(request, "accounts/operator/register.html", {"form": form, "office": office})


@operator_required
@require_http_methods(["GET", "POST"])
def operator_batch_upload(request, office):
    form = BatchUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = batches.registration_batch_create(
                operator=request.user, uploaded_file=upload, file_name=upload.name
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("The file was accepted: %(rows)d rows are being registered.") % {"rows": batch.rows_total},
            )
            return redirect("accounts:operator_batch", pk=batch.pk)
    return render(
        request,
        "accounts/operator/batch_upload.html",
        {"form": form, "office": office, "columns": list(batches.COLUMNS), "example": EXAMPLE_ROW},
    )


# Shown on the upload page, never put in the template file.
EXAMPLE_ROW = (
    "3273014508990001,3273010101990001,SITI AMINAH,Bandung,1999-08-05,P,081234567890,"
    'siti@example.com,"Jl. Merdeka 1, Bandung",SMA,belum bekerja'
)


@operator_required
def operator_batch_template(request, office):
    # The header alone: an example row left in by mistake would register
    # somebody. The upload page shows an example instead.
    header = ",".join(batches.COLUMNS)
    response = HttpResponse(f"{header}\r\n", content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="templat-pendaftaran.csv"'
    return response


@operator_required
def operator_batch(request, office, pk):
    batch = get_object_or_404(RegistrationBatch, pk=pk, operator=request.user)
    return render(request, "accounts/operator/batch.html", {"batch": batch, "office": office})


@operator_required
def operator_batch_result(request, office, pk):
    batch = get_object_or_404(RegistrationBatch, pk=pk, operator=request.user)
    if not batch.result:
        raise Http404
    response = FileResponse(
        batch.result.open("rb"),
        as_attachment=True,
        filename=f"hasil-{batch.pk}.csv",
        content_type="text/csv",
    )
    response["Cache-Control"] = "private, no-store"
    return response


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")

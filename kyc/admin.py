"""Django admin for the PMO's KYC reviewers: the review queue, every
submission, registry extracts and the photo access log."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from prakerja.admin import EventsInline, ReadOnlyAdmin

from . import liveness
from .forms import RegistryImportForm, ReviewForm
from .models import KycPhotoLog, KycReviewCase, KycSubmission, RegistryImport
from .services import kyc_review, reason_text, registry_extract_upload


@admin.register(KycSubmission)
class KycSubmissionAdmin(ReadOnlyAdmin):
    """Every submission, read-only; decisions are taken in the review queue."""

    change_form_template = "admin/kyc/case.html"
    list_display = ["__str__", "participant", "attempt", "status", "distance", "flag_list", "created_at"]
    list_filter = ["status", "attempt"]
    list_select_related = ["participant"]
    search_fields = ["participant__full_name", "participant__user__email"]
    ordering = ["created_at"]
    inlines = [EventsInline]
    fields = [
        "participant",
        "attempt",
        "status",
        "distance",
        "ktp_faces",
        "selfie_faces",
        "flag_list",
        "counted",
        "duplicate_of",
        "duplicate_distance",
        "reason",
        "decided_by",
        "decided_at",
        "timing_text",
        "photos_deleted_at",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("flags"))
    def flag_list(self, obj):
        labels = dict(KycSubmission.Flag.choices)
        return ", ".join(str(labels.get(f, f)) for f in obj.flags) or "–"

    @admin.display(description=gettext_lazy("time per step"))
    def timing_text(self, obj):
        """How long each step of the check took, in seconds."""
        return "; ".join(f"{step}: {seconds:.2f} s" for step, seconds in (obj.timings or {}).items()) or "–"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:pk>/review/",
                self.admin_site.admin_view(self.review_view),
                name="%s_%s_review" % info,
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            duplicate = None
            if obj.duplicate_of_id:
                duplicate = (
                    KycSubmission.objects.filter(
                        participant_id=obj.duplicate_of_id, status=KycSubmission.Status.VERIFIED
                    )
                    .select_related("participant")
                    .first()
                )
            context.update(
                case=obj,
                duplicate=duplicate,
                can_review=obj.status == KycSubmission.Status.NEEDS_REVIEW
                and request.user.has_perm("kyc.review_kycsubmission"),
                review_form=context.get("review_form") or ReviewForm(),
                review_url=reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_review", args=[obj.pk]),
                flag_text=self.flag_list(obj),
                flag_lines=[str(dict(KycSubmission.Flag.choices).get(f, f)) for f in obj.flags],
                liveness_rows=[
                    {**row, "label": liveness.INSTRUCTIONS.get(row.get("action"), row.get("action"))}
                    for row in (obj.liveness or {}).get("actions", [])
                ],
                liveness_reason=reason_text((obj.liveness or {}).get("reason_code", "")),
                match_threshold=settings.KYC_MATCH_THRESHOLD,
                reject_threshold=settings.KYC_REJECT_THRESHOLD,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def review_view(self, request, pk):
        if request.method != "POST":
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", pk)
        if not request.user.has_perm("kyc.review_kycsubmission"):
            raise PermissionDenied
        submission = get_object_or_404(KycSubmission, pk=pk)
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                kyc_review(
                    submission=submission,
                    reviewer=request.user,
                    approve=form.cleaned_data["decision"] == "approve",
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Decision recorded; the participant is told by email."))
                return redirect("admin:kyc_kycreviewcase_changelist")
        else:
            messages.error(request, _("Choose a decision and write the reason."))
        if not self.get_queryset(request).filter(pk=pk).exists():
            # Decided meanwhile (another tab, another reviewer): the queue, with the message.
            return redirect("admin:kyc_kycreviewcase_changelist")
        return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", pk)


@admin.register(KycReviewCase)
class KycReviewQueueAdmin(KycSubmissionAdmin):
    """Cases waiting for a reviewer, oldest first."""

    list_filter = ["attempt"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=KycSubmission.Status.NEEDS_REVIEW)


@admin.register(RegistryImport)
class RegistryImportAdmin(admin.ModelAdmin):
    inlines = [EventsInline]
    list_display = ["source", "status", "record_count", "skipped_count", "imported_by", "imported_at"]
    list_filter = ["status"]
    fields = ["source", "status", "error", "record_count", "skipped_count", "imported_by", "imported_at"]
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="kyc_registryimport_import"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:kyc_registryimport_import")

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RegistryImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                extract = registry_extract_upload(
                    source=form.cleaned_data["source"], csv_file=form.cleaned_data["file"], imported_by=request.user
                )
            except ValidationError as exc:
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _("%(list)s was accepted and is being imported; its status shows when it is ready.")
                    % {"list": extract},
                )
                return redirect("admin:kyc_registryimport_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import a population registry extract"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/import_csv.html", context)


@admin.register(KycPhotoLog)
class KycPhotoLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "photo", "submission", "by"]
    list_filter = ["action"]
    list_select_related = ["submission", "by"]

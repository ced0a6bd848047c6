"""Waves, cards and purchases in admin. Waves are set up here and their
lottery run from here; the rest is read-only, changed only by the services."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kyc.forms import ReviewForm
from kyc.models import KycSubmission
from prakerja.admin import EditHistoryMixin, EventsInline, ReadOnlyAdmin, rupiah, rupiah_column
from prakerja.lifecycle import record_change

from .models import (
    AttendanceCheck,
    Card,
    CourseReview,
    Enrollment,
    PlatformNotice,
    Wave,
    WaveApplication,
    WaveProvinceQuota,
)
from .services import waves
from .services.purchases import voucher_display
from .services.waves import wave_check_drawable, wave_open, wave_verify_draw
from .tasks import issue_wave_cards, run_wave_draw


class ProvinceQuotaFormSet(BaseInlineFormSet):
    """Province quotas that add up to more than the wave's quota are refused
    here with a message (and by the database, whatever writes them)."""

    def clean(self):
        super().clean()
        total = sum(
            form.cleaned_data.get("quota") or 0
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        )
        quota = self.instance.quota
        if quota is not None and total > quota:
            raise ValidationError(
                _("The province quotas add up to %(total)s, more than the wave's quota of %(quota)s.")
                % {"total": total, "quota": quota},
                code="quota_sum",
            )


class ProvinceQuotaInline(admin.TabularInline):
    model = WaveProvinceQuota
    formset = ProvinceQuotaFormSet
    extra = 0

    def _editable(self, obj):
        # Fixed once a second officer approved the rules by opening the wave.
        return obj is None or obj.status == Wave.Status.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(Wave)
class WaveAdmin(EditHistoryMixin, admin.ModelAdmin):
    list_display = ["number", "status", "opens_at", "closes_at", "quota", "applicants", "selected", "drawn_at"]
    list_filter = ["status"]
    inlines = [ProvinceQuotaInline, EventsInline]
    readonly_fields = ["status", "draw_seed", "drawn_at", "drawn_by", "actions_links"]
    fieldsets = [
        (None, {"fields": ["number", "status", "opens_at", "closes_at", "quota", "actions_links"]}),
        (
            gettext_lazy("Programme rules of this wave"),
            {
                "fields": [
                    "training_balance",
                    "purchase_deadline_days",
                    "reminder_days_before",
                    "voucher_valid_days",
                    "incentive_monthly_amount",
                    "incentive_months",
                    "survey_incentive_amount",
                    "survey_count",
                    "attendance_rule",
                    "max_monthly_wage",
                    "wage_rule",
                    "pupils_ineligible",
                ]
            },
        ),
        (gettext_lazy("Selection"), {"fields": ["draw_seed", "drawn_at", "drawn_by"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_applicants=Count("applications", filter=~Q(applications__status="withdrawn")),
                n_selected=Count("applications", filter=Q(applications__status="selected")),
            )
        )

    @admin.display(description=gettext_lazy("applicants"), ordering="n_applicants")
    def applicants(self, obj):
        return obj.n_applicants

    @admin.display(description=gettext_lazy("selected"), ordering="n_selected")
    def selected(self, obj):
        return obj.n_selected

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status != Wave.Status.DRAFT:
            # Approved when the wave opened: the lottery and the cards use
            # the rules as they were approved.
            fields += [f.name for f in Wave._meta.fields if f.editable and f.name not in fields]
        return fields

    def save_formset(self, request, form, formset, change):
        """Province quotas are rules too: who changed them is in the wave's
        history, so they cannot approve the wave afterwards."""
        if formset.model is not WaveProvinceQuota:
            return super().save_formset(request, form, formset, change)
        wave = form.instance
        before = {q.province_code: q.quota for q in wave.province_quotas.all()} if change else {}
        super().save_formset(request, form, formset, change)
        after = {q.province_code: q.quota for q in wave.province_quotas.all()}
        if before != after:
            record_change(wave, "province quotas", by=request.user, before=before, after=after)
        return None

    def edit_service(self, request, obj, fields):
        # Only the fields of the form, under a lock, never over a drawn wave
        # (the lottery may have run while the form was open); recorded.
        return waves.wave_rules_save(wave=obj, fields=fields, by=request.user)

    @admin.display(description=gettext_lazy("actions"))
    def actions_links(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        if obj.status == Wave.Status.DRAFT:
            url = reverse("admin:enrollment_wave_open", args=[obj.pk])
            return format_html(
                '<a class="button" href="{}">{}</a> {}',
                url,
                _("Approve the rules and open registration"),
                _("(a PMO finance checker who did not set the rules)"),
            )
        if obj.status == Wave.Status.OPEN:
            url = reverse("admin:enrollment_wave_draw", args=[obj.pk])
            return format_html('<a class="button" href="{}">{}</a>', url, _("Run the selection lottery"))
        url = reverse("admin:enrollment_wave_verify", args=[obj.pk])
        verify = format_html('<a class="button" href="{}">{}</a>', url, _("Re-run the lottery to check it"))
        selected = obj.applications.filter(status=WaveApplication.Status.SELECTED).count()
        issued = obj.cards.count()
        cards_line = _("%(issued)s of %(selected)s cards issued.") % {"issued": issued, "selected": selected}
        if issued >= selected:
            return format_html("{} <p>{}</p>", verify, cards_line)
        url = reverse("admin:enrollment_wave_issue_cards", args=[obj.pk])
        return format_html(
            '{} <p id="cards-issued">{} {}</p><a class="button" id="issue-cards" href="{}">{}</a>',
            verify,
            cards_line,
            _("Issuing runs in the background; reload to follow it. If it stopped, issue the remaining cards."),
            url,
            _("Issue the remaining cards"),
        )

    def get_urls(self):
        return [
            path("<int:pk>/open/", self.admin_site.admin_view(self.open_view), name="enrollment_wave_open"),
            path("<int:pk>/draw/", self.admin_site.admin_view(self.draw_view), name="enrollment_wave_draw"),
            path("<int:pk>/verify/", self.admin_site.admin_view(self.verify_view), name="enrollment_wave_verify"),
            path(
                "<int:pk>/issue-cards/",
                self.admin_site.admin_view(self.issue_cards_view),
                name="enrollment_wave_issue_cards",
            ),
            *super().get_urls(),
        ]

    def _confirm(self, request, wave, *, title, action, summary, digest=""):
        return TemplateResponse(
            request,
            "admin/enrollment/wave_confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "wave": wave,
                "title": title,
                "action": action,
                "summary": summary,
                "digest": digest,
            },
        )

    def open_view(self, request, pk):
        wave = get_object_or_404(Wave, pk=pk)
        if not request.user.has_perm("enrollment.open_wave"):
            messages.error(
                request,
                _("A PMO finance checker who did not set the rules approves them and opens the wave; ask one."),
            )
            return redirect("admin:enrollment_wave_change", pk)
        if request.method != "POST":
            return self._confirm(
                request,
                wave,
                title=_("Open registration of %(wave)s") % {"wave": wave},
                digest=waves.wave_rules_digest(wave),
                action=_("Open registration"),
                summary=[
                    _("You approve the rules of this wave as the page shows them; they are fixed from now on."),
                    _("Participants can apply from %(opens)s until %(closes)s.") % _window(wave),
                    _("Quota %(quota)s; province quotas: %(quotas)s.")
                    % {
                        "quota": wave.quota,
                        "quotas": ", ".join(str(q) for q in wave.province_quotas.all()) or _("none"),
                    },
                ],
            )
        try:
            wave_open(wave=wave, by=request.user, seen=request.POST.get("rules") or None)
        except PermissionDenied:
            messages.error(request, _("Only a PMO finance checker approves the rules and opens a wave."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("The rules of %(wave)s are approved and its registration is open.") % {"wave": wave}
            )
        return redirect("admin:enrollment_wave_change", pk)

    def draw_view(self, request, pk):
        if not request.user.has_perm("enrollment.draw_wave"):
            raise PermissionDenied
        wave = get_object_or_404(Wave, pk=pk)
        if request.method != "POST":
            applicants = wave.applications.filter(status=WaveApplication.Status.APPLIED).count()
            quotas = ", ".join(str(q) for q in wave.province_quotas.all())
            return self._confirm(
                request,
                wave,
                title=_("Run the selection lottery of %(wave)s") % {"wave": wave},
                action=_("Run the lottery now"),
                summary=[
                    _("%(n)s applications take part; the quota is %(quota)s.") % {"n": applicants, "quota": wave.quota},
                    _("Province quotas: %(quotas)s.") % {"quotas": quotas or _("none")},
                    _("The lottery runs once and cannot be undone. Its seed is recorded so anyone can re-run it."),
                ],
            )
        try:
            wave_check_drawable(wave=wave)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            wave_id, user_id = wave.pk, request.user.pk
            transaction.on_commit(lambda: run_wave_draw.delay(wave_id, user_id))
            queued = _(
                "The selection of %(wave)s is running in the background; this page shows its seed when it is "
                "done. Cards and emails follow."
            )
            messages.success(request, queued % {"wave": wave})
        return redirect("admin:enrollment_wave_change", pk)

    def issue_cards_view(self, request, pk):
        """Queues the issuing of the cards a drawn wave's selected
        applicants do not have yet (the chunks skip those already issued,
        so pressing it while issuing runs issues nothing twice)."""
        if not request.user.has_perm("enrollment.draw_wave"):
            raise PermissionDenied
        wave = get_object_or_404(Wave, pk=pk)
        if wave.status != Wave.Status.DRAWN:
            messages.error(request, _("Cards are issued after the selection lottery has run."))
            return redirect("admin:enrollment_wave_change", pk)
        missing = wave.applications.filter(status=WaveApplication.Status.SELECTED, participant__card__isnull=True)
        if request.method != "POST":
            return self._confirm(
                request,
                wave,
                title=_("Issue the remaining cards of %(wave)s") % {"wave": wave},
                action=_("Issue the cards"),
                summary=[
                    _("%(n)s selected participants have no card yet.") % {"n": missing.count()},
                    _("Each card is issued once, with the wave's training balance, whatever is already running."),
                ],
            )
        wave_id = wave.pk
        transaction.on_commit(lambda: issue_wave_cards.delay(wave_id))
        messages.success(
            request,
            _("The remaining cards of %(wave)s are being issued in the background; reload this page to follow it.")
            % {"wave": wave},
        )
        return redirect("admin:enrollment_wave_change", pk)

    def verify_view(self, request, pk):
        wave = get_object_or_404(Wave, pk=pk)
        if not self.has_view_permission(request, wave):
            raise PermissionDenied
        problems = wave_verify_draw(wave=wave)
        if problems:
            messages.error(request, _("The recorded selection differs from a re-run:") + " " + " ".join(problems[:20]))
        else:
            messages.success(request, _("Re-running the lottery from its seed gives the recorded result."))
        return redirect("admin:enrollment_wave_change", pk)


def _window(wave):
    from django.utils import formats

    return {
        "opens": formats.date_format(timezone.localtime(wave.opens_at), "DATETIME_FORMAT"),
        "closes": formats.date_format(timezone.localtime(wave.closes_at), "DATETIME_FORMAT"),
    }


@admin.register(WaveApplication)
class WaveApplicationAdmin(ReadOnlyAdmin):
    inlines = [EventsInline]
    list_display = ["participant", "wave", "status", "province_code", "draw_position", "applied_at"]
    list_filter = ["wave", "status", "province_code"]
    list_select_related = ["participant", "wave"]
    raw_id_fields = ["participant"]
    ordering = ["wave", "draw_position", "id"]


@admin.register(Card)
class CardAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "participant", "wave", "status", "balance", "purchase_deadline"]
    list_filter = ["status", "wave"]
    list_select_related = ["participant", "wave", "account"]
    raw_id_fields = ["participant"]
    inlines = [EventsInline]

    @admin.display(description=gettext_lazy("balance"))
    def balance(self, obj):
        return rupiah(obj.account.available)


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "participant",
        "course",
        "institution",
        "platform",
        "price_rp",
        "commission_rp",
        "status",
        "created_at",
    ]
    price_rp = rupiah_column("price", gettext_lazy("price"))
    commission_rp = rupiah_column("commission", gettext_lazy("platform commission"))
    list_filter = ["status", "platform", "decline_code"]
    list_select_related = ["participant", "course__published_revision", "institution", "platform"]
    search_fields = ["voucher_code"]
    date_hierarchy = "created_at"
    exclude = ["voucher_code", "certificate"]
    readonly_fields = ["voucher", "certificate_link"]
    inlines = [EventsInline]

    @admin.display(description=gettext_lazy("voucher code"))
    def voucher(self, obj):
        return voucher_display(obj.voucher_code) if obj.voucher_code else "-"

    @admin.display(description=gettext_lazy("certificate"))
    def certificate_link(self, obj):
        if not obj.certificate:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("enrollment:certificate", args=[obj.pk]), _("Download"))


@admin.register(PlatformNotice)
class PlatformNoticeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "platform", "enrollment", "event"]
    list_filter = ["platform", "event"]
    list_select_related = ["platform", "enrollment__course__published_revision"]


@admin.register(CourseReview)
class CourseReviewAdmin(ReadOnlyAdmin):
    list_display = ["course", "rating", "created_at"]
    list_filter = ["rating"]
    list_select_related = ["course__published_revision"]


@admin.register(AttendanceCheck)
class AttendanceCheckAdmin(ReadOnlyAdmin):
    """Every attendance check; those waiting for a reviewer (photos without
    the camera check, a borderline match) are decided on their page."""

    change_form_template = "admin/enrollment/attendance_check.html"
    list_display = ["__str__", "enrollment", "session", "status", "distance", "created_at"]
    list_filter = ["status"]
    list_select_related = ["enrollment__participant", "session"]
    search_fields = ["enrollment__participant__full_name"]
    fields = [
        "enrollment",
        "session",
        "status",
        "distance",
        "flag_text",
        "liveness_text",
        "reason",
        "link_expires_at",
        "opened_at",
        "decided_by",
        "decided_at",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [EventsInline]

    @admin.display(description=gettext_lazy("flags"))
    def flag_text(self, obj):
        labels = dict(AttendanceCheck.Flag.choices)
        return ", ".join(str(labels.get(f, f)) for f in obj.flags) or "–"

    @admin.display(description=gettext_lazy("liveness"))
    def liveness_text(self, obj):
        if not obj.liveness:
            return gettext_lazy("No liveness: a photo was sent.") if obj.selfie else "–"
        return "; ".join(
            f"{a['action']}: {'ok' if a['passed'] else 'missing'} ({a['frames']} frames)"
            for a in obj.liveness["actions"]
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/review/",
                self.admin_site.admin_view(self.review_view),
                name="enrollment_attendancecheck_review",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            accepted = (
                KycSubmission.objects.filter(participant_id=obj.enrollment.participant_id, status="verified")
                .order_by("-decided_at")
                .first()
            )
            context.update(
                check=obj,
                accepted=accepted,
                can_review=obj.status == AttendanceCheck.Status.NEEDS_REVIEW
                and request.user.has_perm("enrollment.review_attendancecheck"),
                review_form=ReviewForm(),
                review_url=reverse("admin:enrollment_attendancecheck_review", args=[obj.pk]),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def review_view(self, request, pk):
        from .services.attendance import attendance_review

        if request.method != "POST":
            return redirect("admin:enrollment_attendancecheck_change", pk)
        check = get_object_or_404(AttendanceCheck, pk=pk)
        form = ReviewForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a decision and write the reason."))
            return redirect("admin:enrollment_attendancecheck_change", pk)
        try:
            attendance_review(
                check=check,
                reviewer=request.user,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
            )
        except PermissionDenied:
            raise
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("admin:enrollment_attendancecheck_change", pk)
        messages.success(request, _("Decision recorded; the institution is told."))
        return redirect("admin:enrollment_attendancecheck_changelist")

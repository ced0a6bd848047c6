"""Django admin: partners for PMO staff, curation queues for the curators."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from prakerja.admin import EditHistoryMixin, EventsInline, GuardedFieldsMixin, ReadOnlyAdmin, rupiah_column
from prakerja.inputs import parse_id
from prakerja.web import apply_errors

from .credentials import ROTATION_OVERLAP, api_key_issue, api_key_revoke
from .models import (
    CONTENT_FIELDS,
    INSTITUTION_PAYEE_FIELDS,
    PLATFORM_PAYEE_FIELDS,
    Affiliation,
    ApiClient,
    ApiKey,
    Course,
    CourseRevision,
    CourseSession,
    CurationDecision,
    Institution,
    PayeeChange,
    Platform,
    RevisionStatus,
    Stage1Queue,
    Stage2Queue,
)
from .services import (
    CRITERIA,
    course_set_suspended,
    institution_set_suspended,
    payee_change_decide,
    payee_change_request,
    payee_change_withdraw,
    payee_details,
    revision_decide,
)


class PayeeDetailsMixin:
    """The payee's page shows where its money goes, read only, with the
    change waiting for approval if there is one, and a link to request one."""

    @admin.display(description=gettext_lazy("Change of bank details"))
    def payee_change(self, obj):
        if obj is None or obj.pk is None:
            return _("Save first; then a PMO finance maker requests the bank details and a checker approves them.")
        kind = obj._meta.model_name
        pending = PayeeChange.objects.filter(**{kind: obj}, status=PayeeChange.Status.PENDING).first()
        if pending is not None:
            return format_html(
                '<a href="{}">{}</a>',
                reverse("admin:catalog_payeechange_change", args=[pending.pk]),
                _("A change waits for approval (requested by %(who)s). Until then the details above are paid to.")
                % {"who": pending.requested_by},
            )
        return format_html(
            '<a class="button" href="{}?{}={}">{}</a>',
            reverse("admin:catalog_payeechange_add"),
            kind,
            obj.pk,
            _("Request a change of the bank details"),
        )

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "payee_change"]


class AffiliationInline(admin.TabularInline):
    """What the institution or platform declared on its page, read only."""

    model = Affiliation
    extra = 0
    can_delete = False
    fields = [
        "name",
        "relation",
        "party_kind",
        "party_masked",
        "share_percent",
        "declared_by",
        "declared_at",
        "withdrawn_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ConflictScanMixin:
    """A company number (NIB) set or changed here is checked at once: a
    listing it makes a conflict of interest is suspended with a case."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "nib" in form.changed_data and obj.nib:
            from integrity.services.conflicts import conflicts_scan

            scope = "platform_ids" if isinstance(obj, Platform) else "institution_ids"
            found = conflicts_scan(**{scope: [obj.pk]}, stage="declaration")
            if found:
                messages.warning(
                    request,
                    _("%(count)d listing(s) are in conflict of interest: suspended, each with an integrity case.")
                    % {"count": len(found)},
                )


@admin.register(Platform)
class PlatformAdmin(ConflictScanMixin, PayeeDetailsMixin, GuardedFieldsMixin, EditHistoryMixin, admin.ModelAdmin):
    members_fields = ("staff",)
    admin_only_fields = ("staff",)
    money_fields = PLATFORM_PAYEE_FIELDS
    inlines = [AffiliationInline, EventsInline]
    list_display = ["name", "payout_route", "is_active", "contact_name", "contact_email"]
    list_filter = ["payout_route", "is_active"]
    search_fields = ["name"]


@admin.register(Institution)
class InstitutionAdmin(ConflictScanMixin, PayeeDetailsMixin, GuardedFieldsMixin, EditHistoryMixin, admin.ModelAdmin):
    members_fields = ("staff", "platforms")
    admin_only_fields = ("staff",)
    money_fields = INSTITUTION_PAYEE_FIELDS
    inlines = [AffiliationInline, EventsInline]
    list_display = ["name", "kind", "province_code", "accreditation_valid_until", "is_suspended"]
    list_filter = ["kind", "is_suspended", "province_code", "platforms"]
    search_fields = ["name", "accreditation_number"]
    filter_horizontal = ["platforms", "staff"]
    readonly_fields = ["is_suspended", "suspended_reason"]
    actions = ["suspend", "lift_suspension"]

    def _suspend(self, request, queryset, suspended: bool):
        if suspended and "apply" not in request.POST:
            context = {
                **self.admin_site.each_context(request),
                "title": _("Suspend selected institutions"),
                "form": ReasonForm(),
                "queryset": queryset,
                "action": request.POST.get("action"),
                "opts": self.opts,
            }
            return TemplateResponse(request, "admin/catalog/bulk_decision.html", context)
        for institution in queryset:
            try:
                institution_set_suspended(
                    institution=institution, suspended=suspended, reason=request.POST.get("reason", ""), by=request.user
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return None
            except PermissionDenied:
                messages.error(request, _("You may not suspend institutions."))
                return None
        messages.success(request, _("Done."))
        return None

    @admin.action(description=gettext_lazy("Suspend: take all their courses off sale"))
    def suspend(self, request, queryset):
        return self._suspend(request, queryset, True)

    @admin.action(description=gettext_lazy("Lift the suspension"))
    def lift_suspension(self, request, queryset):
        return self._suspend(request, queryset, False)


class DecisionInline(admin.TabularInline):
    model = CurationDecision
    fields = ["decided_at", "stage", "approved", "checklist", "reason", "decided_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class SessionInline(admin.TabularInline):
    """The version's sessions and post-test: curated with its content."""

    model = CourseSession
    fields = ["sequence", "kind", "title", "starts_at", "ends_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=500
    )


def _decision_form(stage: int):
    fields = {key: forms.BooleanField(label=label, required=False) for key, label in CRITERIA[stage].items()}
    fields["reason"] = forms.CharField(
        label=gettext_lazy("Reason (the institution reads it)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )
    return type(f"Stage{stage}DecisionForm", (forms.Form,), fields)


class _QueueAdmin(ReadOnlyAdmin):
    """A curation queue: versions waiting at one stage, oldest first."""

    stage = 0
    waiting_status = ""
    order_field = ""
    change_form_template = "admin/catalog/curation.html"
    list_display = ["title", "institution", "platform", "price_rp", "delivery_mode", "waiting_since"]
    price_rp = rupiah_column("price", gettext_lazy("price"))
    list_select_related = ["course__institution", "course__platform"]
    search_fields = ["title", "course__institution__name"]
    inlines = [SessionInline, DecisionInline, EventsInline]
    actions = ["approve_selected", "reject_selected"]
    fields = [*CONTENT_FIELDS, "number"]
    readonly_fields = fields

    @property
    def permission(self) -> str:
        return f"catalog.curate_stage{self.stage}"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=self.waiting_status).order_by(self.order_field, "id")

    @admin.display(description=gettext_lazy("institution"))
    def institution(self, obj):
        return obj.course.institution

    @admin.display(description=gettext_lazy("platform"))
    def platform(self, obj):
        return obj.course.platform

    @admin.display(description=gettext_lazy("waiting since"))
    def waiting_since(self, obj):
        return getattr(obj, self.order_field)

    def has_module_permission(self, request):
        return request.user.has_perm(self.permission)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(self.permission)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view), name="%s_%s_decide" % info),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(
                revision=obj,
                course=obj.course,
                decision_form=_decision_form(self.stage)(),
                decide_url=reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_decide", args=[obj.pk]),
                stage=self.stage,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _decide(self, request, revision, approve, data) -> bool:
        try:
            revision_decide(
                revision=revision,
                stage=self.stage,
                approve=approve,
                checklist={key: data.get(key) for key in CRITERIA[self.stage]},
                reason=data.get("reason", ""),
                by=request.user,
            )
        except ValidationError as exc:
            messages.error(request, f"{revision}: " + " ".join(exc.messages))
            return False
        return True

    def decide_view(self, request, pk):
        if not request.user.has_perm(self.permission):
            raise PermissionDenied
        revision = get_object_or_404(CourseRevision, pk=pk)
        changelist = f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
        if request.method != "POST":
            return redirect(changelist)
        form = _decision_form(self.stage)(request.POST)
        form.is_valid()
        approve = request.POST.get("decision") == "approve"
        if self._decide(request, revision, approve, form.cleaned_data):
            messages.success(request, _("Decision recorded."))
            return redirect(changelist)
        if not self.get_queryset(request).filter(pk=pk).exists():
            # Decided meanwhile (another tab, another curator): the queue, with the message.
            return redirect(changelist)
        return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", pk)

    def _bulk(self, request, queryset, approve: bool):
        """Asks for the checklist and reason once, then decides each version
        separately; every decision is recorded on its own."""
        form_class = _decision_form(self.stage)
        if "apply" in request.POST:
            form = form_class(request.POST)
            form.is_valid()
            done = sum(self._decide(request, revision, approve, form.cleaned_data) for revision in queryset)
            if done:
                messages.success(request, _("%(n)d decisions recorded.") % {"n": done})
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Approve selected versions") if approve else _("Reject selected versions"),
            "form": form_class(),
            "queryset": queryset,
            "action": request.POST.get("action"),
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/catalog/bulk_decision.html", context)

    @admin.action(description=gettext_lazy("Approve selected"))
    def approve_selected(self, request, queryset):
        return self._bulk(request, queryset, approve=True)

    @admin.action(description=gettext_lazy("Reject selected"))
    def reject_selected(self, request, queryset):
        return self._bulk(request, queryset, approve=False)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm(self.permission):
            return {}
        return actions


@admin.register(Stage1Queue)
class Stage1QueueAdmin(_QueueAdmin):
    stage = 1
    waiting_status = RevisionStatus.SUBMITTED
    order_field = "submitted_at"


@admin.register(Stage2Queue)
class Stage2QueueAdmin(_QueueAdmin):
    stage = 2
    waiting_status = RevisionStatus.STAGE1_APPROVED
    order_field = "stage1_at"


class VersionInline(admin.TabularInline):
    model = CourseRevision
    fields = ["number", "status", "title", "price", "submitted_at", "stage1_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True  # to the version's decisions and history

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CourseRevision)
class CourseRevisionAdmin(ReadOnlyAdmin):
    """Every course version, read-only, with its curation decisions and
    status history (the PMO's view of a course's past)."""

    list_display = ["title", "number", "status", "price_rp", "submitted_at"]
    price_rp = rupiah_column("price", gettext_lazy("price"))
    list_filter = ["status"]
    search_fields = ["title", "course__institution__name"]
    fields = _QueueAdmin.fields
    readonly_fields = fields
    inlines = [SessionInline, DecisionInline, EventsInline]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    """Every course and its versions; the PMO can suspend a published one."""

    list_display = ["__str__", "institution", "platform", "published_at", "is_suspended"]
    list_filter = ["is_suspended", "platform", "institution__kind"]
    list_select_related = ["institution", "platform", "published_revision"]
    search_fields = ["revisions__title", "institution__name"]
    fields = ["institution", "platform", "published_revision", "published_at", "is_suspended", "suspended_reason"]
    readonly_fields = fields
    inlines = [VersionInline, EventsInline]
    actions = ["suspend", "lift_suspension"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def _suspend(self, request, queryset, suspended: bool):
        if not request.user.has_perm("catalog.suspend_course"):
            raise PermissionDenied
        if suspended and "apply" not in request.POST:
            context = {
                **self.admin_site.each_context(request),
                "title": _("Suspend selected courses"),
                "form": ReasonForm(),
                "queryset": queryset,
                "action": request.POST.get("action"),
                "opts": self.opts,
            }
            return TemplateResponse(request, "admin/catalog/bulk_decision.html", context)
        reason = request.POST.get("reason", "")
        for course in queryset:
            try:
                course_set_suspended(course=course, suspended=suspended, reason=reason, by=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return None
        messages.success(request, _("Done."))
        return None

    @admin.action(description=gettext_lazy("Suspend: take off sale"))
    def suspend(self, request, queryset):
        return self._suspend(request, queryset, True)

    @admin.action(description=gettext_lazy("Lift the suspension"))
    def lift_suspension(self, request, queryset):
        return self._suspend(request, queryset, False)


class PayeeChangeForm(forms.Form):
    """The details a finance maker asks for, with why."""

    def __init__(self, *args, payee, **kwargs):
        super().__init__(*args, **kwargs)
        for name in INSTITUTION_PAYEE_FIELDS if isinstance(payee, Institution) else PLATFORM_PAYEE_FIELDS:
            field = payee._meta.get_field(name)
            self.fields[name] = field.formfield(required=False)
            self.initial[name] = getattr(payee, name)
        self.fields["note"] = forms.CharField(
            label=gettext_lazy("Why, and who asked for it"),
            max_length=500,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=gettext_lazy(
                "For example: the institution's letter of 2 December asking to move to its BNI account."
            ),
        )


class DecideChangeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (needed to reject)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@admin.register(PayeeChange)
class PayeeChangeAdmin(admin.ModelAdmin):
    """Changes of where a payee's money goes: a finance maker requests one
    from the payee's page, another finance officer approves or rejects it."""

    inlines = [EventsInline]
    list_display = ["__str__", "status", "requested_by", "requested_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["institution", "platform", "requested_by", "decided_by"]
    fields = [
        "payee_link",
        "status",
        "comparison",
        "note",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_reason",
    ]
    readonly_fields = fields
    change_form_template = "admin/catalog/payeechange/change_form.html"

    def has_add_permission(self, request):
        return request.user.has_perm("catalog.add_payeechange")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("payee"))
    def payee_link(self, obj):
        payee = obj.payee
        url = reverse(f"admin:catalog_{payee._meta.model_name}_change", args=[payee.pk])
        return format_html('<a href="{}">{}</a>', url, payee)

    @admin.display(description=gettext_lazy("details: now → asked for"))
    def comparison(self, obj):
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            (
                (type(obj.payee)._meta.get_field(name).verbose_name, obj.before.get(name, ""), value)
                for name, value in obj.after.items()
            ),
        )
        return format_html('<table class="comparison"><tbody>{}</tbody></table>', rows)

    def get_urls(self):
        return [
            path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view), name="catalog_payeechange_decide"),
            path(
                "<int:pk>/withdraw/",
                self.admin_site.admin_view(self.withdraw_view),
                name="catalog_payeechange_withdraw",
            ),
            *super().get_urls(),
        ]

    def _payee(self, request):
        for kind, model in (("institution", Institution), ("platform", Platform)):
            pk = parse_id(request.GET.get(kind))
            if pk is not None:
                return get_object_or_404(model, pk=pk)
        return None

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        payee = self._payee(request)
        if payee is None:
            messages.info(request, _("Open the institution or platform and request the change from its page."))
            return redirect("admin:catalog_institution_changelist")
        form = PayeeChangeForm(request.POST or None, payee=payee)
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            note = data.pop("note")
            try:
                change = payee_change_request(payee=payee, details=data, note=note, by=request.user)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, _("The change is requested. It takes effect once another finance officer approves it.")
                )
                return redirect("admin:catalog_payeechange_change", change.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Request a change of the bank details of %(payee)s") % {"payee": payee},
            "form": form,
            "payee": payee,
            "now": payee_details(payee),
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/catalog/payeechange/request.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        change = get_object_or_404(PayeeChange, pk=parse_id(object_id) or 0)
        pending = change.status == PayeeChange.Status.PENDING
        extra_context = {
            **(extra_context or {}),
            "payee_change": change,
            "can_decide": pending
            and request.user.has_perm("catalog.approve_payeechange")
            and change.requested_by_id != request.user.pk,
            "is_requester_waiting": pending and change.requested_by_id == request.user.pk,
            "can_withdraw": pending and request.user.has_perm("catalog.add_payeechange"),
            "decide_form": DecideChangeForm(),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, pk):
        get_object_or_404(PayeeChange, pk=pk)
        decision = request.POST.get("decision")
        if request.method != "POST" or decision not in ("approve", "reject"):
            return redirect("admin:catalog_payeechange_change", pk)
        form = DecideChangeForm(request.POST)
        approve = decision == "approve"
        try:
            if not form.is_valid():
                raise ValidationError(form.errors["reason"])
            payee_change_decide(change_id=pk, approve=approve, reason=form.cleaned_data["reason"], by=request.user)
        except PermissionDenied:
            messages.error(request, _("Only a PMO finance checker approves or rejects a change of bank details."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("Approved: the payee's details are changed and its staff told by email.")
                if approve
                else _("Rejected: the payee's details stay as they were."),
            )
        return redirect("admin:catalog_payeechange_change", pk)

    def withdraw_view(self, request, pk):
        get_object_or_404(PayeeChange, pk=pk)
        if request.method == "POST":
            try:
                payee_change_withdraw(change_id=pk, by=request.user)
            except PermissionDenied:
                messages.error(request, _("Only a PMO finance maker withdraws a change of bank details."))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("The change is withdrawn."))
        return redirect("admin:catalog_payeechange_change", pk)


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ["hint", "created_at", "created_by", "valid_until", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Partner API credentials: a client code per platform or institution,
    and signing keys issued here, shown once."""

    inlines = [ApiKeyInline, EventsInline]
    list_display = ["code", "platform", "institution", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["code", "platform__name", "institution__name"]
    fields = ["code", "platform", "institution", "is_active"]
    change_form_template = "admin/catalog/apiclient/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        return ["code", "platform", "institution"] if obj is not None else []

    def get_urls(self):
        return [
            path("<int:pk>/issue/", self.admin_site.admin_view(self.issue_view), name="catalog_apiclient_issue"),
            path(
                "<int:pk>/revoke/<int:key_id>/",
                self.admin_site.admin_view(self.revoke_view),
                name="catalog_apiclient_revoke",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        client = get_object_or_404(ApiClient, pk=parse_id(object_id) or 0)
        extra_context = {
            **(extra_context or {}),
            "api_client": client,
            "can_issue": request.user.has_perm("catalog.add_apikey"),
            "live_keys": [k for k in client.keys.all() if k.usable()],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def issue_view(self, request, pk):
        client = get_object_or_404(ApiClient, pk=pk)
        if request.method != "POST":
            return redirect("admin:catalog_apiclient_change", pk)
        try:
            secret = api_key_issue(client=client, by=request.user)
        except PermissionDenied:
            messages.error(request, _("You may not issue signing keys."))
            return redirect("admin:catalog_apiclient_change", pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("New signing key of %(client)s") % {"client": client.code},
            "client": client,
            "secret": secret,
            "overlap_hours": int(ROTATION_OVERLAP.total_seconds() // 3600),
            "opts": self.opts,
        }
        response = TemplateResponse(request, "admin/catalog/apiclient/issued.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def revoke_view(self, request, pk, key_id):
        key = get_object_or_404(ApiKey, pk=key_id, client_id=pk)
        if request.method == "POST":
            try:
                api_key_revoke(key=key, by=request.user)
            except PermissionDenied:
                messages.error(request, _("You may not revoke signing keys."))
            else:
                messages.success(request, _("The key ending in %(hint)s no longer signs.") % {"hint": key.hint})
        return redirect("admin:catalog_apiclient_change", pk)

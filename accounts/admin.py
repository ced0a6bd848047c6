"""Django admin for PMO staff: participants (masked identity numbers, exact
NIK search through the blind index), exclusion lists, Dinas operators."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters

from prakerja.admin import EditHistoryMixin, EventsInline, ReadOnlyAdmin

from . import crypto
from .forms import ExclusionImportForm
from .models import (
    DinasOperator,
    ExclusionList,
    IdentityAccessLog,
    Participant,
    RegistrationBatch,
    User,
)
from .nik import compact_number, is_sixteen_digits, province_choices
from .roles import PARTICIPANT
from .services.exclusion import exclusion_list_set_active, exclusion_list_upload
from .services.identity import participant_identity_for_staff
from .services.operators import dinas_operator_save
from .services.powers import STAFF_REFUSED, is_participant


class UserChangeForm(BaseUserAdmin.form):
    def clean(self):
        cleaned = super().clean()
        groups = cleaned.get("groups")
        powers = cleaned.get("is_staff") or cleaned.get("is_superuser") or cleaned.get("user_permissions")
        if groups is not None and groups.exclude(name=PARTICIPANT).exists():
            powers = True
        if powers and self.instance.pk and is_participant(self.instance):
            raise ValidationError(STAFF_REFUSED, code="participant_staff")
        return cleaned


class DinasOperatorForm(forms.ModelForm):
    def clean_user(self):
        user = self.cleaned_data["user"]
        if is_participant(user):
            raise ValidationError(STAFF_REFUSED, code="participant_staff")
        return user


@admin.register(User)
class UserAdmin(EditHistoryMixin, BaseUserAdmin):
    members_fields = ("groups",)
    inlines = [EventsInline]
    form = UserChangeForm
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("name",)}),
        (
            gettext_lazy("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (gettext_lazy("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ["last_login", "date_joined"]


class ProvinceFilter(admin.SimpleListFilter):
    title = gettext_lazy("province")
    parameter_name = "province"

    def lookups(self, request, model_admin):
        return province_choices()

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(province_code=self.value())
        return queryset


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdmin):
    """Read-only: a participant changes only through the services."""

    change_list_template = "admin/accounts/participant/change_list.html"
    change_form_template = "admin/accounts/participant/change_form.html"
    list_display = [
        "full_name",
        "masked_nik",
        "province_label",
        "channel",
        "status",
        "phone_verified",
        "created_at",
    ]
    list_filter = [ProvinceFilter, "channel", "status"]
    search_fields = ["full_name", "user__email"]
    search_help_text = gettext_lazy("Name or email. To find a NIK, use the NIK search form above.")
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    inlines = [EventsInline]
    fields = [
        "user",
        "full_name",
        "birth_place",
        "birth_date",
        "gender",
        "phone",
        "phone_verified_at",
        "address",
        "province_label",
        "regency_label",
        "education",
        "employment_status",
        "status",
        "channel",
        "registered_by",
        "registration_batch",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("NIK"))
    def masked_nik(self, obj):
        return obj.masked_nik

    @admin.display(description=gettext_lazy("province"), ordering="province_code")
    def province_label(self, obj):
        return obj.province_name

    @admin.display(description=gettext_lazy("regency or city"))
    def regency_label(self, obj):
        return obj.regency_name

    @admin.display(description=gettext_lazy("mobile verified"), boolean=True)
    def phone_verified(self, obj):
        return obj.phone_verified

    def get_urls(self):
        return [
            path(
                "nik-search/",
                self.admin_site.admin_view(sensitive_post_parameters("nik")(self.nik_search_view)),
                name="accounts_participant_nik_search",
            ),
            *super().get_urls(),
        ]

    def nik_search_view(self, request):
        """Exact NIK search by POST, so the number never appears in a URL."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:accounts_participant_changelist")
        if request.method != "POST":
            return HttpResponseRedirect(changelist)
        number = compact_number(request.POST.get("nik", ""))
        if not is_sixteen_digits(number):
            messages.error(request, _("A NIK has exactly 16 digits."))
            return HttpResponseRedirect(changelist)
        participant = Participant.objects.filter(nik_index=crypto.nik_index(number)).only("pk").first()
        if participant is None:
            messages.info(
                request,
                _("No participant has NIK %(nik)s.") % {"nik": crypto.mask(number)},
            )
            return HttpResponseRedirect(changelist)
        return HttpResponseRedirect(reverse("admin:accounts_participant_change", args=[participant.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["identity"] = participant_identity_for_staff(participant=obj, staff=request.user)
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(ExclusionList)
class ExclusionListAdmin(admin.ModelAdmin):
    inlines = [EventsInline]
    list_display = [
        "kind",
        "source",
        "status",
        "entry_count",
        "skipped_count",
        "is_active",
        "imported_by",
        "imported_at",
    ]
    list_filter = ["kind", "status", "is_active"]
    fields = [
        "kind",
        "source",
        "status",
        "error",
        "is_active",
        "entry_count",
        "skipped_count",
        "imported_by",
        "imported_at",
    ]
    # Read-only: activation goes through the list actions (and their service).
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return False

    actions = ["deactivate", "activate"]

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="accounts_exclusionlist_import",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:accounts_exclusionlist_import")

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ExclusionImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                imported = exclusion_list_upload(
                    kind=form.cleaned_data["kind"],
                    source=form.cleaned_data["source"],
                    csv_file=form.cleaned_data["file"],
                    imported_by=request.user,
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.error_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error("file", exc)
            else:
                messages.success(
                    request,
                    _("%(list)s was accepted and is being imported; its status shows when it is ready.")
                    % {"list": imported},
                )
                return redirect("admin:accounts_exclusionlist_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import an exclusion list"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/import_csv.html", context)

    @admin.action(description=gettext_lazy("Deactivate selected lists"), permissions=["change"])
    def deactivate(self, request, queryset):
        for exclusion_list in queryset:
            exclusion_list_set_active(exclusion_list=exclusion_list, active=False)

    @admin.action(description=gettext_lazy("Activate selected lists"), permissions=["change"])
    def activate(self, request, queryset):
        for exclusion_list in queryset:
            exclusion_list_set_active(exclusion_list=exclusion_list, active=True)


@admin.register(DinasOperator)
class DinasOperatorAdmin(admin.ModelAdmin):
    form = DinasOperatorForm
    list_display = ["user", "office_name", "province_code"]
    list_filter = ["province_code"]
    search_fields = ["user__email", "office_name"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        dinas_operator_save(operator=obj)


@admin.register(RegistrationBatch)
class RegistrationBatchAdmin(admin.ModelAdmin):
    inlines = [EventsInline]
    list_display = [
        "original_name",
        "operator",
        "status",
        "rows_total",
        "rows_registered",
        "rows_refused",
        "created_at",
    ]
    list_filter = ["status"]
    fields = list_display + ["error", "finished_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdentityAccessLog)
class IdentityAccessLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "staff", "participant", "what"]
    list_filter = ["what"]
    list_select_related = ["staff", "participant"]

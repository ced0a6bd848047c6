"""The PMO's case queue and the screening lists, in Django admin."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.csvio import safe_cell
from prakerja.admin import EventsInline, ReadOnlyAdmin

from .evidence import describe, rupiah
from .forms import DecisionForm, ScreeningImportForm
from .models import CASE_TRANSITIONS, Case, ScreeningList, ScreeningRun
from .services.cases import _TARGET, MONEY_DECISIONS, case_decide
from .services.lists import screening_list_set_active, screening_list_upload


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    change_form_template = "admin/integrity/case.html"
    list_display = [
        "__str__",
        "kind",
        "status",
        "participant",
        "institution",
        "stage",
        "held",
        "objected",
        "created_at",
    ]
    list_filter = ["status", "kind", "stage", "holds_money", "screening_run"]
    list_select_related = ["participant", "institution", "course"]
    search_fields = ["=id", "participant__full_name"]
    fields = [
        "kind",
        "status",
        "stage",
        "participant",
        "institution",
        "course",
        "finding",
        "holds_money",
        "held",
        "screening_run",
        "objection",
        "objected_at",
        "decided_by",
        "decided_at",
        "decision_reason",
        "recovered",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [EventsInline]

    @admin.display(description=gettext_lazy("money held or at risk"), ordering="amount_held")
    def held(self, obj):
        return rupiah(obj.amount_held)

    @admin.display(description=gettext_lazy("recovered"))
    def recovered(self, obj):
        return rupiah(obj.recovered_amount)

    @admin.display(description=gettext_lazy("what was found"))
    def finding(self, obj):
        return describe(obj)

    @admin.display(description=gettext_lazy("objection"), boolean=True)
    def objected(self, obj):
        return bool(obj.objected_at)

    def get_urls(self):
        return [
            path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view), name="integrity_case_decide"),
            *super().get_urls(),
        ]

    def _allowed(self, request, case: Case) -> list[str]:
        moves = CASE_TRANSITIONS.get(case.status, frozenset())
        allowed = []
        for decision, target in _TARGET.items():
            if case.participant_id is None and decision in MONEY_DECISIONS:
                continue  # a card is revoked and money recovered only from a participant
            perm = "integrity.recover_case" if decision in MONEY_DECISIONS else "integrity.decide_case"
            if target in moves and request.user.has_perm(perm):
                allowed.append(decision)
        return allowed

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            allowed = self._allowed(request, obj)
            context.update(
                case=obj,
                decision_form=DecisionForm(allowed=allowed) if allowed else None,
                decide_url=reverse("admin:integrity_case_decide", args=[obj.pk]),
            )
            if obj.kind == Case.Kind.LINKED:
                context.update(self._graph(obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def _graph(case: Case) -> dict:
        """The linked group drawn, with its table: members by number and
        masked name, each linked to its own cases."""
        from accounts.models import Participant

        from .graph import kind_label, link_graph_svg, masked_name

        members = case.evidence.get("members", [])
        names = {
            pk: f"#{pk} {masked_name(name)}"
            for pk, name in Participant.objects.filter(pk__in=members).values_list("pk", "full_name")
        }
        rows = [
            {
                "kind": kind_label(link["kind"]),
                "label": link["label"],
                "members": [names.get(pk, f"#{pk}") for pk in link["members"]],
            }
            for link in case.evidence.get("links", [])
        ]
        others = Case.objects.filter(kind=Case.Kind.LINKED, participant_id__in=members).exclude(pk=case.pk)
        return {
            "graph": link_graph_svg(case.evidence, names, focus=case.participant_id),
            "graph_rows": rows,
            "group_cases": list(others.select_related("participant").order_by("pk")),
        }

    def decide_view(self, request, pk):
        if request.method != "POST":
            return redirect("admin:integrity_case_change", pk)
        case = get_object_or_404(Case, pk=pk)
        if not request.user.has_perm("integrity.view_case"):
            raise PermissionDenied
        form = DecisionForm(request.POST, allowed=list(_TARGET))
        if not form.is_valid():
            messages.error(request, _("Choose a decision and write the reason."))
            return redirect("admin:integrity_case_change", pk)
        try:
            case_decide(
                case_id=case.pk,
                by=request.user,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
            )
        except PermissionDenied:
            messages.error(request, _("Your role may not take this decision."))
            return redirect("admin:integrity_case_change", pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("admin:integrity_case_change", pk)
        case.refresh_from_db()
        messages.success(
            request,
            _("%(case)s: %(status)s. The decision is recorded.") % {"case": case, "status": case.get_status_display()},
        )
        return redirect("admin:integrity_case_changelist")


@admin.register(ScreeningRun)
class ScreeningRunAdmin(ReadOnlyAdmin):
    list_display = ["label", "status", "cards_screened", "found_count", "held", "started_at", "finished_at", "report"]
    fields = ["label", "status", "cards_screened", "found_count", "held", "started_at", "finished_at", "report"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("money held (Rp)"))
    def held(self, obj):
        return rupiah(obj.amount_held)

    @admin.display(description=gettext_lazy("report"))
    def report(self, obj):
        cases = reverse("admin:integrity_case_changelist") + f"?screening_run__id__exact={obj.pk}"
        csv = reverse("admin:integrity_screeningrun_report", args=[obj.pk])
        return format_html('<a href="{}">{}</a> · <a href="{}">CSV</a>', cases, _("cases"), csv)

    def get_urls(self):
        return [
            path(
                "<int:pk>/report.csv",
                self.admin_site.admin_view(self.report_view),
                name="integrity_screeningrun_report",
            ),
            *super().get_urls(),
        ]

    def report_view(self, request, pk):
        """Who the re-screen found ineligible and what is held, streamed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(ScreeningRun, pk=pk)
        import csv

        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())
        header = [
            _("case"),
            _("finding"),
            _("participant"),
            _("province"),
            _("status"),
            _("money held (Rp)"),
            _("evidence"),
        ]

        def rows():
            yield writer.writerow(header)
            cases = run.cases.select_related("participant").order_by("pk")
            for case in cases.iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        case.pk,
                        case.get_kind_display(),
                        safe_cell(case.participant),
                        case.participant.province_code if case.participant else "",
                        case.get_status_display(),
                        case.amount_held,
                        safe_cell(describe(case)),
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="rescreen-{run.pk}.csv"'
        return response


@admin.register(ScreeningList)
class ScreeningListAdmin(admin.ModelAdmin):
    inlines = [EventsInline]
    list_display = ["kind", "source", "status", "row_count", "skipped_count", "is_active", "imported_by", "imported_at"]
    list_filter = ["kind", "status", "is_active"]
    fields = [
        "kind",
        "source",
        "status",
        "error",
        "is_active",
        "row_count",
        "skipped_count",
        "imported_by",
        "imported_at",
    ]
    readonly_fields = fields
    actions = ["deactivate", "activate"]

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="integrity_screeninglist_import"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:integrity_screeninglist_import")

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ScreeningImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                imported = screening_list_upload(
                    kind=form.cleaned_data["kind"],
                    source=form.cleaned_data["source"],
                    csv_file=form.cleaned_data["file"],
                    imported_by=request.user,
                )
            except ValidationError as exc:
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _(
                        "%(list)s was accepted and is being imported; every active card is then screened "
                        "against it and the re-screen's report appears under Re-screens."
                    )
                    % {"list": imported},
                )
                return redirect("admin:integrity_screeninglist_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import a wage or education extract"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/import_csv.html", context)

    @admin.action(description=gettext_lazy("Deactivate selected lists"), permissions=["change"])
    def deactivate(self, request, queryset):
        for screening_list in queryset:
            screening_list_set_active(screening_list=screening_list, active=False, by=request.user)

    @admin.action(description=gettext_lazy("Activate selected lists"), permissions=["change"])
    def activate(self, request, queryset):
        for screening_list in queryset:
            screening_list_set_active(screening_list=screening_list, active=True, by=request.user)

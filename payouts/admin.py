"""Payouts in admin: a PMO finance maker prepares a batch and submits it, a
checker who did not prepare it approves or rejects it. Everything else is
read-only, changed only by the services."""

import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.csvio import safe_cell
from prakerja.admin import EventsInline, ReadOnlyAdmin, rupiah, rupiah_column
from prakerja.inputs import check_moment
from prakerja.web import apply_errors

from .models import (
    IncentiveAccount,
    IncentivePayment,
    Payout,
    PayoutBatch,
    PayoutItem,
    PayoutLine,
    SurveyResponse,
)
from .services import batches
from .tasks import reconcile_batch


class BatchForm(forms.Form):
    cutoff = forms.SplitDateTimeField(
        label=gettext_lazy("Completed up to"),
        widget=admin.widgets.AdminSplitDateTime,
        validators=[check_moment],
        help_text=gettext_lazy("Every completed enrolment not yet in a batch, completed by this time, is included."),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(PayoutBatch)
class PayoutBatchAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "cutoff", "total_rp", "payout_count", "enrollment_count", "created_by",
                    "decided_by", "reconciliation_ok"]  # fmt: skip
    list_filter = ["status", "reconciliation_ok"]
    readonly_fields = ["status", "cutoff", "total_amount", "payout_count", "enrollment_count", "created_by",
                       "created_at", "submitted_at", "decided_by", "decided_at", "rejection_reason", "finished_at",
                       "reconciled_at", "reconciliation_ok", "reconciliation_report"]  # fmt: skip
    change_form_template = "admin/payouts/payoutbatch/change_form.html"
    inlines = [EventsInline]

    @admin.display(description=gettext_lazy("total"), ordering="total_amount")
    def total_rp(self, batch):
        return rupiah(batch.total_amount)

    @admin.display(description=gettext_lazy("reconciliation"))
    def reconciliation_report(self, batch):
        """The last reconciliation in words: totals, the gateway's statuses,
        the ledger's movements and every difference found."""
        report = batch.reconciliation or {}
        if not report:
            return _("Not reconciled yet.")
        statuses = ", ".join(f"{status}: {count}" for status, count in (report.get("gateway_statuses") or {}).items())
        lines = [
            _("%(n)s payouts, total %(total)s: succeeded %(ok)s, failed %(failed)s.")
            % {
                "n": report.get("payouts", 0),
                "total": rupiah(report.get("total")),
                "ok": rupiah(report.get("succeeded_amount")),
                "failed": rupiah(report.get("failed_amount")),
            },
            _("Gateway: %(statuses)s.") % {"statuses": statuses or "–"},
            _("Ledger: sent %(sent)s, settled %(settled)s, reversed %(reversed)s.")
            % {
                "sent": rupiah(report.get("ledger_sent")),
                "settled": rupiah(report.get("ledger_settled")),
                "reversed": rupiah(report.get("ledger_reversed")),
            },
        ]
        problems = report.get("problems") or []
        lines.append(
            _("No difference found.")
            if not problems
            else _("%(n)s differences (listed under Decision).") % {"n": len(problems)}
        )
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    def has_add_permission(self, request):
        return request.user.has_perm("payouts.prepare_payoutbatch")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/submit/", view(self.submit_view), name="payouts_payoutbatch_submit"),
            path("<int:pk>/discard/", view(self.discard_view), name="payouts_payoutbatch_discard"),
            path("<int:pk>/approve/", view(self.approve_view), name="payouts_payoutbatch_approve"),
            path("<int:pk>/reject/", view(self.reject_view), name="payouts_payoutbatch_reject"),
            path("<int:pk>/csv/", view(self.csv_view), name="payouts_payoutbatch_csv"),
            path("<int:pk>/reconcile/", view(self.reconcile_view), name="payouts_payoutbatch_reconcile"),
            *super().get_urls(),
        ]

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, **extra}

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BatchForm(request.POST or None, initial={"cutoff": timezone.localtime()})
        if request.method == "POST" and form.is_valid():
            try:
                batch = batches.payout_batch_build(by=request.user, cutoff=form.cleaned_data["cutoff"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, _("Draft batch prepared. Check its lines and enrolments, then submit it for approval.")
                )
                return redirect("admin:payouts_payoutbatch_change", batch.pk)
        return TemplateResponse(
            request,
            "admin/payouts/payoutbatch/prepare.html",
            self._context(
                request,
                form=form,
                title=_("Prepare a payout batch"),
                media=self.media + form.media,
                unbanked=batches.payees_without_bank(),
            ),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        batch = get_object_or_404(PayoutBatch, pk=object_id)
        user = request.user
        lines = batches.batch_lines(batch)
        maker = batch.created_by_id == user.pk and user.has_perm("payouts.prepare_payoutbatch")
        checker = batch.created_by_id != user.pk and user.has_perm("payouts.approve_payoutbatch")
        extra = {
            "batch": batch,
            "lines": lines[:500],
            "more_lines": max(0, lines.count() - 500),
            "can_submit": maker and batch.status == PayoutBatch.Status.DRAFT,
            "can_discard": maker and batch.status in (PayoutBatch.Status.DRAFT, PayoutBatch.Status.SUBMITTED),
            "can_decide": checker and batch.status == PayoutBatch.Status.SUBMITTED,
            "is_maker_waiting": batch.created_by_id == user.pk and batch.status == PayoutBatch.Status.SUBMITTED,
            "items_url": reverse("admin:payouts_payoutitem_changelist") + f"?batch__id__exact={batch.pk}",
            "payouts_url": reverse("admin:payouts_payout_changelist") + f"?batch__id__exact={batch.pk}",
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def _act(self, request, pk, service, done: str, **kwargs):
        if request.method != "POST":
            return redirect("admin:payouts_payoutbatch_change", pk)
        try:
            service(batch_id=pk, by=request.user, **kwargs)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, done)
        return redirect("admin:payouts_payoutbatch_change", pk)

    def submit_view(self, request, pk):
        if not request.user.has_perm("payouts.prepare_payoutbatch"):
            raise PermissionDenied
        return self._act(request, pk, batches.payout_batch_submit, _("Submitted. A PMO finance checker approves it."))

    def discard_view(self, request, pk):
        if not request.user.has_perm("payouts.prepare_payoutbatch"):
            raise PermissionDenied
        if request.method != "POST":
            batch = get_object_or_404(PayoutBatch, pk=pk)
            return TemplateResponse(
                request,
                "admin/payouts/payoutbatch/decide.html",
                self._context(request, batch=batch, title=_("Discard %(batch)s") % {"batch": batch}, discard=True),
            )
        return self._act(request, pk, batches.payout_batch_discard, _("Discarded; its enrolments are free again."))

    def approve_view(self, request, pk):
        if not request.user.has_perm("payouts.approve_payoutbatch"):
            raise PermissionDenied
        batch = get_object_or_404(PayoutBatch, pk=pk)
        if request.method != "POST":
            return TemplateResponse(
                request,
                "admin/payouts/payoutbatch/decide.html",
                self._context(request, batch=batch, title=_("Approve %(batch)s") % {"batch": batch}, approve=True),
            )
        return self._act(
            request, pk, batches.payout_batch_approve, _("Approved. The payouts are being sent by the background jobs.")
        )

    def reject_view(self, request, pk):
        if not request.user.has_perm("payouts.approve_payoutbatch"):
            raise PermissionDenied
        batch = get_object_or_404(PayoutBatch, pk=pk)
        form = RejectForm(request.POST or None)
        if request.method == "POST":
            try:
                batches.payout_batch_reject(batch_id=pk, by=request.user, reason=request.POST.get("reason", ""))
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    form.add_error("reason", exc.error_dict.get("reason"))
                else:
                    messages.error(request, " ".join(exc.messages))
                    return redirect("admin:payouts_payoutbatch_change", pk)
            else:
                messages.success(request, _("Rejected; its enrolments are free for another batch."))
                return redirect("admin:payouts_payoutbatch_change", pk)
        return TemplateResponse(
            request,
            "admin/payouts/payoutbatch/decide.html",
            self._context(request, batch=batch, title=_("Reject %(batch)s") % {"batch": batch}, form=form),
        )

    def reconcile_view(self, request, pk):
        batch = get_object_or_404(PayoutBatch, pk=pk)
        if request.method != "POST" or not self.has_view_permission(request, batch):
            raise PermissionDenied
        transaction.on_commit(lambda: reconcile_batch.delay(batch.pk))
        messages.success(request, _("Reconciliation queued; this page shows its report when it is done."))
        return redirect("admin:payouts_payoutbatch_change", pk)

    def csv_view(self, request, pk):
        batch = get_object_or_404(PayoutBatch, pk=pk)
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        response = StreamingHttpResponse(_csv_rows(batch), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="payout-batch-{batch.pk}.csv"'
        return response


class _Echo:
    def write(self, value):
        return value


def _csv_rows(batch: PayoutBatch):
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so spreadsheet programs read it as UTF-8
    yield writer.writerow(
        ["batch", "payout", "payee", "channel", "account_number", "account_holder", "payout_status", "gateway_id",
         "failure_code", "institution", "enrollment", "course", "completed_at", "amount", "released"]
    )  # fmt: skip
    items = (
        PayoutItem.objects.filter(batch=batch)
        .select_related("payout__institution", "payout__platform", "institution", "enrollment__revision")
        .order_by("payout_id", "institution_id", "enrollment_id")
    )
    for item in items.iterator(chunk_size=2000):
        payout = item.payout
        # Names and titles come from institutions: kept as text, never a formula.
        yield writer.writerow(
            [batch.pk, payout.pk, safe_cell(payout.payee), payout.channel_code, safe_cell(payout.account_number),
             safe_cell(payout.account_holder), payout.status, payout.gateway_id, safe_cell(payout.failure_code),
             safe_cell(item.institution.name), item.enrollment_id, safe_cell(item.enrollment.revision.title),
             item.enrollment.completed_at.isoformat(), item.amount, "yes" if item.released else "no"]
        )  # fmt: skip


class PayoutLineInline(admin.TabularInline):
    model = PayoutLine
    fields = ["institution", "source", "enrollment_count", "amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["number", "kind", "batch", "paid_to", "channel_code", "amount_rp", "status", "gateway_status",
                    "failure_code", "sent_at", "finished_at"]  # fmt: skip
    list_filter = ["status", "kind", "channel_code"]
    search_fields = ["=id", "gateway_id", "institution__name", "platform__name"]
    list_select_related = ["institution", "platform", "participant"]
    inlines = [PayoutLineInline, EventsInline]
    raw_id_fields = ["batch", "institution", "platform", "participant"]

    @admin.display(description=gettext_lazy("number"), ordering="pk")
    def number(self, payout):
        return payout.pk

    @admin.display(description=gettext_lazy("paid to"))
    def paid_to(self, payout):
        return payout.payee

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_rp(self, payout):
        return rupiah(payout.amount)


@admin.register(PayoutItem)
class PayoutItemAdmin(ReadOnlyAdmin):
    list_display = ["enrollment", "batch", "payout", "institution", "amount_rp", "released"]
    list_filter = ["released"]
    search_fields = ["=enrollment__id", "institution__name"]
    list_select_related = ["enrollment", "batch", "payout", "institution"]
    raw_id_fields = ["enrollment", "batch", "payout", "institution"]
    show_full_result_count = False

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_rp(self, item):
        return rupiah(item.amount)


@admin.register(IncentivePayment)
class IncentivePaymentAdmin(ReadOnlyAdmin):
    inlines = [EventsInline]
    list_display = ["participant", "kind", "number", "amount_rp", "due_at", "status", "paid_at", "last_failure"]
    amount_rp = rupiah_column("amount", gettext_lazy("amount"))
    list_filter = ["status", "kind"]
    raw_id_fields = ["participant", "wave", "payout"]


@admin.register(IncentiveAccount)
class IncentiveAccountAdmin(ReadOnlyAdmin):
    inlines = [EventsInline]
    list_display = [
        "participant",
        "channel_code",
        "account_holder",
        "bank_holder_name",
        "status",
        "confirmed_at",
        "refused_reason",
    ]
    list_filter = ["status", "channel_code"]
    raw_id_fields = ["participant"]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin):
    list_display = ["participant", "number", "work", "usefulness", "created_at"]
    list_filter = ["number", "work", "usefulness"]
    raw_id_fields = ["participant"]

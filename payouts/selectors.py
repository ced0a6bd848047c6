"""Reads of payouts that pages share: statements for institutions and
platforms, and a participant's incentives."""

from django.db.models import Count, Sum

from .models import IncentivePayment, PayoutItem

# Batches the PMO has not approved: not shown to institutions and platforms.
UNDECIDED = ("draft", "submitted", "rejected", "discarded")


def statement_rows(**item_filter):
    """Per batch and payout, the amount and number of enrolments matching
    ``item_filter`` (an institution's, or those sold on a platform), with
    the payout's status and payee: what an institution or platform sees."""
    return (
        PayoutItem.objects.filter(**item_filter)
        .exclude(batch__status__in=UNDECIDED)
        .values(
            "batch_id",
            "batch__cutoff",
            "batch__status",
            "payout_id",
            "payout__status",
            "payout__sent_at",
            "payout__finished_at",
            "payout__failure_code",
            "payout__failure_message",
            "payout__institution__name",
            "payout__platform__name",
            "payout__channel_code",
            "payout__account_number",
            "institution_id",
            "institution__name",
        )
        .annotate(amount=Sum("amount"), enrollments=Count("pk"))
        .order_by("-batch_id", "payout_id", "institution__name")
    )


def participant_incentives(participant):
    return list(IncentivePayment.objects.filter(participant=participant).select_related("payout"))

"""The partner API of payouts (/api/v1/statements): what the PMO paid an
institution, or paid for the courses a platform sold, batch by batch, as
their statement pages show it."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.pagination import PageNumberPagination

from prakerja.api.schema import POSITIVE_ID, errors, page_of
from prakerja.inputs import parse_id

from .models import Payout, PayoutBatch
from .selectors import statement_rows


class StatementRowOut(serializers.Serializer):
    batch_id = serializers.IntegerField()
    batch_cutoff = serializers.DateTimeField(source="batch__cutoff", help_text="Completions up to this moment.")
    batch_status = serializers.ChoiceField(source="batch__status", choices=PayoutBatch.Status.choices)
    payout_id = serializers.IntegerField()
    payout_status = serializers.ChoiceField(source="payout__status", choices=Payout.Status.choices)
    sent_at = serializers.DateTimeField(source="payout__sent_at", allow_null=True)
    finished_at = serializers.DateTimeField(source="payout__finished_at", allow_null=True)
    failure_code = serializers.CharField(source="payout__failure_code")
    payee = serializers.SerializerMethodField()
    account_ends_with = serializers.SerializerMethodField()
    institution_id = serializers.IntegerField()
    institution_name = serializers.CharField(source="institution__name")
    amount = serializers.IntegerField(help_text="Rupiah paid (or being paid) for these enrolments.")
    enrollments = serializers.IntegerField()

    def get_payee(self, row) -> str:
        return row["payout__institution__name"] or row["payout__platform__name"] or ""

    def get_account_ends_with(self, row) -> str:
        return (row["payout__account_number"] or "")[-4:]


class Pages(PageNumberPagination):
    page_size = 50


@extend_schema(
    operation_id="statements_list",
    tags=["both: payments"],
    summary="Payouts of the client's enrolments, batch by batch (newest first)",
    parameters=[OpenApiParameter("page", POSITIVE_ID)],
    responses={
        200: page_of(StatementRowOut, "StatementPage", extra={"count": serializers.IntegerField()}),
        **errors(),
    },
)
@api_view(["GET"])
def statements_list(request):
    """An institution sees the payouts of its own enrolments; a platform,
    those of the courses it sold (whoever the payee)."""
    if "page" in request.query_params and parse_id(request.query_params["page"]) is None:
        raise serializers.ValidationError({"page": [_("A page number: a whole number from 1.")]})
    client = request.auth
    if client.institution_id:
        rows = statement_rows(institution_id=client.institution_id)
    else:
        rows = statement_rows(enrollment__platform_id=client.platform_id)
    paginator = Pages()
    page = paginator.paginate_queryset(rows, request)
    return paginator.get_paginated_response(StatementRowOut(page, many=True).data)

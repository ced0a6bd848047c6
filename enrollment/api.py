"""The partner API of purchases (/api/v1/): a platform sells (send-otp,
authorize, status, void, its orders); an institution delivers (voucher
status and redeem, completion with the certificate, its enrolments). Each
view validates the shape and calls the service the pages call."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.phone import mask_phone
from prakerja.api.errors import CONFLICT, NOT_FOUND, error_code, refusal
from prakerja.api.idempotency import idempotent
from prakerja.api.pagination import filtered_page
from prakerja.api.permissions import InstitutionClient, PlatformClient
from prakerja.api.schema import errors, idempotency_key, page_of
from prakerja.api.serializers import StrictSerializer
from prakerja.inputs import MAX_ID

from .models import Enrollment
from .services import delivery, platform_sales
from .services.purchases import decline_message, voucher_display, voucher_normalise

S = Enrollment.Status
TOO_MANY = status.HTTP_429_TOO_MANY_REQUESTS
INVOICE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"  # also a path segment
USER_ID = r"^[\x21-\x7e]{1,64}$"  # printable ASCII, no spaces

# ------------------------------------------------------------------ shapes


class DeclineOut(serializers.Serializer):
    code = serializers.CharField(help_text="Why the PMO declined the purchase, e.g. insufficient_balance.")
    message = serializers.CharField()


class EnrollmentOut(serializers.Serializer):
    """A purchase as its platform and its institution see it."""

    enrollment_id = serializers.IntegerField(source="pk")
    transaction_code = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=S.choices)
    decline = serializers.SerializerMethodField()
    course_id = serializers.IntegerField()
    schedule_code = serializers.SerializerMethodField()
    title = serializers.CharField(source="revision.title")
    amount = serializers.IntegerField(source="price")
    participant_name = serializers.CharField(source="participant.full_name")
    voucher_code = serializers.SerializerMethodField()
    voucher_expires_at = serializers.DateTimeField(allow_null=True)
    invoice_code = serializers.CharField(allow_null=True)
    invoice_url = serializers.CharField()
    redeemed_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_transaction_code(self, enrollment) -> str:
        return f"PRJ-{enrollment.pk}"

    def get_schedule_code(self, enrollment) -> str:
        return platform_sales.schedule_code(enrollment.course_id, enrollment.revision.number)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_voucher_code(self, enrollment):
        # Shown while it can start the course: the platform gives it to the
        # participant, who gives it to the institution.
        shown = enrollment.status in (S.AUTHORISED, S.REDEEMED) and enrollment.voucher_code
        return voucher_display(enrollment.voucher_code) if shown else None

    @extend_schema_field(DeclineOut(allow_null=True))
    def get_decline(self, enrollment):
        if enrollment.status != S.DECLINED:
            return None
        return {"code": enrollment.decline_code, "message": str(decline_message(enrollment.decline_code))}


ENROLLMENT_PAGE = page_of(EnrollmentOut, "EnrollmentPage")


def _enrollments():
    return Enrollment.objects.select_related("participant", "revision")


def _out(enrollment, code=status.HTTP_200_OK) -> Response:
    return Response(EnrollmentOut(enrollment).data, status=code)


def _refused(exc: ValidationError, statuses: dict[str, int], rename: dict[str, str] | None = None):
    error = refusal(exc, statuses)
    if rename and error.fields:
        error.fields = {rename.get(name, name): messages for name, messages in error.fields.items()}
    return error


# ------------------------------------------------------------- platforms


class SendOtpIn(StrictSerializer):
    card_number = serializers.CharField(max_length=32, help_text="The participant's 16-digit Prakerja card number.")
    platform_user_id = serializers.RegexField(USER_ID, help_text="The buyer's account id on the platform.")
    course_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    schedule_code = serializers.CharField(max_length=32, help_text="From the course's schedule, e.g. S12-3.")
    amount = serializers.IntegerField(min_value=1, max_value=100_000_000, help_text="Rupiah; the course's price.")


class SendOtpOut(serializers.Serializer):
    payment_token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    sent_to = serializers.CharField(help_text="The masked mobile number the code was sent to.")


SEND_OTP_STATUSES = {"course_unknown": NOT_FOUND, "otp_wait": TOO_MANY, "otp_send_limit": TOO_MANY}


@extend_schema(
    operation_id="purchase_send_otp",
    tags=["platform: purchases"],
    summary="Check a purchase and text the participant its code",
    parameters=[idempotency_key()],
    request=SendOtpIn,
    responses={201: SendOtpOut, **errors(404, 409, 422, 429)},
)
@api_view(["POST"])
@permission_classes([PlatformClient])
@idempotent
def purchase_send_otp(request):
    """The programme's rules are checked here, as the authorisation will
    check them, so no code is spent on a purchase that would be declined."""
    data = SendOtpIn(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        sent = platform_sales.platform_checkout_send_code(
            platform_id=request.auth.platform_id,
            card_number=data.validated_data["card_number"],
            platform_user_id=data.validated_data["platform_user_id"],
            course_id=data.validated_data["course_id"],
            schedule=data.validated_data["schedule_code"],
            amount=data.validated_data["amount"],
        )
    except ValidationError as exc:
        raise _refused(exc, SEND_OTP_STATUSES, {"schedule": "schedule_code"}) from None
    out = {
        "payment_token": sent["payment_token"],
        "expires_at": sent["expires_at"],
        "sent_to": mask_phone(sent["phone"]),
    }
    return Response(SendOtpOut(out).data, status=status.HTTP_201_CREATED)


class AuthorizeIn(StrictSerializer):
    payment_token = serializers.CharField(max_length=500)
    otp = serializers.CharField(max_length=12, help_text="The 6-digit code the participant typed.")
    invoice_code = serializers.RegexField(INVOICE, help_text="The platform's own invoice code, unique per platform.")
    invoice_url = serializers.URLField(max_length=500)


AUTHORIZE_STATUSES = {"invoice_code_used": CONFLICT, "token_used": CONFLICT}


@extend_schema(
    operation_id="purchase_authorize",
    tags=["platform: purchases"],
    summary="Confirm a purchase with the participant's code",
    parameters=[idempotency_key()],
    request=AuthorizeIn,
    responses={201: EnrollmentOut, **errors(409, 422, 429)},
)
@api_view(["POST"])
@permission_classes([PlatformClient])
@idempotent
def purchase_authorize(request):
    """Authorised (a voucher, the price held from the balance) or declined
    with its reason: either way a purchase is recorded under the invoice
    code, and the same token again returns it."""
    data = AuthorizeIn(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        enrollment = platform_sales.platform_checkout_authorize(
            platform_id=request.auth.platform_id,
            payment_token=data.validated_data["payment_token"],
            code=data.validated_data["otp"],
            invoice_code=data.validated_data["invoice_code"],
            invoice_url=data.validated_data["invoice_url"],
        )
    except ValidationError as exc:
        raise _refused(exc, AUTHORIZE_STATUSES, {"code": "otp", "card_number": "payment_token"}) from None
    return _out(_enrollments().get(pk=enrollment.pk), status.HTTP_201_CREATED)


@extend_schema(
    operation_id="purchase_status",
    tags=["platform: purchases"],
    summary="A purchase by the platform's invoice code",
    responses={200: EnrollmentOut, **errors(404)},
)
@api_view(["GET"])
@permission_classes([PlatformClient])
def purchase_status(request, invoice_code):
    try:
        enrollment = platform_sales.platform_purchase(platform_id=request.auth.platform_id, invoice_code=invoice_code)
    except ValidationError as exc:
        raise refusal(exc, {"not_found": NOT_FOUND}) from None
    return _out(enrollment)


@extend_schema(
    operation_id="purchase_void",
    tags=["platform: purchases"],
    summary="Void a purchase before its voucher is redeemed",
    parameters=[idempotency_key()],
    request=None,
    responses={200: EnrollmentOut, **errors(409, 422)},
)
@api_view(["POST"])
@permission_classes([PlatformClient])
@idempotent
def purchase_void(request, invoice_code):
    try:
        enrollment = platform_sales.platform_purchase_void(
            platform_id=request.auth.platform_id, invoice_code=invoice_code
        )
    except ValidationError as exc:
        raise refusal(exc, {"not_found": NOT_FOUND, "not_voidable": CONFLICT}) from None
    return _out(_enrollments().get(pk=enrollment.pk))


STATUS_FILTER = OpenApiParameter("status", str, enum=S.values, description="Only purchases in this status.")


def _page(request, queryset):
    return filtered_page(request, queryset, EnrollmentOut, S.values)


@extend_schema(
    operation_id="orders_list",
    tags=["platform: purchases"],
    summary="The platform's purchases, newest first",
    parameters=[STATUS_FILTER],
    responses={200: ENROLLMENT_PAGE, **errors()},
)
@api_view(["GET"])
@permission_classes([PlatformClient])
def orders_list(request):
    """Every purchase of a course the platform sells, made through its API
    or on the PMO's pages (``invoice_code`` null), with cursor pagination."""
    return _page(request, _enrollments().filter(platform_id=request.auth.platform_id))


# ---------------------------------------------------------- institutions


class VoucherOut(serializers.Serializer):
    voucher_code = serializers.CharField()
    redeemable = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True, help_text="Why it cannot be redeemed: used, invalid or expired.")
    enrollment = EnrollmentOut()


VOUCHER_STATUSES = {
    "voucher_unknown": NOT_FOUND,
    "empty": NOT_FOUND,
    "rate_limited": TOO_MANY,
    "used": CONFLICT,
    "invalid": CONFLICT,
    "expired": CONFLICT,
}


@extend_schema(
    operation_id="voucher_status",
    tags=["institution: delivery"],
    summary="What a voucher code would start",
    responses={200: VoucherOut, **errors(404, 429)},
)
@api_view(["GET"])
@permission_classes([InstitutionClient])
def voucher_status(request, voucher_code):
    """A voucher of the institution's own (another's reads as not found):
    whether it can be redeemed now, and the purchase it belongs to."""
    institution_id = request.auth.institution_id
    reason = None
    try:
        enrollment = delivery.voucher_check(voucher_code=voucher_code, institution_id=institution_id)
    except ValidationError as exc:
        reason = error_code(exc)
        if reason not in ("used", "invalid", "expired"):
            raise refusal(exc, VOUCHER_STATUSES) from None
        enrollment = _enrollments().get(institution_id=institution_id, voucher_code=voucher_normalise(voucher_code))
    out = {"voucher_code": voucher_display(enrollment.voucher_code), "redeemable": reason is None, "reason": reason}
    return Response(VoucherOut({**out, "enrollment": _enrollments().get(pk=enrollment.pk)}).data)


@extend_schema(
    operation_id="voucher_redeem",
    tags=["institution: delivery"],
    summary="Redeem a voucher when the participant starts",
    parameters=[idempotency_key()],
    request=None,
    responses={200: EnrollmentOut, **errors(409, 422)},
)
@api_view(["POST"])
@permission_classes([InstitutionClient])
@idempotent
def voucher_redeem(request, voucher_code):
    try:
        enrollment = delivery.enrollment_redeem(voucher_code=voucher_code, institution_id=request.auth.institution_id)
    except ValidationError as exc:
        raise refusal(exc, VOUCHER_STATUSES) from None
    return _out(_enrollments().get(pk=enrollment.pk))


class CompletionIn(StrictSerializer):
    certificate = serializers.FileField(help_text="The certificate: a PDF, JPEG or PNG file.")


@extend_schema(
    operation_id="enrollment_complete",
    tags=["institution: delivery"],
    summary="Report a completion with the certificate",
    parameters=[idempotency_key()],
    request={"multipart/form-data": CompletionIn},
    responses={200: EnrollmentOut, **errors(404, 409, 413, 422)},
)
@api_view(["POST"])
@permission_classes([InstitutionClient])
@parser_classes([MultiPartParser])
@idempotent
def enrollment_complete(request, enrollment_id):
    """The held price becomes payable to the institution: the same checks as
    the page (a course in progress that has ended; a real document)."""
    data = CompletionIn(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        enrollment = delivery.enrollment_complete(
            enrollment_id=enrollment_id,
            certificate=data.validated_data["certificate"],
            institution_id=request.auth.institution_id,
        )
    except ValidationError as exc:
        raise refusal(
            exc,
            {
                "not_found": NOT_FOUND,
                "not_in_progress": CONFLICT,
                "not_finished": CONFLICT,
                "attendance_not_met": CONFLICT,
            },
        ) from None
    return _out(_enrollments().get(pk=enrollment.pk))


class AttendanceIn(StrictSerializer):
    sequence = serializers.IntegerField(
        min_value=1, max_value=999, help_text="The session's number (1-10), or 999 for the post-test."
    )


class AttendanceOut(serializers.Serializer):
    attendance_id = serializers.IntegerField()
    enrollment_id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    session_kind = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["issued", "processing", "verified", "refused", "needs_review"],
        help_text="verified (and a reviewer's approval) counts for completion and payment.",
    )
    liveness = serializers.BooleanField(help_text="False when photos were sent without the camera check.")
    reason_code = serializers.CharField(allow_null=True)
    link_expires_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    url = serializers.URLField(
        required=False, help_text="Only in the answer to a new request: send the participant here, once."
    )


ATTENDANCE_STATUSES = {
    "not_found": NOT_FOUND,
    "not_in_progress": CONFLICT,
    "no_such_session": NOT_FOUND,
    "already_attended": CONFLICT,
    "check_pending": CONFLICT,
    "outside_window": CONFLICT,
    "no_face": CONFLICT,
}


@extend_schema(
    operation_id="attendance_list",
    tags=["institution: delivery"],
    summary="The face checks of an enrolment's sessions, oldest first",
    responses={200: AttendanceOut(many=True), **errors(404)},
    methods=["GET"],
)
@extend_schema(
    operation_id="attendance_request",
    tags=["institution: delivery"],
    summary="Ask for the participant's face check before a session: a one-time link to the PMO's page",
    parameters=[idempotency_key()],
    request=AttendanceIn,
    responses={201: AttendanceOut, **errors(404, 409, 422)},
    methods=["POST"],
)
@api_view(["GET", "POST"])
@permission_classes([InstitutionClient])
@idempotent
def enrollment_attendance(request, enrollment_id):
    """The link is signed and good once, for ATTENDANCE_LINK_MINUTES; the
    result comes back here and as the webhook events attendance.verified,
    attendance.refused and attendance.needs_review."""
    from .services import attendance

    if request.method == "GET":
        enrollment = Enrollment.objects.filter(pk=enrollment_id, institution_id=request.auth.institution_id).first()
        if enrollment is None:
            raise refusal(
                ValidationError(_("No enrolment of your institution has this number."), code="not_found"),
                {"not_found": NOT_FOUND},
            )
        checks = enrollment.attendance_checks.select_related("session").order_by("created_at", "pk")
        return Response([attendance.attendance_summary(c) for c in checks])
    data = AttendanceIn(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        check = attendance.attendance_request(
            enrollment_id=enrollment_id,
            sequence=data.validated_data["sequence"],
            institution_id=request.auth.institution_id,
            via=request.auth,
        )
    except ValidationError as exc:
        raise refusal(exc, ATTENDANCE_STATUSES) from None
    body = attendance.attendance_summary(check)
    body["url"] = settings.SITE_URL.rstrip("/") + attendance.attendance_link(check)
    return Response(body, status=201)


@extend_schema(
    operation_id="enrollments_list",
    tags=["institution: delivery"],
    summary="The institution's enrolments, newest first",
    parameters=[STATUS_FILTER],
    responses={200: ENROLLMENT_PAGE, **errors()},
)
@api_view(["GET"])
@permission_classes([InstitutionClient])
def enrollments_list(request):
    queryset = (
        _enrollments().filter(institution_id=request.auth.institution_id).exclude(status__in=[S.REQUESTED, S.DECLINED])
    )
    return _page(request, queryset)

"""The partner API of the catalog (/api/v1/): a platform reads the courses
it sells, with each one's schedule and remaining seats."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from enrollment.selectors import seats_taken
from enrollment.services.platform_sales import schedule_code
from prakerja.api.errors import ApiError, refusal
from prakerja.api.idempotency import idempotent
from prakerja.api.pagination import NewestFirst
from prakerja.api.permissions import PlatformClient
from prakerja.api.schema import POSITIVE_ID, errors, idempotency_key, page_of
from prakerja.api.serializers import StrictSerializer
from prakerja.inputs import MAX_ID, parse_id

from .models import Category, Course, CourseRevision, DeliveryMode, Institution, RevisionStatus
from .selectors import on_sale
from .services import CourseInput, SessionInput, course_propose, revision_propose


class ScheduleOut(serializers.Serializer):
    """The published version's run as it is today."""

    code = serializers.CharField(help_text="Names the published version: send it with send-otp.")
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    capacity = serializers.IntegerField(allow_null=True, help_text="Null: no limit.")
    seats_left = serializers.IntegerField(allow_null=True, help_text="Null: no limit.")


class InstitutionRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CourseOut(serializers.Serializer):
    id = serializers.IntegerField()
    institution = InstitutionRef()
    title = serializers.CharField(source="published_revision.title")
    summary = serializers.CharField(source="published_revision.summary")
    category = serializers.ChoiceField(source="published_revision.category", choices=Category.choices)
    delivery_mode = serializers.ChoiceField(source="published_revision.delivery_mode", choices=DeliveryMode.choices)
    duration_hours = serializers.IntegerField(source="published_revision.duration_hours")
    price = serializers.IntegerField(source="published_revision.price", help_text="Rupiah.")
    schedule = serializers.SerializerMethodField()
    published_at = serializers.DateTimeField()

    @extend_schema_field(ScheduleOut)
    def get_schedule(self, course):
        revision = course.published_revision
        taken = self.context["taken"].get(course.pk, 0)
        seats_left = max(0, revision.capacity - taken) if revision.capacity else None
        return ScheduleOut(
            {
                "code": schedule_code(course.pk, revision.number),
                "starts_at": revision.starts_at,
                "ends_at": revision.ends_at,
                "capacity": revision.capacity,
                "seats_left": seats_left,
            }
        ).data


def _courses(request):
    return on_sale().filter(platform_id=request.auth.platform_id).select_related("published_revision", "institution")


def courses_list(request):
    """The platform's courses on sale, newest first (GET /courses)."""
    courses = _courses(request)
    if "institution" in request.query_params:
        institution = parse_id(request.query_params["institution"])
        if institution is None:
            raise serializers.ValidationError({"institution": [_("An institution's id: a whole number from 1.")]})
        courses = courses.filter(institution_id=institution)
    paginator = NewestFirst()
    page = paginator.paginate_queryset(courses, request)
    taken = seats_taken(course.pk for course in page)
    return paginator.get_paginated_response(CourseOut(page, many=True, context={"taken": taken}).data)


@extend_schema(
    operation_id="course_detail",
    tags=["platform: catalog"],
    summary="One course, with its schedule's remaining seats",
    responses={200: CourseOut, **errors(404)},
)
@api_view(["GET"])
@permission_classes([PlatformClient])
def course_detail(request, course_id):
    course = _courses(request).filter(pk=course_id).first()
    if course is None:
        raise ApiError("not_found", _("This platform sells no course with this id."), http_status=404)
    return Response(CourseOut(course, context={"taken": seats_taken([course.pk])}).data)


# ------------------------------------------------- submitting for curation


class SessionIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=[("webinar", "webinar"), ("self_paced", "self_paced")])
    title = serializers.CharField(max_length=150)
    starts_at = serializers.DateTimeField(required=False, allow_null=True, help_text="A webinar's start.")
    ends_at = serializers.DateTimeField(required=False, allow_null=True, help_text="A webinar's end.")


class SessionOut(serializers.Serializer):
    sequence = serializers.IntegerField(help_text="1-10; 999 is the post-test.")
    kind = serializers.CharField()
    title = serializers.CharField()
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)


class CourseContentIn(StrictSerializer):
    title = serializers.CharField(max_length=150)
    summary = serializers.CharField(max_length=300)
    description = serializers.CharField(max_length=5000)
    learning_outcomes = serializers.CharField(max_length=2000)
    category = serializers.ChoiceField(choices=Category.choices)
    delivery_mode = serializers.ChoiceField(choices=DeliveryMode.choices)
    duration_hours = serializers.IntegerField(min_value=1, max_value=10_000)
    price = serializers.IntegerField(min_value=1, max_value=100_000_000, help_text="Rupiah.")
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    capacity = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1_000_000)
    sessions = SessionIn(
        many=True,
        required=False,
        max_length=10,
        help_text="The sessions, in order (numbered 1-10): before each the participant's face is checked.",
    )
    post_test = serializers.BooleanField(required=False, default=False, help_text="A post-test (sequence 999).")


class NewCourseIn(CourseContentIn):
    institution_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class DecisionOut(serializers.Serializer):
    stage = serializers.IntegerField(help_text="1: Binalattas, 2: the PMO.")
    approved = serializers.BooleanField()
    reason = serializers.CharField()
    decided_at = serializers.DateTimeField()


class VersionOut(serializers.Serializer):
    course_id = serializers.IntegerField()
    version = serializers.IntegerField(source="number")
    status = serializers.ChoiceField(choices=RevisionStatus.choices)
    title = serializers.CharField()
    price = serializers.IntegerField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decisions = DecisionOut(many=True)
    sessions = SessionOut(many=True)


def _content(data: dict) -> CourseInput:
    return CourseInput(**{name: data.get(name) for name in CourseInput.__dataclass_fields__})


def _sessions(data: dict) -> dict:
    sessions = data.get("sessions")
    if sessions is None:
        return {}
    return {"sessions": [SessionInput(**s) for s in sessions], "post_test": data.get("post_test", False)}


def _submitted(exc: ValidationError) -> ApiError:
    error = refusal(exc, {"not_draft": 409, "nothing_published": 409, "version_open": 409})
    if error.get_codes() == "invalid":
        error = ApiError("course_invalid", str(error.detail), http_status=422, fields=error.fields)
    return error


def _version_out(revision_id: int) -> dict:
    revision = CourseRevision.objects.prefetch_related("decisions", "sessions").get(pk=revision_id)
    return VersionOut(revision).data


@extend_schema(
    operation_id="courses_list",
    tags=["platform: catalog"],
    summary="The courses the platform sells, on sale now",
    parameters=[OpenApiParameter("institution", POSITIVE_ID, description="Only this institution's courses.")],
    responses={200: page_of(CourseOut, "CoursePage"), **errors()},
    methods=["GET"],
)
@extend_schema(
    operation_id="course_submit",
    tags=["platform: catalog"],
    summary="Submit a new course of an institution the platform carries, for curation",
    parameters=[idempotency_key()],
    request=NewCourseIn,
    responses={201: VersionOut, **errors(422)},
    methods=["POST"],
)
@api_view(["GET", "POST"])
@permission_classes([PlatformClient])
@idempotent
def courses(request):
    if request.method == "GET":
        return courses_list(request)
    data = NewCourseIn(data=request.data)
    data.is_valid(raise_exception=True)
    platform = request.auth.platform
    institution = Institution.objects.filter(pk=data.validated_data["institution_id"], platforms=platform).first()
    if institution is None:
        raise ApiError(
            "institution_unknown",
            _("Your platform does not sell for an institution with this id."),
            http_status=422,
            fields={"institution_id": [_("Your platform does not sell for an institution with this id.")]},
        )
    try:
        revision = course_propose(
            institution=institution,
            platform=platform,
            data=_content(data.validated_data),
            via=request.auth,
            **_sessions(data.validated_data),
        )
    except ValidationError as exc:
        raise _submitted(exc) from None
    return Response(_version_out(revision.pk), status=201)


@extend_schema(
    operation_id="course_versions",
    tags=["platform: catalog"],
    summary="A course's versions and their curation decisions",
    responses={200: VersionOut(many=True), **errors()},
    methods=["GET"],
)
@extend_schema(
    operation_id="course_version_submit",
    tags=["platform: catalog"],
    summary="Submit a new version of a course the platform sells, for curation",
    parameters=[idempotency_key()],
    request=CourseContentIn,
    responses={201: VersionOut, **errors(409, 422)},
    methods=["POST"],
)
@api_view(["GET", "POST"])
@permission_classes([PlatformClient])
@idempotent
def course_versions(request, course_id):
    """Any course of the platform, on sale or not; the version on sale stays
    on sale until a new one is published."""
    course = Course.objects.filter(pk=course_id, platform_id=request.auth.platform_id).first()
    if course is None:
        raise ApiError("not_found", _("This platform sells no course with this id."), http_status=404)
    if request.method == "GET":
        revisions = course.revisions.prefetch_related("decisions", "sessions").order_by("number")
        return Response(VersionOut(revisions, many=True).data)
    data = CourseContentIn(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        draft = revision_propose(
            course=course, data=_content(data.validated_data), via=request.auth, **_sessions(data.validated_data)
        )
    except ValidationError as exc:
        raise _submitted(exc) from None
    return Response(_version_out(draft.pk), status=201)

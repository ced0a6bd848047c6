"""The partner API of the catalog (/api/v1/): a platform reads the courses
it sells, with each one's schedule and remaining seats."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from enrollment.selectors import seats_taken
from enrollment.services.platform_sales import schedule_code
from prakerja.api.errors import ApiError
from prakerja.api.pagination import NewestFirst
from prakerja.api.permissions import PlatformClient
from prakerja.api.schema import POSITIVE_ID, errors, page_of
from prakerja.inputs import parse_id

from .models import Category, DeliveryMode
from .selectors import on_sale


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


@extend_schema(
    operation_id="courses_list",
    tags=["platform: catalog"],
    summary="The courses the platform sells, on sale now",
    parameters=[OpenApiParameter("institution", POSITIVE_ID, description="Only this institution's courses.")],
    responses={200: page_of(CourseOut, "CoursePage"), **errors()},
)
@api_view(["GET"])
@permission_classes([PlatformClient])
def courses_list(request):
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

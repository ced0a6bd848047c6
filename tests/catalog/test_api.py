"""A platform submits courses of the institutions it carries through the
partner API and reads the curation decisions (issue 13): the same rules as
the institution's pages, the same two curation stages."""

import pytest

from catalog.models import Course
from catalog.services import revision_decide
from partner_client import ApiError
from tests.api import django_transport, partner

from .test_catalog import ALL1, ALL2, publish, world  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

CONTENT = {
    "title": "Barista Kopi Nusantara",
    "summary": "Menyeduh kopi dengan benar dan melayani pelanggan.",
    "description": "Pelatihan menyeduh kopi dari biji sampai cangkir, dengan praktik di kedai.",
    "learning_outcomes": "Peserta mampu menyeduh lima jenis kopi.",
    "category": "food",
    "delivery_mode": "self_paced",
    "duration_hours": 10,
    "price": 450_000,
}


@pytest.fixture
def api(client, django_capture_on_commit_callbacks, world):  # noqa: F811
    transport = django_transport(client, django_capture_on_commit_callbacks)
    return {
        "platform": partner("PLT-SISNAKER", transport, platform=world["platform"]),
        "other": partner("PLT-TOKOPEDIA", transport, platform=world["other_platform"]),
    }


def refused(call, *args, **kwargs):
    with pytest.raises(ApiError) as caught:
        call(*args, **kwargs)
    return caught.value.status, caught.value.code, caught.value.fields


def test_a_platform_submits_a_course_for_an_institution_it_carries_and_reads_the_decisions(api, world):  # noqa: F811
    institution, _staff = world["institution"]("LPK Kopi")
    platform = api["platform"]
    submitted = platform.submit_course(institution_id=institution.pk, **CONTENT)
    assert (submitted["version"], submitted["status"], submitted["decisions"]) == (1, "submitted", [])
    course = Course.objects.get(pk=submitted["course_id"])
    revision = course.revisions.get()
    assert revision.created_via.code == "PLT-SISNAKER" and revision.created_by is None
    assert revision.events.filter(reason__contains="through the API, PLT-SISNAKER").exists()
    # Curated as any other: stage 1, then the PMO publishes it.
    revision_decide(revision=revision, stage=1, approve=True, checklist=ALL1, reason="", by=world["curator1"])
    revision_decide(revision=revision, stage=2, approve=True, checklist=ALL2, reason="Sesuai.", by=world["curator2"])
    versions = platform.versions(course.pk)
    assert [(v["version"], v["status"]) for v in versions] == [(1, "published")]
    assert [(d["stage"], d["approved"]) for d in versions[0]["decisions"]] == [(1, True), (2, True)]
    assert platform.course(course.pk)["schedule"]["code"] == f"S{course.pk}-1"
    # A new version, at a new price: the one on sale stays until it is published.
    new = platform.submit_version(course.pk, **{**CONTENT, "price": 500_000})
    assert (new["version"], new["status"], new["price"]) == (2, "submitted", 500_000)
    assert platform.course(course.pk)["price"] == 450_000
    assert refused(platform.request, "POST", f"/api/v1/courses/{course.pk}/versions", payload=CONTENT)[:2] == (
        409,
        "version_open",
    )
    # A rejection and its reason reach the platform.
    revision_decide(
        revision=course.revisions.get(number=2),
        stage=1,
        approve=False,
        checklist=ALL1,
        reason="Harga tidak wajar.",
        by=world["curator1"],
    )
    versions = platform.request("GET", f"/api/v1/courses/{course.pk}/versions")
    assert versions[1]["status"] == "draft" and versions[1]["decisions"][0]["reason"] == "Harga tidak wajar."


def test_a_platform_cannot_submit_for_others_or_break_the_rules(api, world):  # noqa: F811
    institution, staff = world["institution"]("LPK Roti")
    platform, other = api["platform"], api["other"]
    # The institution sells through Sisnaker only.
    assert refused(other.request, "POST", "/api/v1/courses", payload={**CONTENT, "institution_id": institution.pk})[
        :2
    ] == (422, "institution_unknown")
    status, code, fields = refused(
        platform.request, "POST", "/api/v1/courses", payload={**CONTENT, "institution_id": institution.pk, "price": 0}
    )
    assert (status, code, list(fields)) == (400, "invalid_input", ["price"])
    status, code, fields = refused(
        platform.request,
        "POST",
        "/api/v1/courses",
        payload={**CONTENT, "institution_id": institution.pk, "delivery_mode": "webinar"},
    )
    assert (status, code) == (422, "course_invalid") and "starts_at" in fields
    published = publish(world, institution, staff, price=300_000)
    assert refused(other.request, "GET", f"/api/v1/courses/{published.course_id}/versions")[:2] == (404, "not_found")
    assert refused(other.request, "POST", f"/api/v1/courses/{published.course_id}/versions", payload=CONTENT)[:2] == (
        404,
        "not_found",
    )
    assert Course.objects.count() == 1

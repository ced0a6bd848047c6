"""The catalog: institutions' courses, two-stage curation, the public list."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from catalog.models import Course, CourseRevision, CurationDecision, Institution, Platform
from catalog.selectors import on_sale
from catalog.services import (
    CourseInput,
    course_create,
    course_set_suspended,
    institution_set_suspended,
    revision_decide,
    revision_start,
    revision_submit,
    revision_update,
)
from tests.factories import UserFactory, make_staff

pytestmark = pytest.mark.django_db

ALL1 = dict.fromkeys(("remote_teachable", "outcomes_clear", "competency_based", "trainers_qualified"), True)
ALL2 = dict.fromkeys(("price_fair", "information_complete", "content_quality"), True)


def course_input(**overrides) -> CourseInput:
    values = {
        "title": "Membuat Kue Kering untuk Usaha",
        "summary": "Belajar membuat kue kering dan menjualnya.",
        "description": "Pelatihan membuat kue kering dari bahan sampai kemasan, dengan praktik.",
        "learning_outcomes": "Peserta mampu membuat tiga jenis kue kering.",
        "category": "food",
        "delivery_mode": "self_paced",
        "duration_hours": 12,
        "price": 300_000,
    }
    values.update(overrides)
    return CourseInput(**values)


@pytest.fixture
def world():
    platform = Platform.objects.create(name="Sisnaker", payout_route="direct")
    other_platform = Platform.objects.create(
        name="Tokopedia",
        payout_route="via_platform",
        settlement_bank="ID_BNI",
        settlement_account_number="1",
        settlement_account_holder="PT T",
    )

    def institution(name, kind="blk_pemerintah", province="32", **extra):
        inst = Institution.objects.create(
            name=name,
            kind=kind,
            address="Jl. 1",
            province_code=province,
            bank_name="ID_BNI",
            bank_account_number="123",
            bank_account_holder=name,
            **extra,
        )
        inst.platforms.add(platform)
        staff = UserFactory()
        staff.groups.add(*Group.objects.filter(name=roles.INSTITUTION_STAFF))
        inst.staff.add(staff)
        return inst, staff

    return {
        "platform": platform,
        "other_platform": other_platform,
        "institution": institution,
        "curator1": make_staff(roles.CURATOR_BINALATTAS),
        "curator2": make_staff(roles.PMO_CURATOR),
    }


def publish(world, institution, staff, **overrides):
    revision = course_create(
        institution=institution, platform=world["platform"], data=course_input(**overrides), by=staff
    )
    revision_submit(revision=revision, by=staff)
    revision_decide(revision=revision, stage=1, approve=True, checklist=ALL1, reason="", by=world["curator1"])
    revision_decide(revision=revision, stage=2, approve=True, checklist=ALL2, reason="", by=world["curator2"])
    revision.refresh_from_db()
    return revision


def codes(exc):
    error = exc.value
    if hasattr(error, "error_dict"):
        return {field for field in error.error_dict}
    return {e.code for e in error.error_list}


def test_a_course_goes_through_both_stages_and_goes_on_sale(world):
    inst, staff = world["institution"]("BBPLK Bandung")
    revision = course_create(institution=inst, platform=world["platform"], data=course_input(), by=staff)
    assert revision.status == "draft" and not on_sale().exists()
    revision_submit(revision=revision, by=staff)
    revision_decide(revision=revision, stage=1, approve=True, checklist=ALL1, reason="ok", by=world["curator1"])
    assert not on_sale().exists()
    revision_decide(revision=revision, stage=2, approve=True, checklist=ALL2, reason="", by=world["curator2"])
    course = Course.objects.get()
    assert course.published_revision == revision and course.published_at
    assert list(on_sale()) == [course]
    decisions = list(CurationDecision.objects.values_list("stage", "approved", "decided_by"))
    assert decisions == [(1, True, world["curator1"].pk), (2, True, world["curator2"].pk)]
    assert CurationDecision.objects.get(stage=1).checklist["remote_teachable"] is True
    moves = list(revision.events.values_list("from_status", "to_status"))
    assert moves == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "stage1_approved"),
        ("stage1_approved", "published"),
    ]


def test_a_rejection_at_either_stage_returns_it_to_draft_with_the_reason_shown(world, client):
    inst, staff = world["institution"]("BBPLK Bandung")
    revision = course_create(institution=inst, platform=world["platform"], data=course_input(), by=staff)
    revision_submit(revision=revision, by=staff)
    revision_decide(
        revision=revision,
        stage=1,
        approve=False,
        checklist={"remote_teachable": False},
        reason="Perlu praktik tatap muka",
        by=world["curator1"],
    )
    revision.refresh_from_db()
    assert revision.status == "draft"
    client.force_login(staff)
    page = client.get(reverse("catalog:institution_course", args=[revision.course_id])).content.decode()
    assert "Perlu praktik tatap muka" in page
    revision_submit(revision=revision, by=staff)
    revision_decide(revision=revision, stage=1, approve=True, checklist=ALL1, reason="", by=world["curator1"])
    revision_decide(
        revision=revision, stage=2, approve=False, checklist={}, reason="Harga terlalu tinggi", by=world["curator2"]
    )
    revision.refresh_from_db()
    assert revision.status == "draft" and not on_sale().exists()


def test_approval_needs_every_criterion_and_rejection_a_reason(world):
    inst, staff = world["institution"]("BBPLK Bandung")
    revision = course_create(institution=inst, platform=world["platform"], data=course_input(), by=staff)
    revision_submit(revision=revision, by=staff)
    with pytest.raises(ValidationError) as exc:
        revision_decide(
            revision=revision,
            stage=1,
            approve=True,
            checklist={**ALL1, "remote_teachable": False},
            reason="",
            by=world["curator1"],
        )
    assert codes(exc) == {"criteria"}
    with pytest.raises(ValidationError):
        revision_decide(revision=revision, stage=1, approve=False, checklist={}, reason="", by=world["curator1"])
    assert not CurationDecision.objects.exists()


def test_a_curator_cannot_skip_a_stage_or_act_on_the_other_stage(world):
    inst, staff = world["institution"]("BBPLK Bandung")
    revision = course_create(institution=inst, platform=world["platform"], data=course_input(), by=staff)
    revision_submit(revision=revision, by=staff)
    with pytest.raises(ValidationError) as exc:
        revision_decide(revision=revision, stage=2, approve=True, checklist=ALL2, reason="", by=world["curator2"])
    assert codes(exc) == {"wrong_stage"}
    with pytest.raises(PermissionDenied):
        revision_decide(revision=revision, stage=1, approve=True, checklist=ALL1, reason="", by=world["curator2"])
    with pytest.raises(PermissionDenied):
        revision_decide(revision=revision, stage=2, approve=True, checklist=ALL2, reason="", by=world["curator1"])
    with pytest.raises(PermissionDenied):
        revision_decide(revision=revision, stage=1, approve=True, checklist=ALL1, reason="", by=staff)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": 10_000}, "price"),
        ({"price": 5_000_000}, "price"),
        ({"title": "x"}, "title"),
        ({"delivery_mode": "webinar"}, "starts_at"),
        ({"category": "nonsense"}, "category"),
        ({"duration_hours": 0}, "duration_hours"),
    ],
)
def test_bad_course_data_is_refused_and_nothing_is_saved(world, overrides, field):
    inst, staff = world["institution"]("BBPLK Bandung")
    with pytest.raises(ValidationError) as exc:
        course_create(institution=inst, platform=world["platform"], data=course_input(**overrides), by=staff)
    assert field in codes(exc)
    assert not Course.objects.exists()


def test_a_schedule_ending_before_it_starts_is_refused(world):
    inst, staff = world["institution"]("BBPLK Bandung")
    start = timezone.now() + datetime.timedelta(days=3)
    with pytest.raises(ValidationError) as exc:
        course_create(
            institution=inst,
            platform=world["platform"],
            data=course_input(delivery_mode="webinar", starts_at=start, ends_at=start - datetime.timedelta(hours=1)),
            by=staff,
        )
    assert "ends_at" in codes(exc)


def test_an_unaccredited_private_lpk_cannot_publish(world):
    inst, staff = world["institution"]("LPK Tanpa Akreditasi", kind="lpk_swasta")
    revision = course_create(institution=inst, platform=world["platform"], data=course_input(), by=staff)
    with pytest.raises(ValidationError) as exc:
        revision_submit(revision=revision, by=staff)
    assert codes(exc) == {"accreditation"}
    # Accredited, then the accreditation lapses while the course is in curation.
    Institution.objects.filter(pk=inst.pk).update(
        accreditation_number="LA-1", accreditation_valid_until=timezone.localdate() + datetime.timedelta(days=10)
    )
    revision_submit(revision=revision, by=staff)
    revision_decide(revision=revision, stage=1, approve=True, checklist=ALL1, reason="", by=world["curator1"])
    Institution.objects.filter(pk=inst.pk).update(
        accreditation_valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    with pytest.raises(ValidationError) as exc:
        revision_decide(revision=revision, stage=2, approve=True, checklist=ALL2, reason="", by=world["curator2"])
    assert codes(exc) == {"accreditation"}
    assert not on_sale().exists()


def test_a_version_cannot_be_submitted_twice_or_changed_under_review(world):
    inst, staff = world["institution"]("BBPLK Bandung")
    revision = course_create(institution=inst, platform=world["platform"], data=course_input(), by=staff)
    revision_submit(revision=revision, by=staff)
    with pytest.raises(ValidationError) as exc:
        revision_submit(revision=revision, by=staff)
    assert codes(exc) == {"not_draft"}
    with pytest.raises(ValidationError) as exc:
        revision_update(revision=revision, data=course_input(price=999_000), by=staff)
    assert codes(exc) == {"not_draft"}
    revision.refresh_from_db()
    assert revision.price == 300_000


def test_editing_a_published_course_makes_a_version_curated_again_while_the_old_stays_on_sale(world, client):
    inst, staff = world["institution"]("BBPLK Bandung")
    v1 = publish(world, inst, staff)
    v2 = revision_start(course=v1.course, by=staff)
    assert (v2.number, v2.status, v2.title) == (2, "draft", v1.title)
    revision_update(revision=v2, data=course_input(price=450_000, title="Kue Kering Lanjutan"), by=staff)
    revision_submit(revision=v2, by=staff)
    course = Course.objects.get()
    assert course.published_revision == v1 and list(on_sale()) == [course]  # still on sale as v1
    assert revision_start(course=course, by=staff) == v2  # one open version at a time
    revision_decide(revision=v2, stage=1, approve=True, checklist=ALL1, reason="", by=world["curator1"])
    revision_decide(revision=v2, stage=2, approve=True, checklist=ALL2, reason="", by=world["curator2"])
    course.refresh_from_db()
    v1.refresh_from_db()
    assert course.published_revision == v2 and v1.status == "superseded"
    assert course.published_revision.price == 450_000
    client.force_login(staff)
    page = client.get(reverse("catalog:institution_course", args=[course.pk])).content.decode()
    assert "v1" in page and "v2" in page


def test_institution_staff_reach_only_their_own_courses(world, client):
    inst, staff = world["institution"]("BBPLK Bandung")
    other, other_staff = world["institution"]("BBPLK Medan", province="12")
    theirs = course_create(institution=other, platform=world["platform"], data=course_input(), by=other_staff)
    client.force_login(staff)
    course_id = theirs.course_id
    for name in ("catalog:institution_course", "catalog:institution_course_edit"):
        assert client.get(reverse(name, args=[course_id])).status_code == 404
    assert client.post(reverse("catalog:institution_course_submit", args=[course_id])).status_code == 404
    assert (
        client.post(reverse("catalog:institution_course_edit", args=[course_id]), {"title": "Diubah"}).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.status == "draft" and theirs.title == course_input().title
    with pytest.raises(PermissionDenied):
        revision_update(revision=theirs, data=course_input(title="Diubah lewat layanan"), by=staff)
    # A platform the institution does not sell through, slipped into the form.
    data = {
        **course_input().__dict__,
        "platform": world["other_platform"].pk,
        "starts_at": "",
        "ends_at": "",
        "capacity": "",
    }
    response = client.post(reverse("catalog:institution_course_new"), data)
    assert response.status_code == 200 and "platform" in response.context["form"].errors
    assert not Course.objects.filter(institution=inst).exists()
    # Someone who is no institution's staff gets nothing.
    client.force_login(UserFactory())
    assert client.get(reverse("catalog:institution_courses")).status_code == 404


def test_the_new_course_form_shows_every_mistake_in_one_round(client, world):
    inst, staff = world["institution"]("LPK Satu Putaran")
    client.force_login(staff)
    data = {
        **course_input().__dict__,
        "platform": world["platform"].pk,
        "title": "Las",  # the service's rule: at least 5 characters
        "description": "",  # the form's own: required
        "price": "10",  # the service's rule: the price range
        "starts_at": "",
        "ends_at": "",
        "capacity": "",
    }
    response = client.post(reverse("catalog:institution_course_new"), data)
    errors = response.context["form"].errors
    assert response.status_code == 200
    assert {"title", "description", "price"} <= set(errors), errors
    assert not Course.objects.filter(institution=inst).exists()


def test_suspensions_take_courses_off_sale(world):
    inst, staff = world["institution"]("BBPLK Bandung")
    v = publish(world, inst, staff)
    course_set_suspended(course=v.course, suspended=True, reason="Pengaduan peserta", by=world["curator2"])
    assert not on_sale().exists()
    course_set_suspended(course=v.course, suspended=False, reason="", by=world["curator2"])
    assert on_sale().exists()
    institution_set_suspended(institution=inst, suspended=True, reason="Izin dicabut Disnaker", by=world["curator2"])
    assert not on_sale().exists()
    inst.refresh_from_db()
    assert (inst.suspended_reason, inst.suspension_changed_by) == ("Izin dicabut Disnaker", world["curator2"])
    # A suspended institution brings nothing new on sale.
    draft = course_create(
        institution=inst, platform=world["platform"], data=course_input(title="Kursus Baru Lagi"), by=staff
    )
    with pytest.raises(ValidationError) as exc:
        revision_submit(revision=draft, by=staff)
    assert codes(exc) == {"institution_suspended"}
    with pytest.raises(PermissionDenied):
        course_set_suspended(course=v.course, suspended=True, reason="tidak boleh", by=world["curator1"])
    with pytest.raises(PermissionDenied):
        institution_set_suspended(institution=inst, suspended=False, reason="", by=staff)
    with pytest.raises(ValidationError) as exc:
        course_set_suspended(course=draft.course, suspended=True, reason="belum terbit", by=world["curator2"])
    assert codes(exc) == {"not_published"}


def test_the_public_catalog_searches_filters_sorts_and_pages(world, client, settings):
    settings.CATALOG_PAGE_SIZE = 2
    bandung, s1 = world["institution"]("BBPLK Bandung", province="32")
    medan, s2 = world["institution"]("BBPLK Medan", province="12")
    kue = publish(world, bandung, s1, title="Membuat Kue Kering", price=200_000)
    las = publish(
        world,
        medan,
        s2,
        title="Las Listrik Dasar",
        summary="Pengelasan untuk pemula di bengkel.",
        description="Praktik mengelas besi dan baja untuk pekerjaan bengkel.",
        category="trade",
        price=600_000,
    )
    kopi = publish(
        world,
        bandung,
        s1,
        title="Barista dan Pengolahan Kopi",
        summary="Menyeduh kopi untuk kedai.",
        description="Belajar menyeduh kopi manual dan mesin espresso.",
        price=400_000,
        delivery_mode="webinar",
        starts_at=timezone.now() + datetime.timedelta(days=5),
        ends_at=timezone.now() + datetime.timedelta(days=5, hours=3),
    )

    def titles(**params):
        response = client.get(reverse("catalog:list"), params)
        assert response.status_code == 200
        return [c.published_revision.title for c in response.context["page"].object_list]

    assert titles(q="kue") == [kue.title]
    assert titles(q="mengelas") == [las.title]  # Indonesian stemming: mengelas ~ pengelasan
    assert titles(category="trade") == [las.title]
    assert titles(province="32", sort="price") == [kue.title, kopi.title]
    assert titles(delivery_mode="webinar") == [kopi.title]
    assert titles(min_price=300000, max_price=500000) == [kopi.title]
    assert titles(sort="-price") == [las.title, kopi.title]  # page 1 of 2
    assert titles(sort="-price", page=2) == [kue.title]
    assert titles(q="tidak ada kursus seperti ini") == []
    assert titles(min_price="murah", category="trade") == [las.title]  # a bad filter drops itself only
    assert titles(q="kue " + "x" * 300) == []  # a long search is cut, not ignored
    assert titles(q="kue", page="99999999999999999999") == []  # beyond the last page: empty, not a crash
    detail = client.get(reverse("catalog:detail", args=[las.course_id])).content.decode()
    assert "BBPLK Medan" in detail and "Sisnaker" in detail and "600.000" in detail


def test_unpublished_or_suspended_courses_have_no_public_page(world, client):
    inst, staff = world["institution"]("BBPLK Bandung")
    draft = course_create(institution=inst, platform=world["platform"], data=course_input(), by=staff)
    assert client.get(reverse("catalog:detail", args=[draft.course_id])).status_code == 404
    v = publish(world, inst, staff, title="Kursus Lain Sekali")
    course_set_suspended(course=v.course, suspended=True, reason="Pengaduan", by=world["curator2"])
    assert client.get(reverse("catalog:detail", args=[v.course_id])).status_code == 404


def test_the_list_page_costs_the_same_queries_for_any_page_size(world, client, settings):
    inst, staff = world["institution"]("BBPLK Bandung")
    for n in range(12):
        publish(world, inst, staff, title=f"Kursus Nomor {n} Lengkap")

    def queries(size):
        settings.CATALOG_PAGE_SIZE = size
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("catalog:list"), {"q": "kursus"})
        assert len(response.context["page"].object_list) == size
        return len(ctx)

    assert queries(2) == queries(10)


def test_curators_work_their_queue_oldest_first_and_in_bulk(world, client):
    inst, staff = world["institution"]("BBPLK Bandung")
    revisions = []
    for n in range(3):
        r = course_create(
            institution=inst, platform=world["platform"], data=course_input(title=f"Kursus Antre {n}"), by=staff
        )
        revision_submit(revision=r, by=staff)
        revisions.append(r)
    client.force_login(world["curator1"])
    response = client.get(reverse("admin:catalog_stage1queue_changelist"))
    assert [r.pk for r in response.context["cl"].result_list] == [r.pk for r in revisions]
    data = {"action": "approve_selected", "_selected_action": [r.pk for r in revisions[:2]], "apply": "1", **ALL1}
    client.post(reverse("admin:catalog_stage1queue_changelist"), data)
    assert CurationDecision.objects.filter(stage=1, approved=True).count() == 2
    assert set(CourseRevision.objects.filter(status="stage1_approved").values_list("pk", flat=True)) == {
        r.pk for r in revisions[:2]
    }
    # The PMO curator does not see stage 1, the Binalattas curator not stage 2.
    client.force_login(world["curator2"])
    assert client.get(reverse("admin:catalog_stage1queue_changelist")).status_code == 403
    client.force_login(world["curator1"])
    assert client.get(reverse("admin:catalog_stage2queue_changelist")).status_code == 403


def test_staff_of_several_institutions_choose_which_one_a_new_course_is_for(world, client):
    _first, staff = world["institution"]("BBPLK Bandung")
    second, _ = world["institution"]("BBPLK Medan", province="12")
    second.staff.add(staff)
    stranger, _ = world["institution"]("LPK Lain")
    client.force_login(staff)
    page = client.get(reverse("catalog:institution_course_new"))
    assert "BBPLK Medan" in page.content.decode() and "LPK Lain" not in page.content.decode()
    assert client.get(reverse("catalog:institution_course_new"), {"lembaga": second.pk}).status_code == 200
    assert client.get(reverse("catalog:institution_course_new"), {"lembaga": stranger.pk}).status_code == 404


def test_a_scheduled_course_must_start_in_the_future_and_leaves_the_catalog_once_started(world, monkeypatch):
    inst, staff = world["institution"]("BBPLK Bandung")
    past = timezone.now() - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        course_create(
            institution=inst,
            platform=world["platform"],
            data=course_input(delivery_mode="webinar", starts_at=past, ends_at=past + datetime.timedelta(hours=2)),
            by=staff,
        )
    assert "starts_at" in codes(exc)
    soon = timezone.now() + datetime.timedelta(hours=2)
    v = publish(world, inst, staff, delivery_mode="webinar", starts_at=soon, ends_at=soon + datetime.timedelta(hours=2))
    assert list(on_sale()) == [v.course]
    later = timezone.now() + datetime.timedelta(hours=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert not on_sale().exists()  # it has started: no longer for sale


def test_a_private_lpk_whose_accreditation_lapses_goes_off_sale(world):
    inst, staff = world["institution"](
        "LPK Berakreditasi",
        kind="lpk_swasta",
        accreditation_number="LA-9",
        accreditation_valid_until=timezone.localdate() + datetime.timedelta(days=1),
    )
    publish(world, inst, staff)
    assert on_sale().exists()
    Institution.objects.filter(pk=inst.pk).update(
        accreditation_valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert not on_sale().exists()


def test_the_pmo_sees_each_versions_decisions_and_history(world, client):
    inst, staff = world["institution"]("BBPLK Bandung")
    v = publish(world, inst, staff)
    client.force_login(world["curator2"])
    course_page = client.get(reverse("admin:catalog_course_change", args=[v.course_id])).content.decode()
    assert reverse("admin:catalog_courserevision_change", args=[v.pk]) in course_page
    page = client.get(reverse("admin:catalog_courserevision_change", args=[v.pk])).content.decode()
    assert "Tahap 1: Ditjen Binalattas" in page and "Tahap 2: Manajemen Pelaksana" in page

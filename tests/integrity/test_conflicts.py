"""The audit's conflict of interest: 250 of 1,895 courses were sold by
platforms affiliated with their institutions. Institutions and platforms
declare their owners and affiliates; an affiliated institution's course
cannot be submitted on that platform (it is sold elsewhere), and a conflict
found once a listing is on sale suspends it with a case for the PMO."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.nik import compose_nik
from catalog.models import Affiliation, Course, Platform
from catalog.selectors import on_sale
from catalog.services import (
    affiliation_declare,
    affiliation_withdraw,
    course_create,
    revision_start,
    revision_submit,
)
from enrollment.services import purchases
from integrity.models import Case
from integrity.services.cases import case_decide
from integrity.services.conflicts import conflicts_scan
from tests.catalog.test_catalog import course_input

from .conftest import card_holder

pytestmark = pytest.mark.django_db

OWNER_NIK = compose_nik(region="327301", birth_date=datetime.date(1975, 3, 4), gender="M", serial=17)
PERSON = Affiliation.PartyKind.PERSON
COMPANY = Affiliation.PartyKind.COMPANY


def platform_staff(platform):
    from tests.factories import UserFactory

    user = UserFactory()
    platform.staff.add(user)
    return user


def test_an_affiliated_institution_cannot_put_its_course_on_that_platform_but_can_sell_elsewhere(world):
    platform, other = world["platform"], world["other_platform"]
    institution, staff = world["institution"]("LPK Keluarga")
    institution.platforms.add(other)
    draft = course_create(institution=institution, platform=platform, data=course_input(), by=staff)

    affiliation_declare(
        owner=institution, relation="owner", party_kind=PERSON, number=OWNER_NIK, name="Budi Santoso", by=staff
    )
    # The platform's own declaration names the same person (as its director).
    affiliation_declare(
        owner=platform,
        relation="officer",
        party_kind=PERSON,
        number=f" {OWNER_NIK[:8]} {OWNER_NIK[8:]} ",
        name="B. Santoso",
        by=platform_staff(platform),
    )

    with pytest.raises(ValidationError) as refused:
        revision_submit(revision=draft, by=staff)
    assert refused.value.code == "conflict_of_interest"
    assert "Budi Santoso" in refused.value.messages[0]
    draft.refresh_from_db()
    assert draft.status == "draft"

    with pytest.raises(ValidationError) as refused:
        course_create(institution=institution, platform=platform, data=course_input(), by=staff)
    assert refused.value.error_dict["platform"][0].code == "conflict_of_interest"

    elsewhere = course_create(institution=institution, platform=other, data=course_input(), by=staff)
    assert revision_submit(revision=elsewhere, by=staff).status == "submitted"
    # The NIK is kept only as a keyed hash and its masked digits.
    stored = Affiliation.objects.filter(institution=institution).values_list("party_key", "party_masked").get()
    assert OWNER_NIK not in stored[0] and stored[1] == OWNER_NIK[:4] + "********" + OWNER_NIK[-4:]


def test_a_conflict_found_on_sale_suspends_the_listing_with_a_case_and_clearing_it_puts_it_back(
    committed, courses, officer
):
    platform = courses.world["platform"]
    Platform.objects.filter(pk=platform.pk).update(nib="9120001234567", commission_rate=Decimal("10"))
    (course,) = courses(400_000)
    card = card_holder(committed)
    purchases.enrollment_submit(participant=card.participant, course=course, request_key="k1")
    assert on_sale().filter(pk=course.pk).exists()

    # The institution declares its parent company: the platform's own.
    affiliation_declare(
        owner=courses.institution,
        relation="affiliate",
        party_kind=COMPANY,
        number="9120001234567",
        name="PT Induk Digital",
        by=courses.staff,
    )

    course.refresh_from_db()
    assert course.is_suspended and not on_sale().filter(pk=course.pk).exists()
    case = Case.objects.get(kind=Case.Kind.CONFLICT)
    assert (case.course_id, case.institution_id, case.participant_id) == (course.pk, courses.institution.pk, None)
    assert case.stage == "declaration" and case.status == "open" and not case.holds_money
    assert case.amount_held == 400_000  # the listing's sales at risk
    assert case.evidence["sales"] == 1 and case.evidence["commission"] == 40_000
    assert case.evidence["shared"] == ["PT Induk Digital"]
    second = card_holder(committed)  # another buyer cannot buy the suspended listing
    refused = purchases.enrollment_submit(participant=second.participant, course=course, request_key="k2")
    assert (refused.status, refused.decline_code) == ("declined", "not_on_sale")

    # Found again (the daily scan) it is the same case.
    assert conflicts_scan() == []
    # A withdrawal does not lift the suspension; the officer decides.
    affiliation_withdraw(
        affiliation_id=courses.institution.affiliations.get().pk, owner=courses.institution, by=courses.staff
    )
    course.refresh_from_db()
    assert course.is_suspended
    with pytest.raises(ValidationError) as refused:  # no card to revoke in an institution's case
        case_decide(case_id=case.pk, by=officer, decision="clear", reason="")
    assert "reason" in refused.value.message_dict
    case_decide(case_id=case.pk, by=officer, decision="clear", reason="The parent company sold its share in May.")
    course.refresh_from_db()
    assert not course.is_suspended and on_sale().filter(pk=course.pk).exists()
    assert Case.objects.get(pk=case.pk).status == "cleared"

    # Declared again, the same cleared conflict opens nothing and suspends nothing; the
    # listing's new versions may go to curation (the officer's decision holds).
    affiliation_declare(
        owner=courses.institution,
        relation="affiliate",
        party_kind=COMPANY,
        number="9120001234567",
        name="PT Induk Digital",
        by=courses.staff,
    )
    course.refresh_from_db()
    assert not course.is_suspended and Case.objects.filter(kind="conflict").count() == 1
    draft = revision_start(course=course, by=courses.staff)
    assert revision_submit(revision=draft, by=courses.staff).status == "submitted"


def test_clearing_a_conflict_does_not_lift_a_suspension_the_pmo_set_for_another_reason(courses, officer):
    from accounts import roles
    from catalog.services import course_set_suspended
    from tests.factories import make_staff

    platform = courses.world["platform"]
    Platform.objects.filter(pk=platform.pk).update(nib="9120001234567")
    (course,) = courses(300_000)
    affiliation_declare(
        owner=courses.institution,
        relation="owner",
        party_kind=COMPANY,
        number="9120001234567",
        name="PT X",
        by=courses.staff,
    )
    case = Case.objects.get(kind="conflict")
    # The PMO meanwhile suspends the listing for a complaint of its own.
    course_set_suspended(course=course, suspended=False, reason="", by=make_staff(roles.PMO_CURATOR))
    course_set_suspended(
        course=course, suspended=True, reason="Pengaduan peserta: materi tidak ada", by=make_staff(roles.PMO_CURATOR)
    )
    case_decide(case_id=case.pk, by=officer, decision="clear", reason="Afiliasi sudah berakhir.")
    course.refresh_from_db()
    assert course.is_suspended and "Pengaduan" in course.suspended_reason


def test_declarations_are_checked_and_only_the_staff_declare(world):
    institution, staff = world["institution"]("LPK Cek")
    other, _other_staff = world["institution"]("LPK Lain")

    def declare(**overrides):
        data = {"relation": "owner", "party_kind": PERSON, "number": OWNER_NIK, "name": "Siti", **overrides}
        return affiliation_declare(owner=institution, by=staff, **data)

    for overrides, field in [
        ({"number": "1234"}, "number"),
        ({"number": "32730112345"}, "number"),
        ({"party_kind": COMPANY, "number": "12345"}, "number"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 151}, "name"),
        ({"relation": "cousin"}, "relation"),
        ({"share_percent": Decimal("101")}, "share_percent"),
    ]:
        with pytest.raises(ValidationError) as refused:
            declare(**overrides)
        assert field in refused.value.message_dict, overrides
    declare()
    with pytest.raises(ValidationError) as refused:
        declare(name="Siti again")
    assert refused.value.message_dict["number"]
    with pytest.raises(PermissionDenied):
        affiliation_declare(owner=other, relation="owner", party_kind=PERSON, number=OWNER_NIK, name="Siti", by=staff)
    assert Affiliation.objects.count() == 1
    mine = institution.affiliations.get()
    with pytest.raises(ValidationError):  # another institution's declaration is not found through mine
        affiliation_withdraw(affiliation_id=mine.pk, owner=other, by=_other_staff)
    assert Course.objects.count() == 0

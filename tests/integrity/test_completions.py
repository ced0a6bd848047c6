"""The auditors' "online training potentially fictitious, paid without
control of completion": the daily scan flags an institution whose
participants complete impossibly fast, all at once or all with one
certificate file, and its payout waits for the officer."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import roles
from integrity.models import Case
from integrity.services.anomalies import completions_scan
from integrity.services.cases import case_decide
from integrity.tasks import scan_completions
from payouts.services import batches
from tests.factories import make_staff
from tests.payouts.conftest import completed_enrollment

pytestmark = pytest.mark.django_db


def test_an_institution_completing_three_at_once_with_one_file_is_flagged_and_its_payout_waits(
    committed, world, settings
):
    settings.INTEGRITY_ANOMALY_MIN = 3
    mill, mill_staff = world["institution"]("LPK Pabrik Sertifikat")
    honest, honest_staff = world["institution"]("LPK Jujur")
    made = [completed_enrollment(committed, world, mill, mill_staff, price=200_000) for _ in range(3)]
    completed_enrollment(committed, world, honest, honest_staff, price=300_000)

    assert scan_completions() == 3
    cases = {c.evidence["rule"]: c for c in Case.objects.filter(institution=mill)}
    assert set(cases) == {"too_fast", "same_minute", "same_certificate"}
    assert not Case.objects.filter(institution=honest).exists()  # one completion trips nothing
    fast = cases["too_fast"]
    assert fast.evidence["count"] == 3 and sorted(fast.evidence["enrollments"]) == sorted(e.pk for e in made)
    assert fast.evidence["fastest_minutes"] < 1 and fast.evidence["course_hours"] >= 1
    assert cases["same_certificate"].evidence["groups"][0]["n"] == 3
    assert all(c.amount_held == 600_000 and c.holds_money and c.stage == "scan" for c in cases.values())
    # The same findings again the same week are the same cases.
    assert completions_scan() == []

    maker = make_staff(roles.PMO_FINANCE_MAKER)
    batch = batches.payout_batch_build(by=maker, cutoff=timezone.now())
    assert batch.enrollment_count == 1  # the honest institution's only
    batches.payout_batch_discard(batch_id=batch.pk, by=maker)

    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    for case in cases.values():
        case_decide(case_id=case.pk, by=reviewer, decision="clear", reason="webinar recordings checked: attended")
    batch = batches.payout_batch_build(by=maker, cutoff=timezone.now())
    assert batch.enrollment_count == 4


def test_below_the_threshold_nothing_is_flagged(committed, world, settings):
    settings.INTEGRITY_ANOMALY_MIN = 3
    institution, staff = world["institution"]("LPK Kecil")
    for _ in range(2):
        completed_enrollment(committed, world, institution, staff)
    assert completions_scan() == []
    with pytest.raises(ValidationError):
        case_decide(case_id=0, by=make_staff(roles.PMO_KYC_REVIEWER), decision="clear", reason="")

import pytest
from django.core.management import call_command

from catalog.models import Course, CourseRevision, Institution, Platform
from catalog.selectors import on_sale

pytestmark = pytest.mark.django_db


def test_the_demo_loads_the_first_year_partners_and_sisnakers_catalog():
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Platform.objects.count() == 8
    sisnaker = Platform.objects.get(name="Sisnaker")
    assert sisnaker.institutions.count() == 14
    assert set(Institution.objects.values_list("kind", flat=True)) == {
        "blk_komunitas",
        "blk_pemerintah",
        "blk_luar_negeri",
        "lpk_swasta",
    }
    assert Course.objects.filter(platform=sisnaker).count() == 152
    published = on_sale().count()
    assert published > 152 // 2
    statuses = set(CourseRevision.objects.exclude(status="published").values_list("status", flat=True))
    assert statuses == {"draft", "submitted", "stage1_approved"}
    # A graduate whose course waits for the next payout batch, with incentives.
    from enrollment.models import Enrollment
    from payouts.services.incentives import first_reviewed_course

    rina = Enrollment.objects.get(participant__user__email="rina@demo.prakerja.id")
    assert rina.status == "completed" and first_reviewed_course(rina.participant) == rina
    # Running it again changes nothing.
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Course.objects.count() == 152

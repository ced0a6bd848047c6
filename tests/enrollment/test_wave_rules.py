"""A wave's money rules have bounds in admin, in the model and in the
database, province quotas never add up to more than the total, and a second
finance officer approves the rules by opening the wave (issue 12)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from enrollment.models import RULE_BOUNDS, Wave, WaveProvinceQuota
from enrollment.services import waves
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"


def draft(**rules) -> Wave:
    now = timezone.now()
    values = {"number": 3, "opens_at": now, "closes_at": now + datetime.timedelta(days=7), "quota": 100}
    return Wave.objects.create(**{**values, **rules})


def add_form(**changes) -> dict:
    """The admin's add-wave form as a maker fills it (management forms included)."""
    today = timezone.localtime()
    data = {
        "number": "9",
        "opens_at_0": today.strftime("%Y-%m-%d"),
        "opens_at_1": "08:00:00",
        "closes_at_0": (today + datetime.timedelta(days=14)).strftime("%Y-%m-%d"),
        "closes_at_1": "17:00:00",
        "quota": "1000",
        "training_balance": "1000000",
        "purchase_deadline_days": "30",
        "reminder_days_before": "7",
        "voucher_valid_days": "14",
        "incentive_monthly_amount": "600000",
        "incentive_months": "4",
        "survey_incentive_amount": "50000",
        "survey_count": "3",
        "attendance_rule": "all",
        "max_monthly_wage": "3500000",
        "wage_rule": "refuse",
        "pupils_ineligible": "on",
        "province_quotas-TOTAL_FORMS": "0",
        "province_quotas-INITIAL_FORMS": "0",
        "province_quotas-MIN_NUM_FORMS": "0",
        "province_quotas-MAX_NUM_FORMS": "1000",
        "audit-auditevent-content_type-object_id-TOTAL_FORMS": "0",
        "audit-auditevent-content_type-object_id-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("training_balance", "10000000000"),  # a typo of three zeros
        ("training_balance", "0"),
        ("incentive_monthly_amount", "60000000"),
        ("incentive_months", "120"),
        ("survey_count", "50"),
        ("survey_incentive_amount", "5000000"),
        ("voucher_valid_days", "0"),
        ("purchase_deadline_days", "900"),
        ("quota", "0"),
        ("reminder_days_before", "30"),  # not before a 30-day deadline
        ("closes_at_0", "2029-01-01"),  # open for years
    ],
)
def test_a_rule_out_of_bounds_is_refused_in_admin_with_a_message(client, field, value):
    client.force_login(make_staff(roles.PMO_FINANCE_MAKER))
    response = client.post(reverse("admin:enrollment_wave_add"), add_form(**{field: value}))
    assert response.status_code == 200
    name = field.removesuffix("_0")
    assert response.context["adminform"].form.errors.get(name), response.context["adminform"].form.errors
    assert not Wave.objects.exists()


def test_province_quotas_over_the_total_are_refused_in_admin(client):
    client.force_login(make_staff(roles.PMO_FINANCE_MAKER))
    quotas = {
        "province_quotas-TOTAL_FORMS": "2",
        "province_quotas-0-province_code": "32",
        "province_quotas-0-quota": "700",
        "province_quotas-1-province_code": "31",
        "province_quotas-1-quota": "400",
    }
    response = client.post(reverse("admin:enrollment_wave_add"), add_form(**quotas))
    assert response.status_code == 200
    assert "add up to 1100, more than the wave" in response.content.decode()
    assert not Wave.objects.exists()
    response = client.post(reverse("admin:enrollment_wave_add"), add_form(**quotas, quota="1100"))
    assert response.status_code == 302
    assert sum(WaveProvinceQuota.objects.values_list("quota", flat=True)) == 1100


@pytest.mark.parametrize(("name", "bounds"), sorted(RULE_BOUNDS.items()))
def test_the_database_refuses_each_rule_out_of_bounds_whatever_writes_it(name, bounds):
    wave = draft()
    low, high = bounds
    for value in (low - 1, high + 1):
        if value < 0:
            continue
        with transaction.atomic(), pytest.raises(IntegrityError):
            Wave.objects.filter(pk=wave.pk).update(**{name: value})


def test_the_database_refuses_province_quotas_over_the_total():
    wave = draft(quota=100)
    WaveProvinceQuota.objects.create(wave=wave, province_code="32", quota=60)
    with pytest.raises(IntegrityError), transaction.atomic():
        WaveProvinceQuota.objects.create(wave=wave, province_code="31", quota=50)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the check runs at commit
    with pytest.raises(IntegrityError), transaction.atomic():
        Wave.objects.filter(pk=wave.pk).update(quota=59)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert Wave.objects.get(pk=wave.pk).quota == 100


def test_the_maker_who_set_the_rules_cannot_open_the_wave_a_checker_approves_them(client):
    maker = make_staff(roles.PMO_FINANCE_MAKER)
    client.force_login(maker)
    assert client.post(reverse("admin:enrollment_wave_add"), add_form()).status_code == 302
    wave = Wave.objects.get()
    open_url = reverse("admin:enrollment_wave_open", args=[wave.pk])
    assert client.post(open_url).status_code == 302  # back to the wave, with the message
    assert Wave.objects.get(pk=wave.pk).status == "draft"
    with pytest.raises(PermissionDenied):
        waves.wave_open(wave=wave, by=maker)

    # A checker who also edited the rules (a user with both roles) may not either.
    both = make_staff(roles.PMO_FINANCE_CHECKER)
    both.groups.add(*maker.groups.all())
    wave.survey_count = 4
    waves.wave_rules_save(wave=wave, fields=["survey_count"], by=both)
    with pytest.raises(ValidationError) as refused:
        waves.wave_open(wave=wave, by=both)
    assert refused.value.code == "own_rules"

    checker = make_staff(roles.PMO_FINANCE_CHECKER)
    client.force_login(checker)
    page = client.get(open_url).content.decode()
    assert "You approve the rules of this wave" in page
    client.post(open_url)
    wave.refresh_from_db()
    assert wave.status == "open"
    opened = wave.events.get(to_status="open")
    assert opened.actor == checker and opened.payload["rules"]["survey_count"] == 4
    # Approved rules are fixed: the form shows them read only.
    client.force_login(maker)
    form = client.get(reverse("admin:enrollment_wave_change", args=[wave.pk])).context["adminform"].form
    assert "training_balance" not in form.fields and "quota" not in form.fields


def test_quota_edits_count_as_setting_the_rules_and_a_stale_approval_page_is_refused(client):
    maker = make_staff(roles.PMO_FINANCE_MAKER)
    client.force_login(maker)
    client.post(reverse("admin:enrollment_wave_add"), add_form())
    wave = Wave.objects.get()
    both = make_staff(roles.PMO_FINANCE_CHECKER)
    both.groups.add(*maker.groups.all())
    client.force_login(both)
    change = reverse("admin:enrollment_wave_change", args=[wave.pk])
    page = client.get(change)
    data = {
        **add_form(
            **{
                "province_quotas-TOTAL_FORMS": "1",
                "province_quotas-0-province_code": "32",
                "province_quotas-0-quota": "300",
                "province_quotas-0-wave": str(wave.pk),
            }
        ),
        "_continue": "1",
    }
    assert page.status_code == 200 and client.post(change, data).status_code == 302
    assert wave.events.filter(name="province quotas", actor=both).exists()
    with pytest.raises(ValidationError) as refused:
        waves.wave_open(wave=wave, by=both)
    assert refused.value.code == "own_rules"

    checker = make_staff(roles.PMO_FINANCE_CHECKER)
    seen = waves.wave_rules_digest(wave)
    client.force_login(maker)
    Wave.objects.filter(pk=wave.pk).update(training_balance=2_000_000)  # changed after the page was shown
    client.force_login(checker)
    client.post(reverse("admin:enrollment_wave_open", args=[wave.pk]), {"rules": seen})
    assert Wave.objects.get(pk=wave.pk).status == "draft"
    page = client.get(reverse("admin:enrollment_wave_open", args=[wave.pk])).content.decode()
    fresh = waves.wave_rules_digest(Wave.objects.get(pk=wave.pk))
    assert fresh in page
    client.post(reverse("admin:enrollment_wave_open", args=[wave.pk]), {"rules": fresh})
    assert Wave.objects.get(pk=wave.pk).status == "open"

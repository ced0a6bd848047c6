"""KPK's finding on platforms' commissions: each platform's declared rate
is recorded and capped at 15% (Permenko 11/2020), and every sale records
its commission as a figure (no money moves for it: the whole fee goes to
the institution)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog.models import Platform
from enrollment.services import purchases
from payments.models import Account

from .conftest import card_holder

pytestmark = pytest.mark.django_db


def test_a_rate_above_15_percent_is_refused_by_the_form_and_the_database(courses):
    platform = courses.world["platform"]
    platform.commission_rate = Decimal("15.01")
    with pytest.raises(ValidationError) as exc:
        platform.full_clean()
    assert "commission_rate" in exc.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Platform.objects.filter(pk=platform.pk).update(commission_rate=Decimal("20"))
    platform.commission_rate = Decimal("15")
    platform.full_clean()


def test_each_sale_records_the_commission_and_the_institution_gets_the_whole_fee(committed, courses):
    platform = courses.world["platform"]
    Platform.objects.filter(pk=platform.pk).update(commission_rate=Decimal("12.5"))
    card = card_holder(committed)
    (course,) = courses(333_333)
    enrollment = purchases.enrollment_submit(participant=card.participant, course=course, request_key="k")
    assert enrollment.status == "authorised"
    assert enrollment.commission == 41_667  # 12.5% of Rp 333,333, rounded half up
    assert Account.objects.get(pk=card.account_id).held == 333_333  # the whole fee, nothing split off

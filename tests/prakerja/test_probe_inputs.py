"""The bad input a probe of the demo got through: each attack made again,
each answered with a message (or a refusal) and nothing half-written."""

import json
import logging

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import roles
from catalog.models import Course, CurationDecision
from catalog.services import course_set_suspended, revision_decide, revision_submit
from enrollment.models import Enrollment
from payments.channels import account_number_clean
from payouts.models import PayoutBatch
from tests.catalog.test_catalog import ALL1, course_input, world  # noqa: F401  (fixture)
from tests.enrollment.conftest import card_holder, courses  # noqa: F401  (fixture)
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"


# ------------------------------------------------------------ payout webhook


def webhook(client, data, raw=None):
    body = raw if raw is not None else json.dumps({"event": "payout.succeeded", "data": data})
    return client.post(
        reverse("payouts:gateway_webhook"),
        body,
        content_type="application/json",
        headers={"x-callback-token": settings.XENDIT_CALLBACK_TOKEN},
    )


GOOD = {"id": "disb-1", "reference_id": "x-1", "status": "SUCCEEDED", "amount": 1000}


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "lots"},
        {"amount": [1000]},
        {"amount": 10**30},
        {"amount": -5},
        {"amount": True},
        {"amount": 12.5},
        {"id": "disb-1\n2026-12-02 INFO payouts payout 7 succeeded"},
        {"id": "../../v2/balance"},
        {"id": ["disb-1"]},
        {"id": ""},
        {"status": "SUCCEEDED\nforged"},
        {"reference_id": {"$ne": None}},
    ],
)
def test_a_webhook_with_a_malformed_field_is_refused_not_a_500_and_logs_no_raw_input(client, caplog, change):
    with caplog.at_level(logging.WARNING):
        response = webhook(client, {**GOOD, **change})
    assert response.status_code == 403
    assert response.json() == {"error": "rejected"}
    for record in caplog.records:
        assert "\n" not in record.getMessage()
        assert "forged" not in record.getMessage() and "balance" not in record.getMessage()


@pytest.mark.parametrize("raw", ["[]", '{"data": []}', '{"data": "x"}', "null", '{"data": {"id": 1}}'])
def test_a_webhook_body_of_the_wrong_shape_is_refused(client, raw):
    assert webhook(client, None, raw=raw).status_code == 403


def test_the_gateway_client_quotes_the_id_it_puts_in_a_url(settings):
    from payments.gateway import GatewayError
    from payments.gateway.xendit import XenditPayoutGateway

    seen = []

    class Session:
        auth = None

        def request(self, method, url, **kwargs):
            seen.append(url)
            raise AssertionError("no request may be sent")

    gateway = XenditPayoutGateway(base_url="http://127.0.0.1:9", secret_key="k", callback_token="t")
    gateway.session = Session()
    for bad in ("../balance", "a/b", "a?b=1", "a b", "x" * 101):
        with pytest.raises(GatewayError):
            gateway.get_payout(bad)
    assert seen == []


# -------------------------------------------------------- ids and dates bounded


def test_an_id_too_big_for_the_database_is_a_dropped_filter_not_a_500(client):
    response = client.get(reverse("catalog:list"), {"institution": "9" * 31})
    assert response.status_code == 200
    response = client.get(reverse("catalog:list"), {"institution": "٣", "min_price": "9" * 40})
    assert response.status_code == 200


def test_a_payout_cutoff_in_year_one_is_refused_with_a_message(client):
    client.force_login(make_staff(roles.PMO_FINANCE_MAKER))
    response = client.post(reverse("admin:payouts_payoutbatch_add"), {"cutoff_0": "0001-01-01", "cutoff_1": "00:00"})
    assert response.status_code == 200
    assert "Enter a date between 2000 and 2099." in response.content.decode()
    assert not PayoutBatch.objects.exists()


def test_a_course_schedule_in_year_one_is_refused_next_to_the_field(client, world):  # noqa: F811
    institution, staff = world["institution"]("LPK Tanggal")
    client.force_login(staff)
    data = {k: v for k, v in vars(course_input()).items() if v is not None}
    data.update(platform=world["platform"].pk, starts_at="0001-01-01T00:00")
    response = client.post(reverse("catalog:institution_course_new"), data)
    assert response.status_code == 200
    assert "Enter a date between 2000 and 2099." in response.content.decode()
    assert not Course.objects.filter(institution=institution).exists()


# ---------------------------------------------------------------- checkout


def test_an_altered_hidden_field_of_the_checkout_says_so(committed, courses, client):  # noqa: F811
    card = card_holder(committed)
    (course,) = courses(300_000, title="Menjahit")
    client.force_login(card.participant.user)
    url = reverse("enrollment:checkout", args=[course.pk])
    revision = course.published_revision_id
    for hidden in (
        {"revision": "", "request_key": "k1"},
        {"revision": "9" * 25, "request_key": "k2"},
        {"revision": revision, "request_key": "k" * 65},
        {"revision": revision},
    ):
        response = client.post(url, {"action": "buy", "card_number": card.number, "code": "123456", **hidden})
        assert response.status_code == 200
        assert "This page is out of date or incomplete. Reload it and try again." in response.content.decode()
    assert not Enrollment.objects.exists()


# ---------------------------------------------------------------- digits


@pytest.mark.parametrize("typed", ["¹²³⁴⁵⁶⁷⁸", "①②③④⑤⑥", "12345６７８\u00b2"])
def test_superscript_or_circled_digits_are_no_bank_account_number(typed):
    with pytest.raises(ValidationError):
        account_number_clean("ID_BNI", typed)


def test_digits_of_other_scripts_are_stored_as_ascii():
    assert account_number_clean("ID_BNI", "١٢٣٤٥٦٧٨") == "12345678"
    assert account_number_clean("ID_BNI", "１２３４５ ６７８") == "12345678"


# ---------------------------------------------------------- free text limits


def test_a_rejection_reason_of_ten_thousand_characters_is_refused(world):  # noqa: F811
    from catalog.services import course_create

    institution, staff = world["institution"]("LPK Panjang")
    revision = course_create(institution=institution, platform=world["platform"], data=course_input(), by=staff)
    revision_submit(revision=revision, by=staff)
    with pytest.raises(ValidationError) as exc:
        revision_decide(
            revision=revision, stage=1, approve=False, checklist=ALL1, reason="x" * 10_000, by=world["curator1"]
        )
    assert "2000" in " ".join(exc.value.message_dict["reason"])
    assert not CurationDecision.objects.exists()


def test_the_database_refuses_an_over_long_reason_too(world):  # noqa: F811
    from django.db import DataError, transaction

    from catalog.services import course_create

    institution, staff = world["institution"]("LPK Basis Data")
    revision = course_create(institution=institution, platform=world["platform"], data=course_input(), by=staff)
    with pytest.raises(ValidationError):
        CurationDecision._meta.get_field("reason").clean("x" * 10_000, None)
    with transaction.atomic(), pytest.raises(DataError):
        CurationDecision.objects.create(
            revision=revision, stage=1, approved=False, reason="x" * 10_000, decided_by=world["curator1"]
        )


def test_a_suspension_reason_over_its_limit_is_refused_not_cut(world):  # noqa: F811
    from catalog.services import course_create

    institution, staff = world["institution"]("LPK Tangguh")
    revision = course_create(institution=institution, platform=world["platform"], data=course_input(), by=staff)
    course = Course.objects.get(pk=revision.course_id)
    with pytest.raises(ValidationError):
        course_set_suspended(course=course, suspended=True, reason="y" * 501, by=world["curator2"])
    course.refresh_from_db()
    assert not course.is_suspended and course.suspended_reason == ""


@pytest.mark.parametrize("raw_amount", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_a_webhook_amount_that_is_no_finite_number_is_refused(client, raw_amount):
    body = '{"event": "payout.succeeded", "data": {"id": "disb-1", "status": "SUCCEEDED", "amount": %s}}' % raw_amount
    assert webhook(client, None, raw=body).status_code == 403

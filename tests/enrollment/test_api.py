"""A platform sells and an institution delivers through the partner API
(issue 13), driven by the reference client: the web checkout's rules, the
platform's invoice, voids, and every refusal with its documented code."""

import datetime
import json
import time
import uuid

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts import sms
from enrollment.models import Enrollment
from partner_client import ApiError
from payments.models import Account
from prakerja.api.auth import sign
from tests.api import django_transport, partner

from .conftest import card_holder, ledger_ok, sms_code

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 sertifikat"


@pytest.fixture
def api(client, django_capture_on_commit_callbacks, courses):
    transport = django_transport(client, django_capture_on_commit_callbacks)
    world = courses.world
    other_institution, _staff = world["institution"]("LPK Lain")

    class Api:
        platform = partner("PLT-SISNAKER", transport, platform=world["platform"])
        other_platform = partner("PLT-TOKOPEDIA", transport, platform=world["other_platform"])
        institution = partner("LPK-MAJU", transport, institution=courses.institution)
        other_institution_client = partner("LPK-LAIN", transport, institution=other_institution)

    Api.transport = transport
    return Api


def refused(call, *args, **kwargs) -> tuple[int, str]:
    with pytest.raises(ApiError) as caught:
        call(*args, **kwargs)
    return caught.value.status, caught.value.code


def available(card) -> int:
    return Account.objects.get(pk=card.account_id).available


def buy(api, card, course, *, user="u-1", invoice="INV-1"):
    listed = api.platform.course(course.pk)
    sent = api.platform.send_otp(
        card_number=card.number,
        platform_user_id=user,
        course_id=course.pk,
        schedule_code=listed["schedule"]["code"],
        amount=listed["price"],
    )
    return api.platform.authorize(
        payment_token=sent["payment_token"],
        otp=sms_code(),
        invoice_code=invoice,
        invoice_url=f"https://sisnaker.example/invoice/{invoice}",
    )


def test_a_platform_sells_and_the_institution_redeems_and_completes(api, committed, courses):
    card = card_holder(committed)
    (course,) = courses(750_000)
    listed = list(api.platform.courses())
    assert [c["id"] for c in listed] == [course.pk]
    assert listed[0]["schedule"]["code"] == f"S{course.pk}-1" and listed[0]["price"] == 750_000

    sent = api.platform.send_otp(
        card_number=card.number,
        platform_user_id="u-1",
        course_id=course.pk,
        schedule_code=f"S{course.pk}-1",
        amount=750_000,
    )
    # The code goes to the card holder's phone, naming the course and price.
    assert sms.outbox[-1].to == card.participant.phone and "750.000" in sms.outbox[-1].body
    assert sent["sent_to"].endswith(card.participant.phone[-3:]) and card.participant.phone not in sent["sent_to"]
    purchase = api.platform.authorize(
        payment_token=sent["payment_token"],
        otp=sms_code(),
        invoice_code="INV-2026-0001",
        invoice_url="https://sisnaker.example/invoice/INV-2026-0001",
    )
    assert purchase["status"] == "authorised" and purchase["amount"] == 750_000
    assert purchase["participant_name"] == card.participant.full_name
    assert purchase["transaction_code"] == f"PRJ-{purchase['enrollment_id']}" and purchase["voucher_code"]
    assert available(card) == 250_000
    assert api.platform.purchase("INV-2026-0001")["status"] == "authorised"

    voucher = api.institution.voucher(purchase["voucher_code"])
    assert voucher["redeemable"] and voucher["enrollment"]["enrollment_id"] == purchase["enrollment_id"]
    assert api.institution.redeem(purchase["voucher_code"])["status"] == "redeemed"
    assert api.institution.voucher(purchase["voucher_code"]) | {"enrollment": None} == {
        "voucher_code": purchase["voucher_code"],
        "redeemable": False,
        "reason": "used",
        "enrollment": None,
    }
    done = api.institution.complete(purchase["enrollment_id"], PDF, "sertifikat.pdf")
    assert done["status"] == "completed"
    assert [e["status"] for e in api.institution.enrollments()] == ["completed"]
    assert [o["invoice_code"] for o in api.platform.orders(status="completed")] == ["INV-2026-0001"]
    enrollment = Enrollment.objects.get()
    assert enrollment.certificate and enrollment.invoice_code == "INV-2026-0001"
    assert enrollment.events.filter(reason="voucher redeemed through the API").exists()
    ledger_ok()


def test_send_otp_checks_the_rules_first_and_spends_no_code_on_a_purchase_bound_to_fail(api, committed, courses):
    card = card_holder(committed, balance=500_000)
    dear, other = courses(750_000, 300_000)
    sent_before = len(sms.outbox)

    def send(**change):
        values = {
            "card_number": card.number,
            "platform_user_id": "u-1",
            "course_id": dear.pk,
            "schedule_code": f"S{dear.pk}-1",
            "amount": 750_000,
        } | change
        return refused(api.platform.send_otp, **values)

    assert send() == (422, "insufficient_balance")
    assert send(amount=1) == (422, "amount_mismatch")
    assert send(schedule_code=f"S{other.pk}-1") == (422, "schedule_unknown")
    assert send(schedule_code="nonsense") == (422, "schedule_unknown")
    assert send(schedule_code=f"S{dear.pk}-7") == (422, "course_changed")
    assert send(card_number="0000000000000000") == (422, "card_unknown")
    assert send(course_id=10**15) == (404, "course_unknown")
    # Another platform's course is not this platform's to sell.
    assert refused(
        api.other_platform.send_otp,
        card_number=card.number,
        platform_user_id="u-1",
        course_id=other.pk,
        schedule_code=f"S{other.pk}-1",
        amount=300_000,
    ) == (404, "course_unknown")
    assert len(sms.outbox) == sent_before
    assert not Enrollment.objects.exists()


def test_a_platform_account_buys_with_one_card_only(api, committed, courses):
    first, second = card_holder(committed), card_holder(committed)
    one, two = courses(300_000, 300_000)
    assert buy(api, first, one, user="joki-1", invoice="A-1")["status"] == "authorised"
    # The same platform account with someone else's card, or the card from
    # another account of the same platform: refused before any SMS.
    for card, user in ((second, "joki-1"), (first, "joki-2")):
        assert refused(
            api.platform.send_otp,
            card_number=card.number,
            platform_user_id=user,
            course_id=two.pk,
            schedule_code=f"S{two.pk}-1",
            amount=300_000,
        ) == (422, "card_not_yours")
    assert Enrollment.objects.count() == 1


def test_the_invoice_code_is_the_platforms_own_and_others_read_as_not_found(api, committed, courses):
    first, second = card_holder(committed), card_holder(committed)
    one, two = courses(300_000, 300_000)
    bought = buy(api, first, one, user="u-1", invoice="INV-1")
    listed = api.platform.course(two.pk)
    sent = api.platform.send_otp(
        card_number=second.number,
        platform_user_id="u-2",
        course_id=two.pk,
        schedule_code=listed["schedule"]["code"],
        amount=300_000,
    )
    assert refused(
        api.platform.authorize,
        payment_token=sent["payment_token"],
        otp=sms_code(),
        invoice_code="INV-1",
        invoice_url="https://sisnaker.example/i",
    ) == (409, "invoice_code_used")
    # Another platform's invoice and another institution's voucher: 404.
    assert refused(api.other_platform.purchase, "INV-1") == (404, "not_found")
    assert refused(api.other_platform.void, "INV-1") == (404, "not_found")
    assert refused(api.other_institution_client.voucher, bought["voucher_code"]) == (404, "voucher_unknown")
    assert refused(api.other_institution_client.redeem, bought["voucher_code"]) == (404, "voucher_unknown")
    assert refused(api.other_institution_client.complete, bought["enrollment_id"], PDF, "s.pdf") == (404, "not_found")
    # Each kind of client keeps to its own endpoints.
    assert refused(
        api.institution.send_otp, card_number="1", platform_user_id="u", course_id=1, schedule_code="S1-1", amount=1
    ) == (403, "platform_only")
    assert refused(api.platform.voucher, bought["voucher_code"]) == (403, "institution_only")
    assert Enrollment.objects.get().status == "authorised"


def test_a_void_before_redeem_gives_the_balance_back_and_after_it_is_refused(api, committed, courses, settings):
    settings.OTP_RESEND_INTERVAL_SECONDS = 0  # a second purchase at once
    card = card_holder(committed)
    one, two = courses(400_000, 400_000)
    buy(api, card, one, invoice="V-1")
    assert available(card) == 600_000
    assert api.platform.void("V-1")["status"] == "cancelled"
    assert api.platform.void("V-1")["status"] == "cancelled"  # once is enough; again changes nothing
    assert available(card) == 1_000_000
    bought = buy(api, card, two, invoice="V-2")
    api.institution.redeem(bought["voucher_code"])
    assert refused(api.platform.void, "V-2") == (409, "not_voidable")
    assert available(card) == 600_000
    ledger_ok()


def test_a_wrong_code_declines_nothing_and_a_declined_purchase_says_why(api, committed, courses):
    card = card_holder(committed)
    (course,) = courses(300_000)
    sent = api.platform.send_otp(
        card_number=card.number,
        platform_user_id="u-1",
        course_id=course.pk,
        schedule_code=f"S{course.pk}-1",
        amount=300_000,
    )
    wrong = "000000" if sms_code() != "000000" else "111111"
    with pytest.raises(ApiError) as caught:
        api.platform.authorize(
            payment_token=sent["payment_token"], otp=wrong, invoice_code="W-1", invoice_url="https://x.example/1"
        )
    assert (caught.value.status, caught.value.code) == (422, "otp_wrong") and "otp" in caught.value.fields
    assert refused(
        api.platform.authorize,
        payment_token=sent["payment_token"] + "x",
        otp=sms_code(),
        invoice_code="W-1",
        invoice_url="https://x.example/1",
    ) == (422, "token_invalid")
    # Another platform cannot use this platform's token.
    assert refused(
        api.other_platform.authorize,
        payment_token=sent["payment_token"],
        otp=sms_code(),
        invoice_code="W-1",
        invoice_url="https://x.example/1",
    ) == (422, "token_invalid")
    assert not Enrollment.objects.exists() and available(card) == 1_000_000


def test_idempotency_keys_follow_stripes_rules(api, committed, courses):
    card = card_holder(committed)
    (course,) = courses(300_000)
    payload = {
        "card_number": card.number,
        "platform_user_id": "u-1",
        "course_id": course.pk,
        "schedule_code": f"S{course.pk}-1",
        "amount": 300_000,
    }
    key = str(uuid.uuid4())
    first = api.platform.send_otp(**payload, idempotency_key=key)
    sent = len(sms.outbox)
    again = api.platform.send_otp(**payload, idempotency_key=key)
    assert again == first and len(sms.outbox) == sent  # the first response, and no second SMS
    assert refused(api.platform.send_otp, **(payload | {"amount": 1}), idempotency_key=key) == (
        422,
        "idempotency_key_reused",
    )
    # A refusal is kept too: the same key and body get the same refusal.
    bad = str(uuid.uuid4())
    assert refused(api.platform.send_otp, **(payload | {"amount": 1}), idempotency_key=bad) == (422, "amount_mismatch")
    assert refused(api.platform.send_otp, **(payload | {"amount": 1}), idempotency_key=bad) == (422, "amount_mismatch")
    # Another client may use the same key for its own request.
    assert refused(api.institution.redeem, "NOPE", idempotency_key=key) == (404, "voucher_unknown")
    # A POST without a key.
    stamp, nonce = str(int(time.time())), "n" * 20
    body = json.dumps(payload).encode()
    path = "/api/v1/purchases/send-otp"
    response = api.transport(
        "POST",
        f"http://testserver{path}",
        {
            "Content-Type": "application/json",
            "X-Client-Code": "PLT-SISNAKER",
            "X-Timestamp": stamp,
            "X-Nonce": nonce,
            "X-Signature": sign(api.platform.secret, "PLT-SISNAKER", stamp, nonce, "POST", path, body),
        },
        body,
    )
    assert response.status == 400 and response.json()["error"]["code"] == "idempotency_key_missing"


def raw(api, method, path, body: bytes, content_type="application/json", language="en"):
    stamp, nonce = str(int(time.time())), uuid.uuid4().hex
    headers = {
        "Content-Type": content_type,
        "Accept-Language": language,
        "Idempotency-Key": str(uuid.uuid4()),
        "X-Client-Code": "PLT-SISNAKER",
        "X-Timestamp": stamp,
        "X-Nonce": nonce,
        "X-Signature": sign(api.platform.secret, "PLT-SISNAKER", stamp, nonce, method, path, body),
    }
    reply = api.transport(method, f"http://testserver{path}", headers, body)
    return reply.status, reply.json()["error"]


def test_bad_bodies_get_their_documented_codes_and_change_nothing(api, committed, courses):
    card = card_holder(committed)
    (course,) = courses(300_000)
    texted = len(sms.outbox)
    path = "/api/v1/purchases/send-otp"
    good = {
        "card_number": card.number,
        "platform_user_id": "u-1",
        "course_id": course.pk,
        "schedule_code": f"S{course.pk}-1",
        "amount": 300_000,
    }
    huge = json.dumps(good | {"padding": "x" * 10 * 2**20}).encode()
    assert raw(api, "POST", path, huge)[0:1] == (413,)
    assert raw(api, "POST", path, huge)[1]["code"] == "body_too_large"
    assert raw(api, "POST", path, json.dumps(good).encode(), content_type="text/plain")[1]["code"] == (
        "unsupported_media_type"
    )
    status, error = raw(api, "POST", path, json.dumps(good | {"cardnumber": "1"}).encode())
    assert (status, error["code"], list(error["fields"])) == (400, "unknown_field", ["cardnumber"])
    status, error = raw(api, "POST", path, b"{not json")
    assert (status, error["code"]) == (400, "parse_error")
    status, error = raw(api, "POST", path, json.dumps(good | {"amount": "lots"}).encode())
    assert (status, error["code"], list(error["fields"])) == (400, "invalid_input", ["amount"])
    status, error = raw(api, "POST", path, json.dumps(good | {"amount": 1}).encode(), language="id")
    assert error["code"] == "amount_mismatch" and "berbeda" in error["message"]
    status, error = raw(api, "POST", path, json.dumps(good | {"amount": 1}).encode(), language="en")
    assert "differs" in error["message"]
    assert not Enrollment.objects.exists() and len(sms.outbox) == texted


def test_a_certificate_that_is_not_a_document_is_refused(api, committed, courses):
    card = card_holder(committed)
    (course,) = courses(300_000)
    bought = buy(api, card, course)
    api.institution.redeem(bought["voucher_code"])
    status, code = refused(api.institution.complete, bought["enrollment_id"], b"MZ\x90\x00 not a pdf", "s.pdf")
    assert (status, code) == (422, "bad_type")
    assert Enrollment.objects.get().status == "redeemed"


@override_settings(REST_FRAMEWORK={**__import__("django.conf").conf.settings.REST_FRAMEWORK})
def test_past_its_rate_a_client_is_told_when_to_come_back(api, monkeypatch):
    from prakerja.api.throttling import ClientRateThrottle

    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": "3/min"})
    for _ in range(3):
        api.platform.whoami()
    api.platform.retries = 0
    reply = None
    with pytest.raises(ApiError) as caught:
        api.platform.whoami()
    assert (caught.value.status, caught.value.code) == (429, "throttled")
    # Another client has its own count.
    assert api.other_platform.whoami()["client_code"] == "PLT-TOKOPEDIA"
    assert reply is None


def test_a_key_is_forgotten_after_a_day(api, committed, courses):
    from catalog.models import IdempotentRequest
    from prakerja.tasks import purge_idempotency_keys

    card = card_holder(committed)
    (course,) = courses(300_000)
    payload = {
        "card_number": card.number,
        "platform_user_id": "u-1",
        "course_id": course.pk,
        "schedule_code": f"S{course.pk}-1",
        "amount": 1,
    }
    key = str(uuid.uuid4())
    assert refused(api.platform.send_otp, **payload, idempotency_key=key) == (422, "amount_mismatch")
    IdempotentRequest.objects.update(started_at=timezone.now() - datetime.timedelta(hours=25))
    # A day on, the same key is a new request (here: another body, accepted).
    assert api.platform.send_otp(**(payload | {"amount": 300_000}), idempotency_key=key)["payment_token"]
    IdempotentRequest.objects.update(started_at=timezone.now() - datetime.timedelta(hours=25))
    assert purge_idempotency_keys() == 1 and not IdempotentRequest.objects.exists()

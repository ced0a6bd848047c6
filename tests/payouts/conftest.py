"""Completed enrolments built through the services, a stand-in payment
gateway on loopback whose webhooks reach a live test server, and the PMO's
maker and checker."""

import json
import time
import urllib.request

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import roles
from catalog.models import Course
from catalog.services import course_create, revision_decide, revision_submit
from enrollment.models import Enrollment
from enrollment.services import delivery, purchases
from payments.gateway.standin import StandinGateway
from tests.catalog.test_catalog import ALL1, ALL2, course_input, world  # noqa: F401  (fixture)
from tests.enrollment.conftest import _english, card_holder, ledger_ok, verified_participant  # noqa: F401
from tests.factories import make_staff

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def completed_enrollment(committed, world, institution, staff, *, platform=None, price=300_000) -> Enrollment:  # noqa: F811
    """A participant buys a course of ``institution`` on ``platform``, the
    institution redeems the voucher and reports completion."""
    platform = platform or world["platform"]
    institution.platforms.add(platform)
    revision = course_create(
        institution=institution, platform=platform, data=course_input(price=price, title="Kursus Las"), by=staff
    )
    revision_submit(revision=revision, by=staff)
    revision_decide(revision=revision, stage=1, approve=True, checklist=ALL1, reason="", by=world["curator1"])
    revision_decide(revision=revision, stage=2, approve=True, checklist=ALL2, reason="", by=world["curator2"])
    course = Course.objects.get(pk=revision.course_id)
    card = card_holder(committed)
    enrollment = purchases.enrollment_submit(participant=card.participant, course=course, request_key=f"k{course.pk}")
    assert enrollment.status == "authorised", enrollment.decline_code
    delivery.enrollment_redeem(user=staff, voucher_code=enrollment.voucher_code)
    return committed(
        delivery.enrollment_complete,
        user=staff,
        enrollment_id=enrollment.pk,
        certificate=SimpleUploadedFile("sertifikat.pdf", PDF),
    )


@pytest.fixture
def finance():
    return {
        "maker": make_staff(roles.PMO_FINANCE_MAKER),
        "checker": make_staff(roles.PMO_FINANCE_CHECKER),
        "checker2": make_staff(roles.PMO_FINANCE_CHECKER),
    }


class Standin:
    """The stand-in gateway with helpers to steer it as the tests do over
    its HTTP control endpoint."""

    def __init__(self, gateway: StandinGateway):
        self.gateway = gateway
        self.url = gateway.url

    def mode(self, mode, account_number=None, **extra):
        body = {"mode": mode, **extra}
        if account_number:
            body["account_number"] = account_number
        request = urllib.request.Request(self.url + "/_standin/mode", data=json.dumps(body).encode(), method="POST")
        urllib.request.urlopen(request, timeout=5).close()

    def payouts(self) -> list[dict]:
        with urllib.request.urlopen(self.url + "/_standin/payouts", timeout=5) as response:
            return json.loads(response.read())


@pytest.fixture
def standin(settings, live_server):
    """A stand-in gateway on a free port; its webhooks go to the live test
    server's webhook endpoint, the way Xendit's reach ours."""
    settings.XENDIT_SECRET_KEY = "xnd_development_tests"
    settings.XENDIT_CALLBACK_TOKEN = "callback-token-of-the-tests"
    settings.XENDIT_TIMEOUT_SECONDS = 1
    settings.PAYOUT_RETRY_BASE_SECONDS = 0.01
    settings.PAYOUT_SEND_RETRIES = 2
    gateway = StandinGateway(
        secret_key=settings.XENDIT_SECRET_KEY,
        callback_token=settings.XENDIT_CALLBACK_TOKEN,
        webhook_url=live_server.url + reverse("payouts:gateway_webhook"),
    ).start()
    settings.XENDIT_BASE_URL = gateway.url
    yield Standin(gateway)
    gateway.stop()

"""Each role lands on its own home after logging in, and a refusal no view
caught is a message in the person's language, never a 500."""

import json

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory
from django.utils import translation

from accounts import roles
from catalog.models import Institution, Platform
from payouts.models import PayoutBatch
from prakerja.errors import IllegalTransition
from prakerja.lifecycle import check_move
from prakerja.web import DomainErrorMiddleware
from tests.factories import UserFactory, make_operator, make_participant, make_staff

pytestmark = pytest.mark.django_db


def _lands(client, user) -> str:
    response = client.post("/akun/login/", {"login": user.email, "password": "s3cret-Passw0rd"}, follow=True)
    return response.redirect_chain[-1][0]


def test_each_role_lands_on_its_own_home_after_logging_in(client):
    institution = Institution.objects.create(name="LPK Las", kind="lpk_swasta", address="Jl. 1", province_code="32")
    institution_staff = UserFactory()
    institution.staff.add(institution_staff)
    platform = Platform.objects.create(name="Sisnaker", payout_route="direct")
    platform_staff = UserFactory()
    platform.staff.add(platform_staff)
    participant = make_participant()

    landings = {}
    for name, user in [
        ("institution", institution_staff),
        ("platform", platform_staff),
        ("dinas", make_operator("32")),
        ("pmo", make_staff(roles.PMO_FINANCE_MAKER)),
        ("participant", participant.user),
        ("new", UserFactory()),
    ]:
        landings[name] = _lands(client, user).split("?")[0]
        client.logout()
    assert landings == {
        "institution": "/lembaga/",
        "platform": "/mitra/",
        "dinas": "/dinas/",
        "pmo": "/akun/reauthenticate/",  # to set up their second factor, after the password again
        "participant": "/",
        "new": "/peserta/daftar/",
    }


def _request(method: str, path: str, **extra):
    request = getattr(RequestFactory(), method)(path, **extra)
    SessionMiddleware(lambda r: None).process_request(request)
    MessageMiddleware(lambda r: None).process_request(request)
    return request


def _refusal():
    with translation.override("id"):
        try:
            check_move({PayoutBatch.Status.DRAFT: frozenset({PayoutBatch.Status.SUBMITTED})}, "settled", "submitted")
        except IllegalTransition as exc:
            return exc
    raise AssertionError("the move was allowed")


def test_an_illegal_move_reads_as_a_message_in_the_status_peoples_words():
    refusal = _refusal()
    assert refusal.code == "illegal_transition"
    assert "“selesai dibayar”" in refusal.message and "settled" not in refusal.message


def test_an_uncaught_refusal_after_a_post_goes_back_with_the_message():
    middleware = DomainErrorMiddleware(lambda r: None)
    request = _request("post", "/admin/payouts/payoutbatch/1/submit/", HTTP_REFERER="http://testserver/admin/x/")
    response = middleware.process_exception(request, _refusal())
    assert (response.status_code, response.url) == (302, "http://testserver/admin/x/")
    assert [str(m) for m in get_messages(request)] == [_refusal().message]

    # A referer elsewhere is not followed: back to the page itself.
    request = _request("post", "/peserta/kartu/", HTTP_REFERER="https://evil.example/")
    assert middleware.process_exception(request, _refusal()).url == "/peserta/kartu/"


def test_an_uncaught_refusal_on_a_get_is_a_page_with_the_message_and_the_api_gets_json():
    middleware = DomainErrorMiddleware(lambda r: None)
    page = middleware.process_exception(_request("get", "/peserta/kartu/"), _refusal())
    assert page.status_code == 409 and "selesai dibayar" in page.content.decode()
    api = middleware.process_exception(_request("post", "/api/v1/x/"), _refusal())
    assert api.status_code == 409 and json.loads(api.content)["error"]["code"] == "illegal_transition"
    assert middleware.process_exception(_request("get", "/"), KeyError("x")) is None


@pytest.mark.parametrize("path", ["/", "/kursus/", "/akun/login/", "/admin/", "/tidak-ada/"])
def test_every_page_carries_a_strict_content_security_policy(client, path):
    if path == "/admin/":
        client.force_login(make_staff(roles.PMO_CURATOR))
    response = client.get(path)
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]

"""The partner API's signed requests (issue 13, first part): credentials
issued in admin and shown once, HMAC-SHA256 over client code, timestamp,
method, path and body, a 5-minute window, no replay, rotation with an
overlap, revocation; each refusal a 401 with its reason code."""

import datetime
import re
import secrets
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from catalog.credentials import api_key_issue
from catalog.models import ApiClient, ApiKey
from prakerja.api.auth import sign
from tests.catalog.test_catalog import world  # noqa: F401  (fixture)
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

WHOAMI = "/api/v1/whoami"


@pytest.fixture
def client_and_key(world):  # noqa: F811
    api_client = ApiClient.objects.create(code="PLT-SISNAKER", platform=world["platform"])
    return api_client, api_key_issue(client=api_client, by=make_staff(roles.PMO_CURATOR))


def signed(client, path, *, code, secret, stamp=None, nonce=None, method="GET", body=b"", signature=None, **headers):
    stamp = str(int(time.time())) if stamp is None else stamp
    nonce = nonce or secrets.token_urlsafe(18)
    signature = signature or sign(secret, code, stamp, nonce, method, path, body)
    headers = {"X-Client-Code": code, "X-Timestamp": stamp, "X-Nonce": nonce, "X-Signature": signature, **headers}
    call = getattr(client, method.lower())
    return (
        call(path, data=body, content_type="application/json", headers=headers) if body else call(path, headers=headers)
    )


def refusal(response) -> str:
    assert response.status_code == 401, response.content
    return response.json()["error"]["code"]


def test_a_signed_request_is_answered_with_the_client_it_proves(client, client_and_key, world):  # noqa: F811
    api_client, secret = client_and_key
    response = signed(client, WHOAMI, code=api_client.code, secret=secret)
    assert response.status_code == 200
    assert response.json()["client_code"] == "PLT-SISNAKER"
    assert response.json()["partner"] == {"kind": "platform", "id": world["platform"].pk, "name": "Sisnaker"}


def test_unsigned_wrong_key_stale_tampered_and_replayed_requests_are_refused(client, client_and_key):
    api_client, secret = client_and_key
    code = api_client.code
    assert refusal(client.get(WHOAMI)) == "signature_missing"
    assert refusal(signed(client, WHOAMI, code=code, secret="not-the-key")) == "signature_invalid"
    assert refusal(signed(client, WHOAMI, code="PLT-NOBODY", secret=secret)) == "client_unknown"
    old = str(int(time.time()) - 301)
    assert refusal(signed(client, WHOAMI, code=code, secret=secret, stamp=old)) == "timestamp_out_of_window"
    assert refusal(signed(client, WHOAMI, code=code, secret=secret, stamp="12.5")) == "timestamp_invalid"
    assert refusal(signed(client, WHOAMI, code=code, secret=secret, nonce="short")) == "nonce_invalid"
    # Signed for one path, sent to another (or with a query added): tampered.
    stamp, nonce = str(int(time.time())), "n" * 20
    other = sign(secret, code, stamp, nonce, "GET", "/api/v1/whoami?x=1", b"")
    assert refusal(signed(client, WHOAMI, code=code, secret=secret, stamp=stamp, nonce=nonce, signature=other)) == (
        "signature_invalid"
    )
    # The same signed request twice: the second is a replay.
    good = sign(secret, code, stamp, nonce, "GET", WHOAMI, b"")
    assert signed(client, WHOAMI, code=code, secret=secret, stamp=stamp, nonce=nonce, signature=good).status_code == 200
    assert refusal(signed(client, WHOAMI, code=code, secret=secret, stamp=stamp, nonce=nonce, signature=good)) == (
        "signature_replayed"
    )
    # The same read twice in one second, each with its own nonce: both answered.
    assert signed(client, WHOAMI, code=code, secret=secret, stamp=stamp).status_code == 200
    assert signed(client, WHOAMI, code=code, secret=secret, stamp=stamp).status_code == 200


def test_a_tampered_body_is_refused(client, client_and_key):
    api_client, secret = client_and_key
    stamp, nonce = str(int(time.time())), "n" * 20
    signature = sign(secret, api_client.code, stamp, nonce, "POST", WHOAMI, b'{"amount": 100}')
    response = signed(
        client,
        WHOAMI,
        code=api_client.code,
        secret=secret,
        stamp=stamp,
        nonce=nonce,
        method="POST",
        body=b'{"amount": 999}',
        signature=signature,
    )
    assert refusal(response) == "signature_invalid"


def test_a_rotated_key_signs_for_the_overlap_and_a_revoked_key_never(client, client_and_key):
    from catalog.credentials import api_key_revoke

    api_client, first = client_and_key
    officer = make_staff(roles.PMO_CURATOR)
    second = api_key_issue(client=api_client, by=officer)
    assert signed(client, WHOAMI, code=api_client.code, secret=first).status_code == 200
    assert signed(client, WHOAMI, code=api_client.code, secret=second).status_code == 200
    old_key = ApiKey.objects.get(client=api_client, hint=first[-4:])
    ApiKey.objects.filter(pk=old_key.pk).update(valid_until=timezone.now() - datetime.timedelta(seconds=1))
    assert refusal(signed(client, WHOAMI, code=api_client.code, secret=first)) == "signature_invalid"
    api_key_revoke(key=ApiKey.objects.get(client=api_client, hint=second[-4:]), by=officer)
    assert refusal(signed(client, WHOAMI, code=api_client.code, secret=second)) == "signature_invalid"


def test_the_key_is_shown_once_in_admin_and_stored_encrypted(client, world):  # noqa: F811
    api_client = ApiClient.objects.create(code="LPK-1", institution=world["institution"]("LPK API")[0])
    client.force_login(make_staff(roles.PMO_CURATOR))
    page = client.post(reverse("admin:catalog_apiclient_issue", args=[api_client.pk]))
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    secret = re.search(r'id="api-secret"[^>]* value="([^"]+)"', page.content.decode()).group(1)
    key = ApiKey.objects.get(client=api_client)
    assert secret not in key.secret_encrypted and key.hint == secret[-4:]
    change = client.get(reverse("admin:catalog_apiclient_change", args=[api_client.pk])).content.decode()
    assert secret not in change and key.hint in change
    assert signed(client, WHOAMI, code="LPK-1", secret=secret).status_code == 200
    # Someone without the role cannot issue one.
    client.force_login(make_staff(roles.PMO_FINANCE_MAKER))
    client.post(reverse("admin:catalog_apiclient_issue", args=[api_client.pk]))
    assert ApiKey.objects.filter(client=api_client).count() == 1


def test_refusals_speak_indonesian_unless_the_client_asks_for_english(client):
    assert client.get(WHOAMI).json()["error"]["message"].startswith("Tandatangani permintaan")
    english = client.get(WHOAMI, headers={"Accept-Language": "en"}).json()["error"]
    assert english == {
        "code": "signature_missing",
        "message": "Sign the request: X-Client-Code, X-Timestamp, X-Nonce and X-Signature.",
    }

"""The developer guide is enough to integrate: its signing snippets, run as
printed (curl and openssl in a shell, Python), are answered by the real
API over HTTP, and its webhook check accepts a real webhook."""

import re
import subprocess
from html import unescape

import pytest

from partner_client.receiver import Receiver
from tests.api import issue_client
from tests.catalog.test_catalog import world  # noqa: F401  (fixture)
from webhooks.services import webhook_emit, webhook_endpoint_set

pytestmark = pytest.mark.django_db(transaction=True)


def snippet(page: str, element_id: str) -> str:
    return unescape(re.search(rf'<code id="{element_id}">(.*?)</code>', page, re.S).group(1))


@pytest.fixture
def guide(client):
    return client.get("/pengembang/api/", headers={"Accept-Language": "en"}).content.decode()


def configure(text: str, base: str, code: str, key: str) -> str:
    return text.replace("https://prakerja.example", base).replace("PLT-SISNAKER", code).replace("your-signing-key", key)


def test_the_guide_speaks_both_languages(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/pengembang/api/").content.decode()
    client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    indonesian = client.get("/pengembang/api/").content.decode()
    assert "Signing a request" in english and "Menandatangani permintaan" in indonesian
    assert "signature_replayed" in english and "signature_replayed" in indonesian
    assert snippet(english, "sign-python") == snippet(indonesian, "sign-python")


def test_the_curl_and_python_examples_are_answered_by_the_api(guide, live_server, world):  # noqa: F811
    _client, key = issue_client("PLT-GUIDE", platform=world["platform"])
    shell = configure(snippet(guide, "sign-curl"), live_server.url, "PLT-GUIDE", key)
    answer = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=30)
    assert '"client_code":"PLT-GUIDE"' in answer.stdout, answer
    # The POST example after it: refused for its sample card, but signed right.
    post = shell + "\n" + snippet(guide, "sign-curl-post")
    answer = subprocess.run(["bash", "-c", post], capture_output=True, text=True, timeout=30)
    assert '"code":"card_unknown"' in answer.stdout, answer
    python = configure(snippet(guide, "sign-python"), live_server.url, "PLT-GUIDE", key)
    answer = subprocess.run(["python3", "-c", python], capture_output=True, text=True, timeout=30)
    assert "'client_code': 'PLT-GUIDE'" in answer.stdout, answer


def test_the_webhook_check_of_the_guide_accepts_a_real_webhook_and_refuses_a_forged_one(guide, world):  # noqa: F811
    api_client, _key = issue_client("PLT-HOOK", platform=world["platform"])
    receiver = Receiver().start()
    try:
        _endpoint, secret = webhook_endpoint_set(client=api_client, url=receiver.url)
        receiver.secret = secret
        webhook_emit(event_type="payout.succeeded", key="k1", platform_id=world["platform"].pk, data={"amount": 5})
        headers, body = receiver.requests[0]["headers"], receiver.requests[0]["body"]
    finally:
        receiver.stop()
    namespace = {}
    exec(snippet(guide, "webhook-python").replace("whsec_...", secret), namespace)
    assert namespace["receive"](headers, body)["data"] == {"amount": 5}
    assert namespace["receive"](headers, body) is None  # the same webhook-id again: already handled
    with pytest.raises(ValueError, match="not from the PMO"):
        namespace["receive"]({**headers, "webhook-id": "msg_forged"}, body)

    # The openssl recipe computes the signature the webhook carried.
    shell = snippet(guide, "webhook-curl").splitlines()
    values = (
        f"MSG_ID='{headers['webhook-id']}'; STAMP={headers['webhook-timestamp']}; BODY='{body.decode()}'",
        f"SECRET='{secret}'",
    )
    script = "\n".join([*values, *shell[3:]])
    answer = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert "v1," + answer.stdout.strip() == headers["webhook-signature"], (answer, script)

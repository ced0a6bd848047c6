"""The reference client (partner_client) driving the API in tests: through
Django's test client in-process, or over real HTTP against live_server."""

import urllib.parse

from accounts import roles
from catalog.credentials import api_key_issue
from catalog.models import ApiClient
from partner_client import PartnerClient
from partner_client.client import Reply
from tests.factories import make_staff


def django_transport(client, capture):
    """Sends the client's signed bytes through Django's test client; what the
    request deferred to after its commit (the SMS) runs, as it would."""

    def send(method, url, headers, body):
        parts = urllib.parse.urlsplit(url)
        path = f"{parts.path}?{parts.query}" if parts.query else parts.path
        content_type = headers.get("Content-Type", "")
        others = {name: value for name, value in headers.items() if name != "Content-Type"}
        with capture(execute=True):
            response = client.generic(method, path, data=body, content_type=content_type, headers=others)
        return Reply(response.status_code, dict(response.headers), response.content)

    return send


def issue_client(code, *, platform=None, institution=None):
    """An API client as PMO staff issue it in admin, and its key."""
    api_client = ApiClient.objects.create(code=code, platform=platform, institution=institution)
    return api_client, api_key_issue(client=api_client, by=make_staff(roles.PMO_CURATOR))


def partner(code, transport, *, base_url="http://testserver", language="en", **partner_of) -> PartnerClient:
    _api_client, secret = issue_client(code, **partner_of)
    return PartnerClient(base_url, code, secret, language=language, transport=transport, sleep=lambda _s: None)

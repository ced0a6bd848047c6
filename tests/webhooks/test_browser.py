"""The partner API's pages in Chromium: the developer guide on a phone in
both languages, the interactive docs from our own static files under the
site's content policy, and the webhook log in admin, where a PMO curator
sends a failed message again."""

import pytest
from playwright.sync_api import expect

from accounts import roles
from partner_client.receiver import Receiver
from tests.api import issue_client
from tests.browser import _url, log_in_as
from tests.catalog.test_catalog import world  # noqa: F401  (fixture)
from tests.factories import make_staff
from webhooks.models import WebhookMessage
from webhooks.services import webhook_emit, webhook_endpoint_set

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_guide_reads_on_a_phone_in_both_languages(phone_page, live_server):
    page = phone_page
    page.goto(_url(live_server, "/pengembang/api/"))
    expect(page.get_by_role("heading", name="API Mitra: panduan pengembang")).to_be_visible()
    page.select_option("#lang-select", "en")
    page.get_by_role("button", name="Ganti").click()
    expect(page.get_by_role("heading", name="Partner API: developer guide")).to_be_visible()
    expect(page.locator("#sign-curl")).to_contain_text("openssl dgst -sha256 -hmac")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the guide scrolls sideways: {width}"
    page.get_by_role("link", name="its interactive docs").click()
    # Swagger UI, from the sidecar's files, lists the operations.
    expect(page.get_by_text("/api/v1/purchases/send-otp").first).to_be_visible(timeout=15_000)


def test_a_curator_sends_a_failed_webhook_again_from_admin(page, live_server, world):  # noqa: F811
    api_client, _key = issue_client("PLT-ADMIN", platform=world["platform"])
    receiver = Receiver(fail_first=1).start()
    try:
        _endpoint, receiver.secret = webhook_endpoint_set(client=api_client, url=receiver.url)
        webhook_emit(event_type="payout.succeeded", key="payout:9:succeeded", platform_id=world["platform"].pk, data={})
        message = WebhookMessage.objects.get()
        assert (message.status, message.last_status_code) == ("pending", 500)
        curator = make_staff(roles.PMO_CURATOR)
        log_in_as(page, live_server, curator.email)
        page.goto(_url(live_server, "/admin/webhooks/webhookmessage/"))
        page.locator(f"tr:has-text('{message.msg_id}') input.action-select").check()
        page.select_option("select[name=action]", "redeliver")
        page.locator("button[name=index]").click()
        expect(page.locator(".messagelist")).to_contain_text("1")
        message.refresh_from_db()
        assert message.status == "delivered" and list(receiver.events) == [message.msg_id]
        page.get_by_role("link", name=message.msg_id).click()
        expect(page.locator("body")).to_contain_text("500")  # the delivery log shows both attempts
        expect(page.locator("body")).to_contain_text("204")
    finally:
        receiver.stop()

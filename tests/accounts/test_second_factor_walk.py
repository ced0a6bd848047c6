"""A PMO staff member's first visit to admin, clicked in Chromium: the
password once more, an authenticator app set up from the QR code's secret,
the recovery codes, admin; then the next login with the app's code, and one
with a recovery code."""

import re

import pytest
from playwright.sync_api import expect

from accounts import roles
from tests.browser import PASSWORD_OF_FACTORIES, _path_is, _url, watch
from tests.factories import make_staff, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, email):
    page.goto(_url(live_server, "/akun/login/"))
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD_OF_FACTORIES)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


def _press(page):
    page.locator("main form button[type=submit]:not([form])").first.click()
    page.wait_for_load_state()


def test_a_staff_member_sets_up_the_second_factor_and_signs_in_with_it(page, live_server):
    checker = make_staff(roles.PMO_FINANCE_CHECKER)
    seen = watch(page)
    _log_in(page, live_server, checker.email)
    page.goto(_url(live_server, "/admin/"))
    # allauth asks for the password again before the set-up.
    expect(page).to_have_url(re.compile(r"/akun/reauthenticate/"))
    expect(page.locator("body")).to_contain_text("verifikasi dua langkah")
    page.fill("#id_password", PASSWORD_OF_FACTORIES)
    _press(page)
    expect(page).to_have_url(_path_is("/akun/2fa/totp/activate/"))
    qr = page.locator("main img[src^='data:image/svg+xml']")
    expect(qr).to_be_visible()
    secret = page.locator("#authenticator_secret").input_value()  # to type into an app without a camera
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    page.fill("#id_code", "000000" if totp_code(secret) != "000000" else "111111")
    _press(page)
    expect(page.locator(".errors, .errorlist, [role=alert]").first).to_be_visible()
    page.fill("#id_code", totp_code(secret))
    _press(page)
    expect(page).to_have_url(_path_is("/akun/2fa/recovery-codes/"))
    codes = re.findall(r"\b\d{8}\b", page.locator("#recovery_codes").input_value())
    assert len(codes) >= 10
    page.locator("nav a[href='/admin/']").click()
    expect(page).to_have_url(_path_is("/admin/"))
    expect(page.locator("#site-name")).to_be_visible()

    # Next time: the password, then the app's code.
    page.locator("#logout-form button").click()
    page.wait_for_load_state()
    _log_in(page, live_server, checker.email)
    expect(page).to_have_url(_path_is("/akun/2fa/authenticate/"))
    page.fill("#id_code", codes[0])  # a recovery code, for a lost phone
    _press(page)
    page.goto(_url(live_server, "/admin/"))
    expect(page).to_have_url(_path_is("/admin/"))
    seen.check()

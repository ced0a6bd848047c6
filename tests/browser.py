"""Driving headless Chromium (Debian's, through Playwright) against the live
test server, as a person would: fixtures for a desktop and a 360 px phone
page, logging in through the real form, and a watch that fails a walk on any
server error, bare 403, browser console error or page wider than a phone."""

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

PASSWORD_OF_FACTORIES = "s3cret-Passw0rd"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 15_000
PASSWORD = "Peserta-Kuat-2026"


@pytest.fixture(scope="session")
def _playwright():
    """One Playwright driver for the run: a second one cannot start while
    the first is running (its event loop)."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(_playwright):
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


# Every page of every browser test reports what the Content-Security-Policy
# blocked; the test fails on any of it (_no_policy_violations). Playwright's
# init scripts run outside the page's policy, so this listener is not itself
# a violation.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " on " + document.location.pathname + (e.sample ? " (" + e.sample + ")" : ""));
});
"""
POLICY_VIOLATIONS: list[str] = []
PAGES_WITHOUT_POLICY: list[str] = []


def _note_violation(message) -> None:
    if message.type == "error" and message.text.startswith("CSP violation"):
        POLICY_VIOLATIONS.append(message.text)


def _note_policy(response) -> None:
    if response.request.resource_type == "document" and "content-security-policy" not in response.headers:
        PAGES_WITHOUT_POLICY.append(f"{response.status} {response.url}")


def _open_page(browser: Browser, **context_options):
    # A participant's phone or laptop in Indonesia asks for Indonesian pages.
    context = browser.new_context(locale="id-ID", **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    context.add_init_script(_REPORT_VIOLATIONS)
    context.on("console", _note_violation)
    context.on("response", _note_policy)
    return context, context.new_page()


@pytest.fixture(autouse=True)
def _no_policy_violations():
    """Any browser test fails if a page broke the Content-Security-Policy or
    came without one."""
    POLICY_VIOLATIONS.clear()
    PAGES_WITHOUT_POLICY.clear()
    yield
    assert not POLICY_VIOLATIONS, "\n".join(POLICY_VIOLATIONS)
    assert not PAGES_WITHOUT_POLICY, "pages without a Content-Security-Policy:\n" + "\n".join(PAGES_WITHOUT_POLICY)


@pytest.fixture
def page(browser, _own_cache, _expect_timeout):
    context, page = _open_page(browser)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, _own_cache, _expect_timeout):
    context, page = _open_page(browser, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    yield page
    context.close()


@pytest.fixture
def _expect_timeout():
    expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def _own_cache(settings):
    """A cache of this test's own. allauth keeps its rate limits in the cache
    (one confirmation email per address every 3 minutes, sign-ups and log-ins
    per IP), and the tests' Redis cache outlives a run: a second run within
    minutes would get no confirmation email. The live server runs in this
    process, so it uses this cache too."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"browser-test-{uuid.uuid4()}",
        }
    }


def _url(live_server, path: str) -> str:
    return live_server.url + path


def _path_is(path: str):
    """A URL matcher for page.wait_for_url that ignores the host and query."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"(\?.*)?$")


def _submit(page: Page, form_selector: str) -> None:
    page.locator(form_selector).locator("button[type=submit]").click()


def _fill_profile(page: Page, data: dict[str, str]) -> None:
    page.fill("#id_full_name", data["full_name"])
    page.fill("#id_nik", data["nik"])
    page.fill("#id_kk_number", data["kk_number"])
    page.fill("#id_birth_place", data["birth_place"])
    page.fill("#id_birth_date", data["birth_date"])
    page.check("#id_gender_1" if data["gender"] == "F" else "#id_gender_0")
    page.fill("#id_phone", data["phone"])
    page.fill("#id_address", data["address"])
    page.select_option("#id_education", data["education"])
    page.select_option("#id_employment_status", data["employment_status"])


def _log_in(page: Page, live_server, email: str, password: str) -> None:
    page.goto(_url(live_server, "/akun/login/"))
    page.fill("#id_login", email)
    page.fill("#id_password", password)
    _submit(page, "main form")
    expect(page.locator("a[href='/akun/logout/']")).to_be_visible()


class Watch:
    """What went wrong while a person walked: responses of 500 and over or a
    bare 403, and errors in the browser's console or in page scripts."""

    def __init__(self, page: Page):
        self.page = page
        self.problems: list[str] = []
        self.pages: list[tuple[float, str]] = []  # (ms to the last byte, url) of each page loaded
        page.on("response", self._response)
        page.on("requestfinished", self._finished)
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"script: {e}"))

    def _response(self, response):
        if response.status >= 500 or response.status == 403:
            self.problems.append(f"{response.status} {response.request.method} {response.url}")

    def fits(self) -> None:
        """The page is no wider than the screen (no sideways scrolling)."""
        width = self.page.viewport_size["width"]
        scroll = self.page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{self.page.url} scrolls sideways: {scroll} > {width}"

    def _finished(self, request):
        if request.resource_type == "document":
            self.pages.append((request.timing["responseEnd"], request.url))

    def summary(self) -> str:
        """The walk's size and its slowest page, as the closing notes report them."""
        if not self.pages:
            return "no pages"
        slowest, url = max(self.pages)
        return f"{len(self.pages)} pages, slowest {slowest:.0f} ms ({url.split('//', 1)[-1].split('/', 1)[-1]})"

    def check(self) -> None:
        print(f"\nwalk: {self.summary()}")
        assert not self.problems, "\n".join(self.problems)


def watch(page: Page) -> Watch:
    return Watch(page)


def log_in_as(page: Page, live_server, email: str, password: str = PASSWORD_OF_FACTORIES) -> None:
    """Signs in through the site's login form; the person lands on their role's
    home. Staff have an authenticator app (set up here if they have none) and
    type its code when asked, as they must before reaching admin."""
    from accounts.models import User
    from tests.factories import give_second_factor

    user = User.objects.filter(email=email).first()
    secret = give_second_factor(user) if user is not None and user.is_staff else None
    page.goto(_url(live_server, "/akun/login/"))
    page.fill("#id_login", email)
    page.fill("#id_password", password)
    _submit(page, "main form")
    page.wait_for_load_state()
    if secret is not None:
        enter_second_factor(page, secret)


def enter_second_factor(page: Page, secret: str) -> None:
    """Types the authenticator app's code on allauth's code page. A code is
    good once: if this user already used the current one, the next step's
    code (accepted within MFA_TOTP_TOLERANCE) is typed instead."""
    from tests.factories import totp_code

    expect(page).to_have_url(re.compile(r"/akun/2fa/authenticate/"))
    for later in (0, 1):
        page.fill("#id_code", totp_code(secret, later=later))
        page.locator("main form:has(#id_code) button[type=submit]:not([form])").click()
        page.wait_for_load_state()
        if "/akun/2fa/authenticate/" not in page.url:
            return
    raise AssertionError("the authenticator code was refused twice")


# A phone whose camera films a recorded person: Chromium's fake camera fed
# from a clip built out of a real sequence of ../shared/liveness, to match the
# challenge a test fixes (LIVENESS_FIXED_ACTIONS = CAMERA_ACTIONS).
CAMERA_ACTIONS = ["blink", "blink"]
# Built from grid_bbaf2n's frames: cycles of eyes open (two frames), closed
# (three: 18, 19, 26, 27, 28 are his blinks) and open (two), no frame twice
# in a row, at 10 frames a second. A cycle lasts 0.7 s and its closed eyes
# 0.3 s, longer than the page's 200 ms
# between pictures, so every burst of the page (12 pictures) sees a blink
# between open eyes even if the camera's clip plays late on a busy machine.
CAMERA_FRAMES = [0, 1, 18, 19, 27, 2, 3, 4, 5, 26, 28, 18, 6, 7, 8, 9, 19, 27, 26, 10, 11, 12, 13, 28, 18, 19, 14, 15]


def write_y4m(frames, path, *, fps: int = 10):
    """A YUV4MPEG2 clip (4:2:0) of RGB frames, as Chromium's fake camera reads it."""
    import numpy as np
    from PIL import Image

    first = Image.open(frames[0])
    width, height = first.size
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            ycc = np.asarray(Image.open(frame).convert("RGB").convert("YCbCr"))
            out.write(b"FRAME\n")
            out.write(ycc[:, :, 0].tobytes())
            for channel in (1, 2):
                plane = ycc[:, :, channel].astype(np.uint16)
                quarter = (plane[0::2, 0::2] + plane[1::2, 0::2] + plane[0::2, 1::2] + plane[1::2, 1::2]) // 4
                out.write(quarter.astype(np.uint8).tobytes())
    return path


@pytest.fixture(scope="module")
def camera_browser(_playwright, tmp_path_factory):
    from kyc import samples

    files = samples.frame_files("grid_bbaf2n_blink")
    clip = write_y4m([files[i] for i in CAMERA_FRAMES], tmp_path_factory.mktemp("camera") / "grid_blinks.y4m")
    camera = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    ]
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + camera)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def camera_phone_page(camera_browser, _own_cache, _expect_timeout, settings):
    settings.LIVENESS_FIXED_ACTIONS = CAMERA_ACTIONS
    context, page = _open_page(
        camera_browser, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, permissions=["camera"]
    )
    yield page
    context.close()


def camera_ktp(tmp_path, nik: str):
    """The KTP card of the man the fake camera films, as a file to choose."""
    from tests.kyc.conftest import grid_ktp

    path = tmp_path / "ktp.jpg"
    path.write_bytes(grid_ktp(nik).read())
    return str(path)

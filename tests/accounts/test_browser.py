"""A participant registers in a real browser: headless Chromium, driven by
Playwright, against the live server. Mail and SMS land in the in-process
outboxes because the live server runs in a thread of the test process."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts import sms
from accounts.models import Participant
from tests.browser import PASSWORD, _fill_profile, _log_in, _path_is, _submit, _url
from tests.factories import UserFactory, make_profile, profile_post_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_participant_signs_up_registers_and_verifies_their_phone_in_a_browser(page, live_server):
    email = "peserta.browser@example.com"
    profile = make_profile(province="32", gender="F")
    data = profile_post_data(profile)
    masked_nik = profile.nik[:4] + "********" + profile.nik[-4:]

    # 1. Sign up with an email address and a password.
    page.goto(_url(live_server, "/akun/signup/"))
    expect(page.locator("html")).to_have_attribute("lang", "id")
    page.fill("#id_email", email)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    _submit(page, "main form")
    page.wait_for_url(_path_is("/akun/confirm-email/"))

    # 2. Confirm the address from the link in the email.
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    confirmation = mail.outbox[0]
    assert confirmation.to == [email]
    link = re.search(r"https?://\S+/akun/confirm-email/[^/\s]+/", confirmation.body)
    assert link, confirmation.body
    page.goto(link.group(0))
    expect(page.locator("main")).to_contain_text(email)
    _submit(page, "main form")
    # Confirming logs the person in and home sends them on to the profile form;
    # should the login not carry over, they log in with the new password.
    page.wait_for_url(lambda url: "/peserta/daftar/" in url or "/akun/login/" in url)
    if "/akun/login/" in page.url:
        _log_in(page, live_server, email, PASSWORD)
    expect(page.locator("a[href='/akun/logout/']")).to_be_visible()

    # 3. Home redirects to the registration form.
    page.goto(_url(live_server, "/"))
    page.wait_for_url(_path_is("/peserta/daftar/"))

    # A mistyped NIK is refused, in Indonesian, next to the field; nothing typed is lost.
    _fill_profile(page, {**data, "nik": profile.nik[:12]})
    _submit(page, "main form")
    nik_errors = page.locator("#id_nik_errors")
    expect(nik_errors).to_have_text("NIK terdiri dari tepat 16 digit; yang ini 12 digit.")
    expect(page.locator(".field.has-error").filter(has=page.locator("#id_nik"))).to_contain_text(
        "NIK terdiri dari tepat 16 digit; yang ini 12 digit."
    )
    page.wait_for_url(_path_is("/peserta/daftar/"))
    expect(page.locator("#id_nik")).to_have_value(profile.nik[:12])
    expect(page.locator("#id_full_name")).to_have_value(data["full_name"])
    expect(page.locator("#id_kk_number")).to_have_value(data["kk_number"])
    expect(page.locator("#id_birth_place")).to_have_value(data["birth_place"])
    expect(page.locator("#id_birth_date")).to_have_value(data["birth_date"])
    expect(page.locator("#id_gender_1")).to_be_checked()
    expect(page.locator("#id_gender_0")).not_to_be_checked()
    expect(page.locator("#id_phone")).to_have_value(data["phone"])
    expect(page.locator("#id_address")).to_have_value(data["address"])
    expect(page.locator("#id_education")).to_have_value(data["education"])
    expect(page.locator("#id_employment_status")).to_have_value(data["employment_status"])
    assert not Participant.objects.filter(user__email=email).exists()

    page.fill("#id_nik", profile.nik)
    _submit(page, "main form")
    page.wait_for_url(_path_is("/peserta/verifikasi-hp/"))
    expect(page.locator(".messages")).to_contain_text("Anda sudah terdaftar. Sekarang verifikasi nomor HP Anda.")

    # 4. Ask for a code by SMS, then type it in.
    assert sms.outbox == []
    send_form = "main form:has(input[name=action][value=send])"
    expect(page.locator(send_form).locator("button[type=submit]")).to_have_text("Kirim kode")
    _submit(page, send_form)
    expect(page.locator(".messages")).to_contain_text("Kami sudah mengirim kode ke")
    participant = Participant.objects.get(user__email=email)
    texts = [m for m in sms.outbox if m.to == participant.phone]
    assert len(texts) == 1, sms.outbox
    code = re.search(r"\b(\d{6})\b", texts[0].body)
    assert code, texts[0].body

    verify_form = "main form:has(input[name=action][value=verify])"
    expect(page.locator(verify_form).locator("button[type=submit]")).to_have_text("Verifikasi")
    page.fill("#id_code", code.group(1))
    _submit(page, verify_form)
    page.wait_for_url(_path_is("/"))

    # 5. The home is the task list: the phone is done, the identity check is
    # the next step, in Indonesian; and only the masked NIK is shown.
    expect(page.locator(".step[data-step=phone]")).to_contain_text("Selesai")
    expect(page.locator("#next-step")).to_contain_text("Verifikasi identitas")
    expect(page.locator("#next-step a.button")).to_have_attribute("href", "/peserta/identitas/")
    expect(page.locator(".facts")).to_contain_text(masked_nik)
    content = page.content()
    assert masked_nik in content
    assert profile.nik not in content
    assert profile.kk_number not in content
    participant.refresh_from_db()
    assert participant.status == "profile_complete"
    assert participant.phone_verified

    # 6. Switching the language to English from the header.
    page.select_option("#lang-select", "en")
    _submit(page, "header form.lang")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.wait_for_url(_path_is("/"))
    expect(page.locator("#next-step")).to_contain_text("Identity check")
    assert profile.nik not in page.content()


# Every control a person fills must be named by a <label> (radios by the label
# that wraps them), and the page must fit a cheap phone's screen.
_LAYOUT_AND_LABELS = """
(screenWidth) => {
  const controls = Array.from(document.querySelectorAll("input, select, textarea")).filter((el) => {
    if (el.type === "hidden") return false;
    const style = getComputedStyle(el);
    return style.display !== "none" && style.visibility !== "hidden" && el.getClientRects().length > 0;
  });
  const ids = controls.map((el) => el.id || el.name);
  const unlabelled = controls
    .filter((el) => !el.labels || el.labels.length === 0
                    || Array.from(el.labels).every((label) => label.textContent.trim() === ""))
    .map((el) => el.id || el.name || el.outerHTML);
  const wide = Array.from(document.querySelectorAll("body *"))
    .filter((el) => el.getBoundingClientRect().right > screenWidth + 0.5)
    .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + el.className : ""));
  return {
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    ids,
    unlabelled,
    wide,
  };
}
"""

_FORM_CONTROLS = {
    "id_full_name",
    "id_nik",
    "id_kk_number",
    "id_birth_place",
    "id_birth_date",
    "id_gender_0",
    "id_gender_1",
    "id_phone",
    "id_address",
    "id_education",
    "id_employment_status",
}


def _check_phone_layout(page: Page) -> None:
    width = page.viewport_size["width"]
    result = page.evaluate(_LAYOUT_AND_LABELS, width)
    # On a phone, content wider than the screen widens the layout viewport
    # (the browser zooms out) rather than only scrolling, so innerWidth alone
    # would hide the overflow: compare with the screen's width too.
    assert result["scrollWidth"] <= min(result["innerWidth"], width), (
        f"page scrolls sideways: scrollWidth {result['scrollWidth']} > {width}; too wide: {result['wide']}"
    )
    assert result["innerWidth"] == width, f"layout viewport is {result['innerWidth']}px, not the {width}px screen"
    assert set(result["ids"]) >= _FORM_CONTROLS, f"form controls missing: {_FORM_CONTROLS - set(result['ids'])}"
    assert result["unlabelled"] == [], f"controls without a label: {result['unlabelled']}"


def test_the_registration_form_fits_a_phone_and_labels_every_control(phone_page, live_server):
    page = phone_page
    user = UserFactory(email="peserta.hp@example.com")
    _log_in(page, live_server, user.email, "s3cret-Passw0rd")

    page.goto(_url(live_server, "/peserta/daftar/"))
    expect(page.locator("#id_nik")).to_be_visible()
    _check_phone_layout(page)

    # The same with every field refused: the error messages must fit as well.
    _submit(page, "main form")
    expect(page.locator("ul.errors").first).to_be_visible()
    _check_phone_layout(page)


def _phone_verified_participant():
    from accounts.services.phone import participant_send_phone_code, participant_verify_phone
    from accounts.services.registration import participant_register

    user = UserFactory()
    participant = participant_register(user=user, profile=make_profile(province="32"))
    participant_send_phone_code(participant=participant)
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].body).group(1)
    return participant_verify_phone(participant=participant, code=code)


def test_a_participant_passes_the_camera_check_from_the_phone_page(camera_phone_page, live_server, tmp_path):
    """The identity check as a phone user does it: the KTP photo, then the
    camera check (Chromium's fake camera films a real person blinking), and
    the result page."""
    from kyc.models import KycSubmission
    from tests.browser import camera_ktp, watch

    participant = _phone_verified_participant()
    page = camera_phone_page
    w = watch(page)
    _log_in(page, live_server, participant.user.email, "s3cret-Passw0rd")
    page.goto(_url(live_server, "/peserta/identitas/"))
    expect(page.locator("#id_ktp_photo")).to_have_attribute("capture", "environment")
    expect(page.locator("#live-check")).to_be_visible()
    expect(page.locator("#id_selfie")).to_be_hidden()  # the camera check replaces the upload
    w.fits()
    page.set_input_files("#id_ktp_photo", camera_ktp(tmp_path, participant.nik))
    page.get_by_role("button", name="Mulai pemeriksaan kamera dan kirim").click()
    expect(page.locator("#live-instruction")).to_contain_text("Kedipkan mata Anda sekali")
    expect(page.locator(".badge")).to_be_visible(timeout=60_000)
    submission = KycSubmission.objects.get(participant=participant)
    assert submission.is_live and submission.liveness["passed"], (submission.reason_code, submission.liveness)
    assert submission.status == "verified", (submission.reason_code, submission.flags, submission.distance)
    expect(page.locator(".badge")).to_have_text("Terverifikasi")
    assert [a["frames"] for a in submission.liveness["actions"]] == [12, 12]
    participant.refresh_from_db()
    assert participant.status == Participant.Status.KYC_VERIFIED
    w.fits()
    w.check()


def test_without_the_camera_the_phone_page_sends_a_selfie_to_a_reviewer(camera_phone_page, live_server):
    from kyc.models import KycSubmission
    from tests.browser import watch
    from tests.kyc.conftest import face_path, ktp_card

    participant = _phone_verified_participant()
    page = camera_phone_page
    w = watch(page)
    _log_in(page, live_server, participant.user.email, "s3cret-Passw0rd")
    page.goto(_url(live_server, "/peserta/identitas/"))
    # Starting without the KTP photo is stopped with a word, not sent.
    page.get_by_role("button", name="Mulai pemeriksaan kamera dan kirim").click()
    expect(page.locator("#live-instruction")).to_have_text("Pilih dulu foto KTP Anda.")
    page.get_by_role("button", name="Saya tidak dapat memakai kamera: kirim swafoto sebagai gantinya").click()
    expect(page.locator("#id_selfie")).to_have_attribute("capture", "user")
    expect(page.locator("#live-check")).to_be_hidden()
    card = ktp_card("obama.jpg", nik=participant.nik)
    page.set_input_files("#id_ktp_photo", files=[{"name": "ktp.jpg", "mimeType": "image/jpeg", "buffer": card.read()}])
    page.set_input_files("#id_selfie", str(face_path("obama2.jpg")))
    page.locator("#kyc-send").click()
    expect(page.locator(".badge")).to_have_text("Menunggu pemeriksa")
    submission = KycSubmission.objects.get(participant=participant)
    assert submission.status == "needs_review" and "no_liveness" in submission.flags
    w.fits()
    w.check()

"""Every action on the pages of waves and purchases, done twice or out of
order (a double click, a second tab, someone else first): the second time is
a message in Indonesian on the page, never a 500, and nothing moves twice.
The payout batch's buttons are pressed twice in Chromium in
tests/payouts/test_browser.py."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from enrollment.models import Enrollment, Wave
from enrollment.services import purchases, waves
from payments.models import Account
from tests.factories import make_staff

from .conftest import card_holder, close_window, ledger_ok, verified_participant

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _said(response) -> str:
    assert response.status_code in (200, 302), response.status_code
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def _indonesian(client):
    client.cookies["django_language"] = "id"


def test_a_wave_opened_twice_and_drawn_twice_is_told_so(committed, client, django_capture_on_commit_callbacks):
    now = timezone.now()
    wave = Wave.objects.create(
        number=7, opens_at=now - datetime.timedelta(hours=1), closes_at=now + datetime.timedelta(days=7), quota=5
    )
    client.force_login(make_staff(roles.PMO_FINANCE_CHECKER))
    _indonesian(client)
    url = reverse("admin:enrollment_wave_open", args=[wave.pk])
    assert "dibuka" in _said(client.post(url)).lower()  # "...pendaftarannya dibuka."
    again = _said(client.post(url))
    assert again and Wave.objects.get(pk=wave.pk).status == "open"

    participant = verified_participant(committed)
    waves.wave_apply(participant=participant, wave=wave)
    close_window(wave)
    client.force_login(make_staff(roles.PMO_FINANCE_CHECKER))
    _indonesian(client)
    draw = reverse("admin:enrollment_wave_draw", args=[wave.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(draw)
    assert Wave.objects.get(pk=wave.pk).status == "drawn"
    seed = Wave.objects.get(pk=wave.pk).draw_seed
    with django_capture_on_commit_callbacks(execute=True):
        assert _said(client.post(draw))  # the second draw: a message, no second lottery
    assert Wave.objects.get(pk=wave.pk).draw_seed == seed


def test_a_voucher_redeemed_twice_completed_twice_and_cancelled_after_use(committed, courses, client):
    card = card_holder(committed)
    (course,) = courses(300_000)
    enrollment = purchases.enrollment_submit(participant=card.participant, course=course, request_key="twice")
    client.force_login(courses.staff)
    _indonesian(client)
    redeem = reverse("enrollment:institution_enrollments")
    client.post(redeem, {"voucher_code": enrollment.voucher_code})
    assert Enrollment.objects.get(pk=enrollment.pk).status == "redeemed"
    second = client.post(redeem, {"voucher_code": enrollment.voucher_code})
    assert second.status_code == 200 and "Voucher ini sudah dipakai" in second.content.decode()

    complete = reverse("enrollment:institution_complete", args=[enrollment.pk])
    client.post(complete, {"certificate": SimpleUploadedFile("s.pdf", PDF)})
    assert Enrollment.objects.get(pk=enrollment.pk).status == "completed"
    again = _said(client.post(complete, {"certificate": SimpleUploadedFile("s.pdf", PDF)}))
    assert "Hanya pelatihan yang sedang berjalan" in again
    payable = Account.objects.get(kind="institution_payable", owner=f"institution:{courses.institution.pk}")
    assert payable.balance == 300_000, "paid once"

    # The participant's old tab still offers to cancel the voucher.
    client.force_login(card.participant.user)
    _indonesian(client)
    said = _said(client.post(reverse("enrollment:purchase_cancel", args=[enrollment.pk])))
    assert "tidak" in said.lower() or "hanya" in said.lower()
    assert Enrollment.objects.get(pk=enrollment.pk).status == "completed"
    ledger_ok()


def test_a_voucher_cancelled_twice_says_already_cancelled_and_refunds_once(committed, courses, client):
    card = card_holder(committed)
    (course,) = courses(250_000)
    enrollment = purchases.enrollment_submit(participant=card.participant, course=course, request_key="cancel")
    client.force_login(card.participant.user)
    _indonesian(client)
    url = reverse("enrollment:purchase_cancel", args=[enrollment.pk])
    assert "dibatalkan" in _said(client.post(url))
    assert "sudah dibatalkan sebelumnya" in _said(client.post(url))
    assert Account.objects.get(pk=card.account_id).available == 1_000_000
    ledger_ok()

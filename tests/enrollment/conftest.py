"""Building participants, waves, cards and courses through the services, the
way users and staff get there."""

import datetime
import io
import re
import threading

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone, translation

from accounts import roles, sms
from accounts.services import phone, status
from catalog.models import Course
from enrollment.models import Card, Wave
from enrollment.services import waves
from tests.catalog.test_catalog import publish, world  # noqa: F401  (fixture)
from tests.factories import make_participant, make_staff


@pytest.fixture(autouse=True)
def _english():
    """Services' messages are compared in English here; the Indonesian ones
    are checked by the translations test and a few tests of their own."""
    with translation.override("en"):
        yield


def ledger_ok() -> None:
    """The ledger invariant command passes (it exits 1 on a breach)."""
    call_command("check_ledger", stdout=io.StringIO())


def sms_code() -> str:
    return re.search(r"\b(\d{6})\b", sms.outbox[-1].body).group(1)


def verified_participant(committed, **profile):
    """Registered, phone verified, identity verified (what the KYC check or
    a reviewer's approval leads to)."""
    participant = make_participant(**profile)
    committed(phone.participant_send_phone_code, participant=participant)
    phone.participant_verify_phone(participant=participant, code=sms_code())
    return status.participant_mark_kyc_verified(participant_id=participant.pk, by=None, reason="identity verified")


def make_wave(number=1, **rules) -> Wave:
    now = timezone.now()
    values = {
        "number": number,
        "opens_at": now - datetime.timedelta(hours=1),
        "closes_at": now + datetime.timedelta(days=7),
        "quota": 10,
    }
    values.update(rules)
    wave = Wave.objects.create(**values)
    return waves.wave_open(wave=wave, by=make_staff(roles.PMO_FINANCE_CHECKER))


def close_window(wave: Wave) -> Wave:
    """Time passes: the wave's registration window is over."""
    now = timezone.now()
    Wave.objects.filter(pk=wave.pk).update(
        opens_at=now - datetime.timedelta(days=8), closes_at=now - datetime.timedelta(seconds=1)
    )
    wave.refresh_from_db()
    return wave


def card_holder(committed, *, balance=1_000_000, **rules) -> Card:
    """A participant selected in a wave of their own, holding a card."""
    participant = verified_participant(committed)
    number = (Wave.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    wave = make_wave(number=number, training_balance=balance, **rules)
    waves.wave_apply(participant=participant, wave=wave)
    close_window(wave)
    committed(waves.wave_draw, wave=wave, by=make_staff(roles.PMO_FINANCE_CHECKER))
    return Card.objects.select_related("participant__user", "wave").get(participant=participant)


@pytest.fixture
def courses(world):  # noqa: F811
    """Published courses of one institution, priced as asked."""
    institution, staff = world["institution"]("LPK Maju")

    def make(*prices, title="Kursus"):
        made = []
        for i, price in enumerate(prices):
            revision = publish(world, institution, staff, price=price, title=f"{title} {i + 1}")
            made.append(Course.objects.get(pk=revision.course_id))
        return made

    make.institution = institution
    make.staff = staff
    make.world = world
    return make


def run_together(n, fn):
    """Runs fn(i) in n threads released at once; returns results (or the
    exceptions raised) in order."""
    barrier = threading.Barrier(n)
    results = [None] * n
    language = translation.get_language()

    def worker(i):
        try:
            translation.activate(language)  # as the test's own thread
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results

"""Purchases under concurrency, on PostgreSQL with real transactions: many
requests against one card at once never overspend."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import roles
from enrollment.models import Enrollment, Wave
from enrollment.services import delivery, waves
from enrollment.services.purchases import enrollment_submit
from payments.models import Account, Transfer
from tests.factories import make_staff

from .conftest import card_holder, close_window, ledger_ok, make_wave, run_together, verified_participant

pytestmark = pytest.mark.django_db(transaction=True)


def available(card):
    return Account.objects.get(pk=card.account_id).available


def outcome(result):
    if isinstance(result, Exception):
        raise result
    return result.status if result.status != "declined" else result.decline_code


def test_twenty_purchases_of_different_courses_at_once_never_overspend(committed, courses):
    card = card_holder(committed)
    dear = courses(*[600_000] * 20, title="Mahal")
    cheap = courses(*[300_000] * 20, title="Murah")

    def all_at_once(course_list):
        results = run_together(
            len(course_list),
            lambda i: enrollment_submit(
                participant=card.participant, course=course_list[i], request_key=uuid.uuid4().hex
            ),
        )
        return [outcome(r) for r in results]

    # 1,000,000 of balance, 20 courses at Rp 600,000 at once: one voucher.
    outcomes = all_at_once(dear)
    assert sorted(outcomes) == ["authorised"] + ["course_in_progress"] * 19
    won = Enrollment.objects.get(status="authorised")
    assert available(card) == 400_000
    ledger_ok()

    delivery.enrollment_redeem(user=courses.staff, voucher_code=won.voucher_code)
    delivery.enrollment_complete(
        user=courses.staff, enrollment_id=won.pk, certificate=SimpleUploadedFile("s.pdf", b"%PDF-1.4 x")
    )
    # Rp 400,000 left: none of the other 19 fits.
    outcomes = all_at_once([c for c in dear if c.pk != won.course_id])
    assert outcomes == ["insufficient_balance"] * 19
    assert available(card) == 400_000
    # 20 courses at Rp 300,000 at once: one more voucher, Rp 100,000 left.
    outcomes = all_at_once(cheap)
    assert sorted(outcomes) == ["authorised"] + ["course_in_progress"] * 19
    assert available(card) == 100_000
    assert Account.objects.get(pk=card.account_id).balance == 400_000
    ledger_ok()


def test_the_same_request_twenty_times_at_once_moves_money_once(committed, courses):
    card = card_holder(committed)
    (course,) = courses(300_000)
    results = run_together(
        20, lambda i: enrollment_submit(participant=card.participant, course=course, request_key="one-press")
    )
    assert {outcome(r) for r in results} == {"authorised"}
    assert len({r.pk for r in results}) == 1
    assert Transfer.objects.filter(is_hold=True).count() == 1
    assert available(card) == 700_000
    ledger_ok()


def test_twenty_requests_for_one_course_give_one_enrolment(committed, courses):
    card = card_holder(committed)
    (course,) = courses(300_000)
    results = run_together(
        20, lambda i: enrollment_submit(participant=card.participant, course=course, request_key=f"press-{i}")
    )
    outcomes = [outcome(r) for r in results]
    assert outcomes.count("authorised") == 1
    assert set(outcomes) == {"authorised", "already_bought"}
    assert available(card) == 700_000
    ledger_ok()


def test_a_voucher_redeemed_twice_at_once_is_redeemed_once(committed, courses):
    card = card_holder(committed)
    (course,) = courses(300_000)
    enrollment = enrollment_submit(participant=card.participant, course=course, request_key="k")
    results = run_together(
        10, lambda i: delivery.enrollment_redeem(user=courses.staff, voucher_code=enrollment.voucher_code)
    )
    assert sum(1 for r in results if isinstance(r, Enrollment)) == 1
    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(refusals) == 9
    assert {m for r in refusals for m in r.messages} == {"This voucher has already been used."}


def test_two_lottery_runs_at_once_draw_once(committed):
    people = [verified_participant(committed) for _i in range(5)]
    wave = make_wave(quota=2)
    for person in people:
        waves.wave_apply(participant=person, wave=wave)
    close_window(wave)
    checker = make_staff(roles.PMO_FINANCE_CHECKER)
    results = run_together(2, lambda i: waves.wave_draw(wave=wave, by=checker))
    assert sum(1 for r in results if isinstance(r, Wave)) == 1
    assert [r.code for r in results if isinstance(r, ValidationError)] == ["already_drawn"]
    assert wave.applications.filter(status="selected").count() == 2

"""A wave's cards are issued in chunks, each one transaction with its
balances credited in bulk: every selected participant gets one card and one
balance transfer, a second run issues nothing, and a worker killed in the
middle of a chunk leaves nothing half-written; the chunk is issued whole by
the next worker."""

import os
import signal
from unittest import mock

import psycopg
import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts import roles
from audit.models import AuditEvent
from enrollment import tasks
from enrollment.models import Card, WaveApplication
from enrollment.services import cards, waves
from payments.models import Account, Transfer
from payments.services import account_for, ledger_transfer_many
from prakerja.celery import app as celery_app
from tests.factories import make_staff
from tests.workers import start_worker, wait_for

from .conftest import close_window, ledger_ok, make_wave, verified_participant


def drawn_wave(committed, people: int, number=1, **rules):
    wave = make_wave(number=number, quota=people, **rules)
    for _i in range(people):
        waves.wave_apply(participant=verified_participant(committed), wave=wave)
    close_window(wave)
    return wave


def balance_transfers(wave):
    keys = [f"card:{pk}:balance" for pk in Card.objects.filter(wave=wave).values_list("pk", flat=True)]
    return Transfer.objects.filter(key__in=keys)


@pytest.mark.django_db
def test_a_wave_s_cards_are_issued_in_chunks_once_each(committed, settings):
    settings.CARD_ISSUE_CHUNK = 4
    wave = drawn_wave(committed, 10, training_balance=3_500_000)
    with mock.patch.object(tasks.issue_card_chunk, "delay", wraps=tasks.issue_card_chunk.delay) as chunk:
        committed(waves.wave_draw, wave=wave, by=make_staff(roles.PMO_FINANCE_CHECKER))
    ids = list(WaveApplication.objects.filter(wave=wave, status="selected").order_by("pk").values_list("pk", flat=True))
    assert [c.args[1:] for c in chunk.call_args_list] == [(ids[0], ids[3]), (ids[4], ids[7]), (ids[8], ids[9])]
    issued = Card.objects.filter(wave=wave)
    assert issued.count() == 10 == len(set(issued.values_list("number", flat=True)))
    assert set(issued.values_list("participant__status", flat=True)) == {"selected"}
    for card in issued:
        assert cards.card_number_valid(card.number)
        assert Account.objects.get(pk=card.account_id).balance == 3_500_000
        assert card.remind_at < card.purchase_deadline
    assert balance_transfers(wave).count() == 10
    assert Account.objects.get(kind=Account.Kind.PROGRAMME_FUND).balance == -35_000_000
    # Each card's birth is in its history.
    assert (
        AuditEvent.objects.filter(
            content_type__model="card", object_id__in=issued.values("pk"), to_status="active", from_status=""
        ).count()
        == 10
    )
    ledger_ok()

    # Run again (someone presses the button twice): nothing to queue, nothing moves.
    assert tasks.issue_wave_cards(wave.pk) == 0
    first = WaveApplication.objects.filter(wave=wave, status="selected").order_by("pk").first()
    assert tasks.issue_card_chunk(wave.pk, first.pk, first.pk + 100) == 0
    assert cards.card_issue(application_id=first.pk) == Card.objects.get(participant_id=first.participant_id)
    assert balance_transfers(wave).count() == 10 and Transfer.objects.count() == 10
    ledger_ok()


@pytest.mark.django_db
def test_a_card_number_already_taken_is_drawn_again(committed, monkeypatch):
    taken = cards.card_number_new()
    holder = drawn_wave(committed, 1)
    committed(waves.wave_draw, wave=holder, by=make_staff(roles.PMO_FINANCE_CHECKER))
    Card.objects.update(number=taken)
    wave = drawn_wave(committed, 2, number=2)
    drawn = iter([taken, taken, *(cards.card_number_new() for _i in range(5))])
    monkeypatch.setattr(cards, "card_number_new", lambda: next(drawn))
    committed(waves.wave_draw, wave=wave, by=make_staff(roles.PMO_FINANCE_CHECKER))
    numbers = list(Card.objects.filter(wave=wave).values_list("number", flat=True))
    assert len(numbers) == 2 and taken not in numbers
    ledger_ok()


@pytest.mark.django_db
def test_transfers_in_bulk_are_keyed_one_by_one():
    fund = account_for(kind=Account.Kind.PROGRAMME_FUND)
    a = account_for(kind=Account.Kind.PARTICIPANT_TRAINING, owner="participant:1")
    b = account_for(kind=Account.Kind.PARTICIPANT_TRAINING, owner="participant:2")
    lines = [("k1", a.pk, 100), ("k2", b.pk, 250), ("k2", b.pk, 250)]
    assert ledger_transfer_many(debit=fund, lines=lines, reason="balances") == 2
    assert ledger_transfer_many(debit=fund, lines=[*lines, ("k3", a.pk, 5)], reason="balances") == 1
    balances = dict(Account.objects.values_list("pk", "balance"))
    assert (balances[a.pk], balances[b.pk], balances[fund.pk]) == (105, 250, -355)
    # A key used for another transfer, a bad amount, or an account paying
    # more than it has refuses the whole call and moves nothing.
    for bad, code in (
        ([("k4", a.pk, 10), ("k1", b.pk, 100)], "key_reused"),
        ([("k4", a.pk, 10), ("k5", b.pk, 0)], "bad_amount"),
    ):
        with pytest.raises(ValidationError) as err:
            ledger_transfer_many(debit=fund, lines=bad, reason="x")
        assert err.value.code == code
    with pytest.raises(ValidationError) as err:
        ledger_transfer_many(debit=a, lines=[("k6", b.pk, 100), ("k7", fund.pk, 6)], reason="x")
    assert err.value.code == "insufficient_balance"
    assert Transfer.objects.count() == 3 and dict(Account.objects.values_list("pk", "balance")) == balances
    ledger_ok()


def _blocked_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_chunk_leaves_nothing_half_issued_and_the_next_one_issues_it_all(committed, tmp_path):
    wave = drawn_wave(committed, 9)
    with mock.patch.object(tasks.issue_wave_cards, "delay"), mock.patch.object(tasks.notify_wave_result, "delay"):
        waves.wave_draw(wave=wave, by=make_staff(roles.PMO_FINANCE_CHECKER))
    selected = list(WaveApplication.objects.filter(wave=wave, status="selected").order_by("pk"))
    assert len(selected) == 9
    db = connection.settings_dict
    # Someone else holds a participant of the second chunk: the worker's
    # chunk waits there, its first cards written but not committed.
    holder = psycopg.connect(f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}")
    holder.execute("SELECT 1 FROM accounts_participant WHERE id = %s FOR UPDATE", [selected[4].participant_id])
    log = tmp_path / "worker.log"
    worker = start_worker(log, CARD_ISSUE_CHUNK="3")
    celery_app.conf.task_always_eager = False
    try:
        tasks.issue_wave_cards.delay(wave.pk)
        wait_for(lambda: Card.objects.filter(wave=wave).count() == 3, timeout=60, what="the first chunk issued")
        wait_for(_blocked_on_a_lock, timeout=30, what="the second chunk waiting: " + log.read_text()[-2000:])
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        holder.rollback()
        # Nothing of the killed chunk was left behind.
        assert Card.objects.filter(wave=wave).count() == 3 and balance_transfers(wave).count() == 3
        worker = start_worker(log, CARD_ISSUE_CHUNK="3")
        wait_for(
            lambda: Card.objects.filter(wave=wave).count() == 9,
            timeout=120,
            what="every card issued: " + log.read_text()[-3000:],
        )
    finally:
        celery_app.conf.task_always_eager = True
        holder.close()
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert sorted(Card.objects.filter(wave=wave).values_list("participant_id", flat=True)) == sorted(
        a.participant_id for a in selected
    )
    assert balance_transfers(wave).count() == 9 == Transfer.objects.count()
    assert Account.objects.get(kind=Account.Kind.PROGRAMME_FUND).balance == -9 * wave.training_balance
    ledger_ok()

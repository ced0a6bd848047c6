"""The double-entry ledger: idempotent transfers, holds resolved once, no
overspending under concurrency, and the invariant command."""

import threading
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, transaction

from payments.models import Account, Transfer
from payments.services import account_for, ledger_hold, ledger_post, ledger_transfer, ledger_void

pytestmark = pytest.mark.django_db

Kind = Account.Kind


def fund():
    return account_for(kind=Kind.PROGRAMME_FUND)


def balance_of(owner: str, amount: int = 0) -> Account:
    account = account_for(kind=Kind.PARTICIPANT_TRAINING, owner=owner)
    if amount:
        ledger_transfer(key=f"credit-{owner}", debit=fund(), credit=account, amount=amount, reason="card issued")
    return account


def fresh(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


def invariants_hold() -> bool:
    try:
        call_command("check_ledger", stdout=StringIO())
    except SystemExit as exc:
        return exc.code == 0
    return True


def test_a_transfer_moves_money_once_whatever_the_retries():
    card = balance_of("participant:1")
    first = ledger_transfer(key="card-1", debit=fund(), credit=card, amount=1_000_000, reason="card issued")
    again = ledger_transfer(key="card-1", debit=fund(), credit=card, amount=1_000_000, reason="card issued")
    assert again.pk == first.pk
    assert fresh(card).balance == 1_000_000 and fresh(fund()).balance == -1_000_000
    with pytest.raises(ValidationError) as exc:
        ledger_transfer(key="card-1", debit=fund(), credit=card, amount=999, reason="other")
    assert exc.value.error_list[0].code == "key_reused"
    assert invariants_hold()


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_only_positive_whole_rupiah_move(amount):
    with pytest.raises(ValidationError):
        ledger_transfer(key=f"bad-{amount}", debit=fund(), credit=balance_of("p"), amount=amount, reason="x")
    assert not Transfer.objects.exists()


def test_nobody_spends_more_than_they_have():
    card = balance_of("participant:2", 1_000_000)
    shop = account_for(kind=Kind.INSTITUTION_PAYABLE, owner="institution:1")
    ledger_transfer(key="buy-1", debit=card, credit=shop, amount=700_000, reason="course")
    with pytest.raises(ValidationError) as exc:
        ledger_transfer(key="buy-2", debit=card, credit=shop, amount=300_001, reason="course")
    assert exc.value.messages == ["Saldo tidak cukup."]
    assert fresh(card).balance == 300_000


def test_the_database_itself_refuses_a_negative_balance():
    card = balance_of("participant:3", 100)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=card.pk).update(balance=-1)


def test_a_hold_reserves_then_is_posted_or_voided_exactly_once():
    card = balance_of("participant:4", 1_000_000)
    shop = account_for(kind=Kind.INSTITUTION_PAYABLE, owner="institution:2")
    hold = ledger_hold(key="enrol-1", debit=card, credit=shop, amount=600_000, reason="authorised")
    assert (fresh(card).balance, fresh(card).held, fresh(card).available) == (1_000_000, 600_000, 400_000)
    with pytest.raises(ValidationError):
        ledger_hold(key="enrol-2", debit=card, credit=shop, amount=400_001, reason="authorised")
    posted = ledger_post(transfer=hold)
    assert posted.status == "posted" and posted.resolved_at
    assert ledger_post(transfer=hold).status == "posted"  # a retry changes nothing
    assert (fresh(card).balance, fresh(card).held, fresh(shop).balance) == (400_000, 0, 600_000)
    with pytest.raises(ValidationError) as exc:
        ledger_void(transfer=hold)
    assert exc.value.error_list[0].code == "already_resolved"
    second = ledger_hold(key="enrol-3", debit=card, credit=shop, amount=400_000, reason="authorised")
    ledger_void(transfer=second)
    assert (fresh(card).balance, fresh(card).held) == (400_000, 0)
    assert invariants_hold()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_purchases_never_overspend_one_card():
    card = balance_of("participant:5", 1_000_000)
    shop = account_for(kind=Kind.INSTITUTION_PAYABLE, owner="institution:3")
    barrier = threading.Barrier(20)
    outcomes = []

    def buy(i):
        try:
            barrier.wait()
            ledger_hold(key=f"race-{i}", debit=card, credit=shop, amount=150_000, reason="course")
            outcomes.append("ok")
        except ValidationError as exc:
            outcomes.append(exc.error_list[0].code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 6  # 6 x 150.000 = 900.000 <= 1.000.000 < 7 x 150.000
    assert set(outcomes) == {"ok", "insufficient_balance"}
    card = fresh(card)
    assert (card.balance, card.held, card.available) == (1_000_000, 900_000, 100_000)
    assert invariants_hold()


@pytest.mark.django_db(transaction=True)
def test_a_hold_posted_and_voided_at_once_resolves_once():
    card = balance_of("participant:6", 500_000)
    shop = account_for(kind=Kind.INSTITUTION_PAYABLE, owner="institution:4")
    hold = ledger_hold(key="both", debit=card, credit=shop, amount=500_000, reason="course")
    barrier = threading.Barrier(2)
    results = []

    def resolve(fn):
        try:
            barrier.wait()
            results.append(fn(transfer=hold).status)
        except ValidationError as exc:
            results.append(exc.error_list[0].code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=resolve, args=(fn,)) for fn in (ledger_post, ledger_void)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) in (["already_resolved", "posted"], ["already_resolved", "voided"])
    assert fresh(card).held == 0
    assert invariants_hold()


def test_the_invariant_command_reports_a_breach():
    card = balance_of("participant:7", 1_000)
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert out.getvalue().count("ok ") == 11  # the ledger's 5 and the payouts app's 6
    with connection.cursor() as cursor:  # damage made behind the ledger's back
        cursor.execute("UPDATE payments_account SET balance = balance + 1 WHERE id = %s", [card.pk])
    out = StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("check_ledger", stdout=out)
    assert exc.value.code == 1
    assert "BREACH all balances add up to zero" in out.getvalue()

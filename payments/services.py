"""Moving money: every write of the ledger.

Each function locks the accounts it touches in primary-key order (no
deadlocks between two transfers over the same pair), checks, and writes the
transfer and both balances in one transaction. A call repeated with the same
key returns the first transfer and moves nothing; the same key with other
details is refused.
"""

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Account, Transfer
from .owners import account_owner, account_owner_sql  # noqa: F401  (re-exported: the services name owners)

PROGRAMME_OWNER = ""


def account_for(*, kind: str, owner: str = PROGRAMME_OWNER) -> Account:
    """The account of that kind and owner, created on first use."""
    account, _created = Account.objects.get_or_create(
        kind=kind, owner=owner, defaults={"allow_negative": kind == Account.Kind.PROGRAMME_FUND}
    )
    return account


def _lock(*accounts: Account) -> dict[int, Account]:
    ids = sorted({a.pk for a in accounts})
    return {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def _existing(key: str, *, debit: Account, credit: Account, amount: int, is_hold: bool) -> Transfer | None:
    transfer = Transfer.objects.filter(key=key).first()
    if transfer is None:
        return None
    if (transfer.debit_id, transfer.credit_id, transfer.amount, transfer.is_hold) != (
        debit.pk,
        credit.pk,
        amount,
        is_hold,
    ):
        raise ValidationError(_("This request key was already used for another transfer."), code="key_reused")
    return transfer


def _check_amount(amount: int) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationError(_("The amount must be a positive whole number of rupiah."), code="bad_amount")


def _insufficient() -> ValidationError:
    return ValidationError(_("Insufficient balance."), code="insufficient_balance")


_INSERT = (
    "INSERT INTO payments_transfer (key, debit_id, credit_id, amount, status, is_hold, reason, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING id"
)


def _move(*, key: str, debit: Account, credit: Account, amount: int, reason: str, hold: bool) -> Transfer:
    _check_amount(amount)
    if debit.pk == credit.pk:
        raise ValidationError(_("A transfer needs two different accounts."), code="same_account")
    # No savepoint: inside a caller's transaction (a purchase) this costs
    # three statements fewer (the pre-check and the savepoint's pair). The
    # key's unique index settles a repeat or a race (ON CONFLICT DO NOTHING),
    # and a refusal is raised only after this block, with nothing written.
    transfer = None
    with transaction.atomic(savepoint=False):
        # A hold changes only the debit account: locking the credit one
        # (an institution's payable, shared by all its buyers) would make
        # every purchase from it wait for the one before to commit.
        locked = _lock(debit) if hold else _lock(debit, credit)
        source = locked[debit.pk]
        if source.allow_negative or source.available >= amount:
            status = Transfer.Status.PENDING if hold else Transfer.Status.POSTED
            now = timezone.now()
            with connection.cursor() as cursor:
                cursor.execute(_INSERT, [key, source.pk, credit.pk, amount, status, hold, reason[:200], now])
                made = cursor.fetchone()
            if made is not None:
                transfer = Transfer(
                    pk=made[0],
                    key=key,
                    debit=source,
                    credit=credit,
                    amount=amount,
                    is_hold=hold,
                    status=status,
                    reason=reason[:200],
                    created_at=now,
                )
                if hold:
                    Account.objects.filter(pk=source.pk).update(held=F("held") + amount)
                else:
                    Account.objects.filter(pk=source.pk).update(balance=F("balance") - amount)
                    Account.objects.filter(pk=credit.pk).update(balance=F("balance") + amount)
    if transfer is not None:
        return transfer
    # The key was used before (a retried request, or a call beside this one
    # that committed first), or the balance is short: the same transfer is
    # returned, another one refused.
    found = _existing(key, debit=debit, credit=credit, amount=amount, is_hold=hold)
    if found is None:
        raise _insufficient()
    return found


def ledger_lock(*accounts: Account) -> None:
    """Locks these accounts, in primary-key order, for the rest of the
    caller's transaction: for a caller about to make several transfers over
    them (a payout of many lines), which one by one would take the locks in
    no fixed order and could deadlock with another such caller."""
    _lock(*accounts)


def ledger_transfer(*, key: str, debit: Account, credit: Account, amount: int, reason: str) -> Transfer:
    """Moves ``amount`` from ``debit`` to ``credit`` now."""
    return _move(key=key, debit=debit, credit=credit, amount=amount, reason=reason, hold=False)


def ledger_hold(*, key: str, debit: Account, credit: Account, amount: int, reason: str) -> Transfer:
    """Reserves ``amount`` on ``debit`` for ``credit``: the first phase of a
    two-phase transfer, resolved later by ledger_post or ledger_void."""
    return _move(key=key, debit=debit, credit=credit, amount=amount, reason=reason, hold=True)


def _resolve(transfer: Transfer, to: str) -> Transfer:
    with transaction.atomic():
        locked_transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
        if not locked_transfer.is_hold:
            raise ValidationError(_("Only a hold can be posted or voided."), code="not_a_hold")
        if locked_transfer.status == to:
            return locked_transfer  # a retry of the same resolution
        if locked_transfer.status != Transfer.Status.PENDING:
            raise ValidationError(
                _("This hold was already %(status)s.") % {"status": locked_transfer.get_status_display()},
                code="already_resolved",
            )
        _lock(locked_transfer.debit, locked_transfer.credit)
        amount = locked_transfer.amount
        if to == Transfer.Status.POSTED:
            Account.objects.filter(pk=locked_transfer.debit_id).update(
                held=F("held") - amount, balance=F("balance") - amount
            )
            Account.objects.filter(pk=locked_transfer.credit_id).update(balance=F("balance") + amount)
        else:
            Account.objects.filter(pk=locked_transfer.debit_id).update(held=F("held") - amount)
        locked_transfer.status = to
        locked_transfer.resolved_at = timezone.now()
        locked_transfer.save(update_fields=["status", "resolved_at"])
        return locked_transfer


def ledger_post(*, transfer: Transfer) -> Transfer:
    """Completes a hold: the amount leaves the debit account for good."""
    return _resolve(transfer, Transfer.Status.POSTED)


def ledger_void(*, transfer: Transfer) -> Transfer:
    """Cancels a hold: the amount is available again on the debit account."""
    return _resolve(transfer, Transfer.Status.VOIDED)


def ledger_transfer_many(*, debit: Account, lines: list[tuple[str, int, int]], reason: str) -> int:
    """Moves money from one account to many now, in one transaction and a
    fixed number of statements whatever the number of lines: each line
    ``(key, credit account id, amount)`` is one posted transfer with its own
    idempotency key (a wave's balances, one per card). A line whose key
    already made the same transfer is skipped; a key used for another
    transfer refuses them all. The accounts are locked in primary-key order,
    as ledger_transfer locks them. Returns how many transfers were made.

    Two calls racing with the same key: the second fails on the key's unique
    index and its transaction rolls back; the caller runs it again."""
    for _key, credit_id, amount in lines:
        _check_amount(amount)
        if credit_id == debit.pk:
            raise ValidationError(_("A transfer needs two different accounts."), code="same_account")
    with transaction.atomic():
        done = {
            key: (debit_id, credit_id, amount, is_hold)
            for key, debit_id, credit_id, amount, is_hold in Transfer.objects.filter(
                key__any=[key for key, _c, _a in lines]
            ).values_list("key", "debit_id", "credit_id", "amount", "is_hold")
        }
        new = []
        for key, credit_id, amount in lines:
            if key not in done:
                new.append((key, credit_id, amount))
                done[key] = (debit.pk, credit_id, amount, False)  # a line given twice is one transfer
            elif done[key] != (debit.pk, credit_id, amount, False):
                raise ValidationError(_("This request key was already used for another transfer."), code="key_reused")
        if not new:
            return 0
        per_account: dict[int, int] = {}
        for _key, credit_id, amount in new:
            per_account[credit_id] = per_account.get(credit_id, 0) + amount
        total = sum(per_account.values())
        ids = sorted({debit.pk, *per_account})
        locked = dict(
            Account.objects.select_for_update().filter(pk__any=ids).order_by("pk").values_list("pk", "allow_negative")
        )
        if len(locked) != len(ids):
            raise Account.DoesNotExist("a credit account of the transfers does not exist")
        if not locked[debit.pk]:
            source = Account.objects.only("balance", "held").get(pk=debit.pk)
            if source.available < total:
                raise _insufficient()
        Transfer.objects.bulk_create(
            [
                Transfer(
                    key=key,
                    debit_id=debit.pk,
                    credit_id=credit_id,
                    amount=amount,
                    is_hold=False,
                    status=Transfer.Status.POSTED,
                    reason=reason[:200],
                )
                for key, credit_id, amount in new
            ],
            batch_size=5000,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE payments_account AS a SET balance = a.balance + v.amount "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, amount) WHERE a.id = v.id",
                [list(per_account), list(per_account.values())],
            )
        Account.objects.filter(pk=debit.pk).update(balance=F("balance") - total)
    return len(new)

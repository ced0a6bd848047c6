"""Sending payouts through the gateway and recording what it answers.

The order of a send, so that a worker killed at any point leads to exactly
one payment when the task runs again:

1. One transaction, under the payout's row lock: a pending payout moves its
   lines from their ledger accounts to payout clearing and becomes *sent*.
   A payout already final is left alone.
2. Outside any transaction: ``create_payout`` with the payout's reference as
   the idempotency key. A second call with the same key (the task run again
   after a lost answer or a killed worker) gets the first payout back, never
   a second one.
3. Under the row lock again: the gateway's answer is recorded. Success
   settles clearing to "paid out" and the enrolments become *paid out*; a
   failure reverses clearing to the accounts the lines came from and frees
   the enrolments for a later batch. A payout already final (the webhook came
   first, or twice) is not changed again.
"""

import logging

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from payments.gateway import GatewayPayout, GatewayRefused, PayoutGateway, PayoutRequest
from payments.models import Account
from payments.services import account_for, ledger_lock, ledger_transfer
from prakerja.lifecycle import record_move

from ..finished import payout_finished
from ..models import PAYOUT_TRANSITIONS, Payout, PayoutBatch, PayoutItem

log = logging.getLogger(__name__)

FAILED_AT_GATEWAY = frozenset({"FAILED", "CANCELLED", "REVERSED", "COMPLIANCE_REJECTED"})
SENDABLE_BATCH = (PayoutBatch.Status.APPROVED, PayoutBatch.Status.SENDING)


def _clearing() -> Account:
    return account_for(kind=Account.Kind.PAYOUT_CLEARING)


def _move(payout: Payout, to: str, reason: str = "") -> None:
    record_move(payout, to, table=PAYOUT_TRANSITIONS, reason=reason)


def _request(payout: Payout) -> PayoutRequest:
    return PayoutRequest(
        reference_id=payout.reference,
        channel_code=payout.channel_code,
        account_number=payout.account_number,
        account_holder_name=payout.account_holder,
        amount=payout.amount,
        # The same bytes on every attempt, whatever the language active.
        description=f"Prakerja {payout.kind} {payout.pk}",
    )


def payout_mark_sent(*, payout_id: int) -> Payout | None:
    """Step 1: the ledger moves to clearing and the payout is *sent*. Returns
    the payout to send, or None when there is nothing to send."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update(of=("self",)).select_related("batch").get(pk=payout_id)
        if payout.is_final:
            return None
        if payout.batch_id and payout.batch.status not in SENDABLE_BATCH:
            # Nothing leaves from a batch nobody approved.
            log.warning("payout %s: batch %s is %s, not sent", payout.pk, payout.batch_id, payout.batch.status)
            return None
        first_send = payout.status == Payout.Status.PENDING
        if first_send:
            _move(payout, Payout.Status.SENT)
            payout.sent_at = timezone.now()
        payout.attempts += 1
        payout.save(update_fields=["status", "sent_at", "attempts"])
        if first_send:
            _move_lines(payout, back=False)
        return payout


def _move_lines(payout: Payout, *, back: bool) -> None:
    """The payout's lines from their accounts to payout clearing, or back
    (``back``, when it failed). Last in its transaction: the clearing
    account's row is shared by every payout, and stays locked from here to
    the commit."""
    clearing = _clearing()
    lines = list(payout.lines.select_related("source"))
    ledger_lock(clearing, *(line.source for line in lines))
    for line in lines:
        ledger_transfer(
            key=f"payout:{payout.pk}:{'reverse' if back else 'send'}:{line.pk}",
            debit=clearing if back else line.source,
            credit=line.source if back else clearing,
            amount=line.amount,
            reason=f"payout {payout.pk} {'failed' if back else 'sent'}",
        )


def payout_send(*, payout_id: int, gateway: PayoutGateway) -> Payout | None:
    """Sends one payout; safe to run any number of times. GatewayError
    (timeout, 5xx) propagates for the task to retry with the same key."""
    payout = payout_mark_sent(payout_id=payout_id)
    if payout is None:
        return None
    try:
        answer = gateway.create_payout(_request(payout))
    except GatewayRefused as refusal:
        # Before failing it (and freeing its enrolments for another batch):
        # is there a payout under this reference after all, from an earlier
        # attempt whose answer was lost? Then that is the answer.
        answer = gateway.find_payout(payout.reference)
        if answer is None:
            return payout_fail(payout_id=payout_id, code=refusal.code, message=refusal.message)
    return payout_record(payout_id=payout_id, answer=answer)


def payout_record(*, payout_id: int, answer: GatewayPayout) -> Payout:
    """Records what the gateway says of a payout (its answer to creation, a
    webhook, or polling). Idempotent: a final payout does not change again."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if answer.reference_id != payout.reference:
            raise ValueError(f"gateway answer for {answer.reference_id} recorded on {payout.reference}")
        if payout.status == Payout.Status.PENDING:
            return payout
        if payout.is_final:
            if answer.status != payout.gateway_status and payout.gateway_status:
                # E.g. REVERSED after SUCCEEDED: the bank sent the money back.
                # Not undone automatically; reconciliation shows it.
                log.error("payout %s is %s here but now %s at the gateway", payout.pk, payout.status, answer.status)
                payout.gateway_status = answer.status
                payout.save(update_fields=["gateway_status"])
            return payout
        if answer.amount != payout.amount:
            # Never settle what we did not send; reconciliation flags it.
            log.error("payout %s: gateway amount %s, ours %s", payout.pk, answer.amount, payout.amount)
            payout.gateway_id, payout.gateway_status = answer.id, answer.status
            payout.checked_at = timezone.now()
            payout.save(update_fields=["gateway_id", "gateway_status", "checked_at"])
            return payout
        payout.gateway_id = answer.id
        payout.gateway_status = answer.status
        payout.checked_at = timezone.now()
        if answer.status == "SUCCEEDED":
            _succeed(payout)
        elif answer.status in FAILED_AT_GATEWAY:
            return _fail(payout, code=answer.failure_code or answer.status, message="")
        else:
            payout.save(update_fields=["gateway_id", "gateway_status", "checked_at"])
    return payout


def _succeed(payout: Payout) -> None:
    _move(payout, Payout.Status.SUCCEEDED, reason=payout.gateway_id)
    payout.finished_at = timezone.now()
    payout.save(update_fields=["status", "gateway_id", "gateway_status", "checked_at", "finished_at"])
    payout_finished(payout)
    # The shared clearing and paid-out rows last, held only to the commit.
    ledger_transfer(
        key=f"payout:{payout.pk}:settle",
        debit=_clearing(),
        credit=account_for(kind=Account.Kind.DISBURSED),
        amount=payout.amount,
        reason=f"payout {payout.pk} succeeded",
    )
    if payout.batch_id:
        _finish_batch(payout.batch_id)


def payout_fail(*, payout_id: int, code: str, message: str) -> Payout:
    """A definite refusal or failure: the money goes back where it came from."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.is_final:
            return payout
        return _fail(payout, code=code, message=message)


def _fail(payout: Payout, *, code: str, message: str) -> Payout:
    from ..tasks import notify_payout_failed

    was_sent = payout.sent_at is not None
    if payout.status == Payout.Status.PENDING:
        _move(payout, Payout.Status.SENT, reason="refused before sending")
    _move(payout, Payout.Status.FAILED, reason=code)
    payout.failure_code = code[:64]
    payout.failure_message = message[:500]
    payout.finished_at = timezone.now()
    payout.save(
        update_fields=["status", "gateway_id", "gateway_status", "checked_at", "failure_code", "failure_message",
                       "finished_at"]
    )  # fmt: skip
    if payout.kind == Payout.Kind.COURSE_FEES:
        # Its enrolments may go into a later batch.
        PayoutItem.objects.filter(payout=payout, released=False).update(released=True)
    payout_finished(payout)
    if was_sent:
        _move_lines(payout, back=True)
    if payout.batch_id:
        _finish_batch(payout.batch_id)
    transaction.on_commit(lambda: notify_payout_failed.delay(payout.pk))
    return payout


def _finish_batch(batch_id: int) -> None:
    """When the last payout of a batch is final, the batch is too, and its
    reconciliation is queued."""
    from ..tasks import reconcile_batch

    open_statuses = [Payout.Status.PENDING, Payout.Status.SENT]
    if Payout.objects.filter(batch_id=batch_id, status__in=open_statuses).exists():
        return  # the usual case, decided without touching the batch's row
    # Then the batch's lock and the check again: of two last payouts
    # finishing at once, the second to get the lock sees the first one
    # committed. (If each saw the other still open above, neither gets here:
    # the poller's batches_finish_stale finishes the batch.)
    batch = PayoutBatch.objects.select_for_update().get(pk=batch_id)
    if batch.status != PayoutBatch.Status.SENDING:
        return
    if Payout.objects.filter(batch_id=batch_id, status__in=[Payout.Status.PENDING, Payout.Status.SENT]).exists():
        return
    from .batches import batch_move

    failed = batch.payouts.filter(status=Payout.Status.FAILED).count()
    if failed == 0:
        batch_move(batch, PayoutBatch.Status.SETTLED)
    elif failed == batch.payout_count:
        batch_move(batch, PayoutBatch.Status.FAILED, reason=f"{failed} payouts failed")
    else:
        batch_move(batch, PayoutBatch.Status.PARTLY_FAILED, reason=f"{failed} of {batch.payout_count} payouts failed")
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "finished_at"])
    transaction.on_commit(lambda: reconcile_batch.delay(batch_id))


def batches_finish_stale() -> int:
    """Sending batches with no payout left open: finished (see _finish_batch)."""
    open_payouts = Payout.objects.filter(batch_id=OuterRef("pk"), status__in=["pending", "sent"])
    stale = PayoutBatch.objects.filter(status=PayoutBatch.Status.SENDING).exclude(Exists(open_payouts))
    finished = 0
    for batch_id in stale.values_list("pk", flat=True):
        with transaction.atomic():
            _finish_batch(batch_id)
        finished += 1
    return finished


def payouts_to_check(*, older_than_seconds: int, limit: int = 500) -> list[int]:
    """Sent payouts whose outcome has not arrived: polled with the gateway."""
    since = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    return list(
        Payout.objects.filter(status=Payout.Status.SENT, sent_at__lt=since)
        .exclude(checked_at__gte=since)
        .order_by(F("checked_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )


def payouts_stranded(*, older_than_seconds: int) -> tuple[list[int], list[int]]:
    """Work a lost task left undone: approved batches never started, and
    pending payouts of batches that are sending (their send task failed or
    was lost). The caller queues them again; both are safe to repeat."""
    since = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    batches = list(
        PayoutBatch.objects.filter(status=PayoutBatch.Status.APPROVED, decided_at__lt=since).values_list(
            "pk", flat=True
        )
    )
    pending = list(
        Payout.objects.filter(status=Payout.Status.PENDING)
        .filter(
            Q(batch__status=PayoutBatch.Status.SENDING, batch__decided_at__lt=since)
            | Q(batch__isnull=True, created_at__lt=since)
        )
        .values_list("pk", flat=True)[:1000]
    )
    return batches, pending


def payout_poll(*, payout_id: int, gateway: PayoutGateway) -> str:
    """Asks the gateway about one sent payout whose webhook never came.
    Returns what was found: "recorded", "pending" or "unknown" (the gateway
    never got it: the caller sends it again, under the same key)."""
    payout = Payout.objects.get(pk=payout_id)
    if payout.status != Payout.Status.SENT:
        return "recorded"
    answer = gateway.get_payout(payout.gateway_id) if payout.gateway_id else gateway.find_payout(payout.reference)
    if answer is None:
        Payout.objects.filter(pk=payout_id).update(checked_at=timezone.now())
        return "unknown"
    payout = payout_record(payout_id=payout_id, answer=answer)
    if payout.is_final:
        return "recorded"
    Payout.objects.filter(pk=payout_id).update(checked_at=timezone.now())
    return "pending"

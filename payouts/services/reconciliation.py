"""After a batch finishes: the batch, the gateway's statuses and the ledger
compared, every difference flagged.

For each payout, with its ledger movements (keys ``payout:<id>:send:*``,
``payout:<id>:settle``, ``payout:<id>:reverse:*``):

- amount = its lines = its enrolments;
- succeeded: gateway SUCCEEDED for the same amount; sent = settled = amount,
  nothing reversed; every enrolment paid out;
- failed: gateway failed or never had it; reversed = sent; settled nothing;
  every enrolment released for a later batch;
- sent or pending: reported as not finished.

And for the batch: total = its payouts = its enrolments.
"""

from collections import defaultdict

from django.db.models import Count, Q, Sum
from django.utils import timezone

from enrollment.models import Enrollment
from payments.gateway import GatewayError, PayoutGateway
from payments.models import Transfer

from ..models import Payout, PayoutBatch, PayoutItem, PayoutLine
from .disbursement import FAILED_AT_GATEWAY


def _ledger_by_payout(batch: PayoutBatch) -> dict[int, dict[str, int]]:
    """What the ledger moved for each payout of the batch, in one scan of the
    payout transfers made since the batch was built."""
    moved: dict[int, dict[str, int]] = defaultdict(lambda: {"send": 0, "settle": 0, "reverse": 0})
    ids = set(batch.payouts.values_list("pk", flat=True))
    transfers = Transfer.objects.filter(
        key__startswith="payout:", status=Transfer.Status.POSTED, created_at__gte=batch.created_at
    ).values_list("key", "amount")
    for key, amount in transfers.iterator(chunk_size=5000):
        _prefix, payout_id, what = key.split(":")[:3]
        if int(payout_id) in ids:
            moved[int(payout_id)][what] += amount
    return moved


def payout_batch_reconcile(*, batch_id: int, gateway: PayoutGateway) -> PayoutBatch:
    batch = PayoutBatch.objects.get(pk=batch_id)
    problems: list[dict] = []

    def ledger_flag(payout_id, ledger):
        flag(payout_id, f"ledger sent {ledger['send']}, settled {ledger['settle']}, reversed {ledger['reverse']}")

    def flag(payout_id, what):
        problems.append({"payout": payout_id, "problem": what})

    payouts = list(batch.payouts.order_by("pk"))
    lines = dict(
        PayoutLine.objects.filter(payout__batch=batch)
        .values("payout")
        .annotate(s=Sum("amount"))
        .values_list("payout", "s")
    )
    items = {
        row["payout"]: row
        for row in PayoutItem.objects.filter(batch=batch)
        .values("payout")
        .annotate(
            s=Sum("amount"),
            n=Count("pk"),
            released=Count("pk", filter=Q(released=True)),
            paid=Count("pk", filter=Q(enrollment__status=Enrollment.Status.PAID_OUT)),
        )
    }
    moved = _ledger_by_payout(batch)
    gateway_statuses: dict[str, int] = defaultdict(int)
    total = 0
    for payout in payouts:
        total += payout.amount
        item = items.get(payout.pk, {"s": 0, "n": 0, "released": 0, "paid": 0})
        if not (payout.amount == lines.get(payout.pk) == item["s"]):
            flag(payout.pk, f"amount {payout.amount}, lines {lines.get(payout.pk)}, enrolments {item['s']}")
        ledger = moved[payout.pk]
        try:
            remote = (
                gateway.get_payout(payout.gateway_id) if payout.gateway_id else gateway.find_payout(payout.reference)
            )
        except GatewayError as exc:
            flag(payout.pk, f"gateway not reachable: {exc}")
            remote = False
        remote_status = "" if remote is False else (remote.status if remote else "NONE")
        gateway_statuses[remote_status or "UNREACHABLE"] += 1
        if remote and remote.amount != payout.amount:
            flag(payout.pk, f"gateway amount {remote.amount}, ours {payout.amount}")
        if payout.status == Payout.Status.SUCCEEDED:
            if remote is not False and remote_status != "SUCCEEDED":
                flag(payout.pk, f"succeeded here, {remote_status} at the gateway")
            if not (ledger["send"] == ledger["settle"] == payout.amount and ledger["reverse"] == 0):
                ledger_flag(payout.pk, ledger)
            if item["paid"] != item["n"]:
                flag(payout.pk, f"{item['n'] - item['paid']} enrolments not marked paid out")
        elif payout.status == Payout.Status.FAILED:
            if remote is not False and remote_status not in FAILED_AT_GATEWAY | {"NONE"}:
                flag(payout.pk, f"failed here, {remote_status} at the gateway")
            if ledger["settle"] or ledger["reverse"] != ledger["send"]:
                ledger_flag(payout.pk, ledger)
            if item["released"] != item["n"]:
                flag(payout.pk, f"{item['n'] - item['released']} enrolments not released")
        else:
            flag(payout.pk, f"not finished: {payout.status}, gateway {remote_status}")
    enrolment_total = sum(row["s"] or 0 for row in items.values())
    if not (batch.total_amount == total == enrolment_total):
        flag(None, f"batch total {batch.total_amount}, payouts {total}, enrolments {enrolment_total}")
    succeeded = sum(p.amount for p in payouts if p.status == Payout.Status.SUCCEEDED)
    failed = sum(p.amount for p in payouts if p.status == Payout.Status.FAILED)
    batch.reconciliation = {
        "payouts": len(payouts),
        "total": total,
        "succeeded_amount": succeeded,
        "failed_amount": failed,
        "gateway_statuses": dict(gateway_statuses),
        "ledger_sent": sum(m["send"] for m in moved.values()),
        "ledger_settled": sum(m["settle"] for m in moved.values()),
        "ledger_reversed": sum(m["reverse"] for m in moved.values()),
        "problems": problems,
    }
    batch.reconciliation_ok = not problems
    batch.reconciled_at = timezone.now()
    batch.save(update_fields=["reconciliation", "reconciliation_ok", "reconciled_at"])
    return batch

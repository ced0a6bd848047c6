"""Who is told that a payout finished (succeeded or failed), by kind of
payout: the app that owns what was paid registers its handler when it starts
(enrollment for course fees, payouts' own incentives module for incentives),
so the disbursement code imports none of its consumers back. A handler runs
inside the payout's transaction, with the payout locked and already final."""

from collections.abc import Callable

Handler = Callable[..., None]

_handlers: dict[str, Handler] = {}


def on_payout_finished(kind: str, handler: Handler) -> None:
    """Registers ``handler(payout=...)`` for payouts of ``kind``."""
    _handlers[kind] = handler


def payout_finished(payout) -> None:
    try:
        handler = _handlers[payout.kind]
    except KeyError:
        # A payout nobody answers for would leave what it paid in limbo.
        raise RuntimeError(f"no handler registered for payouts of kind {payout.kind!r}") from None
    handler(payout=payout)
    if payout.institution_id or payout.platform_id:
        from webhooks.services import webhook_emit

        webhook_emit(
            event_type=f"payout.{payout.status}",
            key=f"payout:{payout.pk}:{payout.status}",
            platform_id=payout.platform_id,
            institution_id=payout.institution_id,
            data={
                "payout_id": payout.pk,
                "reference": payout.reference,
                "amount": payout.amount,
                "status": payout.status,
            },
        )

"""Celery tasks of payouts. Each takes ids, loads fresh state and calls a
service, so running one twice does no harm: that is what lets the worker
acknowledge a task only after it ran (CELERY_TASK_ACKS_LATE) and have it
delivered again when the worker died (CELERY_TASK_REJECT_ON_WORKER_LOST)."""

import logging
import random

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from notifications.services import notify_email, notify_sms
from payments.gateway import GatewayError, get_gateway

from .models import Payout
from .services import batches, disbursement, incentives, reconciliation

log = logging.getLogger(__name__)


@shared_task
def disburse_batch(batch_id: int) -> int:
    """Queues one send per payout of an approved batch."""
    payout_ids = batches.payout_batch_start(batch_id=batch_id)
    for payout_id in payout_ids:
        send_payout.delay(payout_id)
    log.info("batch %s: %s payouts queued", batch_id, len(payout_ids))
    return len(payout_ids)


@shared_task(bind=True, max_retries=None, soft_time_limit=300)
def send_payout(self, payout_id: int) -> str:
    try:
        payout = disbursement.payout_send(payout_id=payout_id, gateway=get_gateway())
    except OperationalError as exc:  # a deadlock or a dropped connection: nothing was committed
        log.warning("payout %s: database error, retrying: %s", payout_id, exc)
        return self.retry(exc=exc, countdown=random.uniform(1, 5), throw=not self.request.is_eager)
    except GatewayError as exc:
        if self.request.retries >= settings.PAYOUT_SEND_RETRIES:
            # The poller asks the gateway later and sends again if it never got it.
            log.error("payout %s: gateway still not answering after %s tries: %s", payout_id, self.request.retries, exc)
            return "gave up"
        delay = min(settings.PAYOUT_RETRY_MAX_SECONDS, settings.PAYOUT_RETRY_BASE_SECONDS * 2**self.request.retries)
        log.warning("payout %s: %s; retrying in %.0f s", payout_id, exc, delay)
        # A worker needs the Retry raised; run eagerly (the demo), apply()
        # runs the retry when the task returns it.
        return self.retry(exc=exc, countdown=delay * random.uniform(1, 1.25), throw=not self.request.is_eager)
    return payout.status if payout else "nothing to send"


@shared_task
def poll_payouts() -> dict:
    """Beat: asks the gateway about sent payouts whose webhook never came,
    sends again those the gateway never received (same key), and restarts
    approved batches and pending payouts whose task was lost."""
    gateway = get_gateway()
    found = {"recorded": 0, "pending": 0, "unknown": 0, "unreachable": 0, "requeued": 0}
    # Work whose task was lost (a broker flushed, a task that failed on a
    # database error): queued again, which is safe.
    batch_ids, pending_ids = disbursement.payouts_stranded(older_than_seconds=settings.PAYOUT_POLL_AFTER_SECONDS)
    for batch_id in batch_ids:
        disburse_batch.delay(batch_id)
    for payout_id in pending_ids:
        send_payout.delay(payout_id)
    found["requeued"] = len(batch_ids) + len(pending_ids)
    found["batches_finished"] = disbursement.batches_finish_stale()
    for payout_id in disbursement.payouts_to_check(older_than_seconds=settings.PAYOUT_POLL_AFTER_SECONDS):
        try:
            outcome = disbursement.payout_poll(payout_id=payout_id, gateway=gateway)
        except GatewayError as exc:
            log.warning("payout %s: polling failed: %s", payout_id, exc)
            found["unreachable"] += 1
            continue
        found[outcome] += 1
        if outcome == "unknown":
            send_payout.delay(payout_id)
    return found


@shared_task(autoretry_for=(GatewayError,), retry_backoff=60, max_retries=5)
def reconcile_batch(batch_id: int) -> bool:
    batch = reconciliation.payout_batch_reconcile(batch_id=batch_id, gateway=get_gateway())
    if not batch.reconciliation_ok:
        log.error("batch %s: reconciliation found %s problems", batch_id, len(batch.reconciliation["problems"]))
    return batch.reconciliation_ok


@shared_task
def pay_participant_incentives(participant_id: int) -> int:
    """Pays one participant's due instalments now (their account was just
    confirmed, or a survey answered)."""
    return incentives.incentives_pay_due(participant_id=participant_id)


@shared_task
def pay_incentives() -> int:
    """Beat: schedules newly eligible participants and pays what is due."""
    incentives.incentives_schedule_new()
    return incentives.incentives_pay_due()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_payout_failed(payout_id: int) -> None:
    """Tells the payee that a payout failed and why."""
    payout = Payout.objects.select_related("institution", "platform", "participant__user").get(pk=payout_id)
    if payout.participant_id:
        recipients = [payout.participant.user.email]
    elif payout.institution_id:
        recipients = list(payout.institution.staff.exclude(email="").values_list("email", flat=True))
    else:
        recipients = list(payout.platform.staff.exclude(email="").values_list("email", flat=True))
        recipients += [payout.platform.contact_email] if payout.platform.contact_email else []
    recipients = [email for email in recipients if email]
    if not recipients and not payout.participant_id:
        log.warning("payout %s failed and nobody has an email to be told", payout_id)
        return
    with translation.override(settings.LANGUAGE_CODE):
        context = {"payout": payout, "site_url": settings.SITE_URL}
        subject = render_to_string("payouts/email/payout_failed_subject.txt", context).strip()
        body = render_to_string("payouts/email/payout_failed.txt", context)
        sms = (
            _("Prakerja: your incentive of Rp %(amount)s could not be paid to %(channel)s ...%(last)s. "
              "Add another account in your own name on the incentives page.")
            % {"amount": f"{payout.amount:,}".replace(",", "."), "channel": payout.get_channel_code_display(),
               "last": payout.account_number[-4:]}
        ) if payout.participant_id else ""  # fmt: skip
    # Each a row of the outbox, delivered on its own: a failing SMS does not
    # send the email again.
    if recipients:
        notify_email(key=f"payout-failed:{payout.pk}", to=sorted(set(recipients)), subject=subject, body=body)
    if sms:
        notify_sms(key=f"payout-failed-sms:{payout.pk}", to=payout.participant.phone, body=sms)


@shared_task
def check_incentive_account(account_id: int) -> str:
    """The name inquiry of one incentive account just confirmed by its code."""
    from .services.name_check import incentive_account_check

    return incentive_account_check(account_id=account_id)


@shared_task
def check_incentive_accounts() -> int:
    """Beat: asks the gateway again about accounts still being checked."""
    from .services.name_check import incentive_accounts_sweep

    return incentive_accounts_sweep()

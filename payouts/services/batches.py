"""Payout batches to institutions: built by a PMO finance maker from
completed, unpaid enrolments, approved or rejected by a checker who did not
build it, then sent (disbursement.py)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from catalog.models import Institution, Platform
from enrollment.models import Enrollment
from enrollment.selectors import payable_enrollments_sql
from integrity.models import Case
from integrity.selectors import holding_case_sql
from integrity.services.cases import enrollments_screen
from payments.channels import PayoutChannel
from payments.services import account_owner_sql
from prakerja.lifecycle import record_created, record_move
from prakerja.locks import advisory_xact_lock

from ..models import BATCH_TRANSITIONS, Payout, PayoutBatch, PayoutItem, PayoutLine

_BUILD_LOCK = 0x5041594F  # "PAYO": one batch is built at a time

# The eligible enrolments (the enrollment app's selector, less those a live
# batch holds), chosen once into a temporary table: the statements after it
# all see the same set, and none of them reads payouts_payoutitem while
# writing it (a plan that did, made after the table was analysed empty,
# rescanned it per enrolment: 87 s instead of 2 s).
_ELIGIBLE_TABLE = "payout_build_eligible"
# ... or held by an integrity case of its participant.
_HELD = holding_case_sql("e.participant_id", "e.institution_id")
_IN_A_LIVE_BATCH = (
    f"SELECT 1 FROM payouts_payoutitem x WHERE x.enrollment_id = e.id AND x.released = %(no)s UNION ALL {_HELD}"  # noqa: S608
)
_SELECT_ELIGIBLE = f"CREATE TEMPORARY TABLE {_ELIGIBLE_TABLE} AS {payable_enrollments_sql(not_in=_IN_A_LIVE_BATCH)}"

# One payout per payee: the institution when its platform pays directly, the
# platform when it forwards. The bank details are copied as they are now.
_INSERT_PAYOUTS = f"""
    INSERT INTO payouts_payout (kind, batch_id, institution_id, platform_id, channel_code, account_number,
                                account_holder, amount, status, attempts, gateway_id, gateway_status,
                                failure_code, failure_message, created_at)
    SELECT 'course_fees', %(batch)s, g.payee_institution_id, g.payee_platform_id,
           COALESCE(i.bank_name, pl.settlement_bank),
           COALESCE(i.bank_account_number, pl.settlement_account_number),
           COALESCE(i.bank_account_holder, pl.settlement_account_holder),
           g.amount, 'pending', 0, '', '', '', '', %(now)s
    FROM (
        SELECT payee_institution_id, payee_platform_id, SUM(price) AS amount
        FROM {_ELIGIBLE_TABLE} GROUP BY payee_institution_id, payee_platform_id
    ) g
    LEFT JOIN catalog_institution i ON i.id = g.payee_institution_id
    LEFT JOIN catalog_platform pl ON pl.id = g.payee_platform_id
"""  # noqa: S608 - constant SQL, values are parameters

# Every enrolment to its payee's payout; two statements so each is a plain
# equality join.
_INSERT_ITEMS = f"""
    INSERT INTO payouts_payoutitem (batch_id, payout_id, enrollment_id, institution_id, amount, released)
    SELECT %(batch)s, po.id, el.enrollment_id, el.institution_id, el.price, %(no)s
    FROM {_ELIGIBLE_TABLE} el
    JOIN payouts_payout po ON po.batch_id = %(batch)s AND po.{{payee}} = el.payee_{{payee}}
"""  # noqa: S608 - constant SQL, values are parameters
_INSERT_DIRECT_ITEMS = _INSERT_ITEMS.format(payee="institution_id")
_INSERT_FORWARDED_ITEMS = _INSERT_ITEMS.format(payee="platform_id")

# One line per institution in each payout: what leaves its payable account.
_INSERT_LINES = f"""
    INSERT INTO payouts_payoutline (payout_id, source_id, institution_id, amount, enrollment_count)
    SELECT it.payout_id, a.id, it.institution_id, SUM(it.amount), COUNT(*)
    FROM payouts_payoutitem it
    JOIN payments_account a ON a.kind = 'institution_payable'
         AND a.owner = {account_owner_sql("institution", "it.institution_id")}
    WHERE it.batch_id = %(batch)s
    GROUP BY it.payout_id, a.id, it.institution_id
"""  # noqa: S608 - constant SQL, values are parameters


def payout_batch_build(*, by: User, cutoff) -> PayoutBatch:
    """A draft batch of every completed enrolment not yet in a live batch,
    completed up to ``cutoff``: a handful of set-based statements whatever
    the number of enrolments. A refused build leaves nothing (its temporary
    table included: it goes with the rolled-back transaction)."""
    if not by.has_perm("payouts.prepare_payoutbatch"):
        raise PermissionDenied
    now = timezone.now()
    if cutoff is None:
        raise ValidationError({"cutoff": _("Enter the cut-off time.")})
    if cutoff > now:
        raise ValidationError({"cutoff": _("The cut-off cannot be in the future.")})
    # The lists as they are now: whoever they find ineligible gets a case (kept
    # even if the build is refused), and the payout for their courses waits.
    with transaction.atomic():
        enrollments_screen(
            Enrollment.objects.filter(status=Enrollment.Status.COMPLETED, completed_at__lte=cutoff).exclude(
                payout_items__released=False
            ),
            stage=Case.Stage.PAYOUT,
        )
    with transaction.atomic():
        advisory_xact_lock(_BUILD_LOCK)
        batch = PayoutBatch.objects.create(cutoff=cutoff, created_by=by)
        record_created(batch, batch.status, by=by)
        params = {"batch": batch.pk, "cutoff": cutoff, "now": now, "no": False}
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_ELIGIBLE_TABLE}")
            cursor.execute(_SELECT_ELIGIBLE, params)
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {_ELIGIBLE_TABLE}")  # temporary tables get no autovacuum
            cursor.execute(_INSERT_PAYOUTS, params)
            if cursor.rowcount == 0:
                raise ValidationError(
                    {"cutoff": _("No completed enrolment waits for payment up to this cut-off.")}, code="empty"
                )
            cursor.execute(_INSERT_DIRECT_ITEMS, params)
            cursor.execute(_INSERT_FORWARDED_ITEMS, params)
            cursor.execute(_INSERT_LINES, params)
            cursor.execute(f"DROP TABLE {_ELIGIBLE_TABLE}")
        totals = Payout.objects.filter(batch=batch).aggregate(amount=Sum("amount"), payouts=Count("pk"))
        batch.total_amount = totals["amount"] or 0
        batch.payout_count = totals["payouts"]
        batch.enrollment_count = PayoutItem.objects.filter(batch=batch).count()
        batch.save(update_fields=["total_amount", "payout_count", "enrollment_count"])
    return batch


def payees_without_bank() -> list[str]:
    """Institutions and forwarding platforms with completed enrolments
    waiting whose bank is not one the gateway knows: their enrolments stay
    out of batches until the PMO corrects the bank in admin."""
    waiting = {"enrollments__status": "completed"}
    institutions = Institution.objects.filter(**waiting, enrollments__platform__payout_route="direct").exclude(
        bank_name__in=PayoutChannel.values
    )
    platforms = Platform.objects.filter(payout_route="via_platform", **waiting).exclude(
        settlement_bank__in=PayoutChannel.values
    )
    return sorted({i.name for i in institutions} | {p.name for p in platforms})


def _locked(batch_id: int) -> PayoutBatch:
    return PayoutBatch.objects.select_for_update().get(pk=batch_id)


def batch_move(batch: PayoutBatch, to: str, *, by: User | None = None, reason: str = "") -> None:
    """Checks and records a move of a locked batch; the caller saves it."""
    record_move(batch, to, table=BATCH_TRANSITIONS, by=by, reason=reason)


def _release_items(batch: PayoutBatch) -> None:
    PayoutItem.objects.filter(batch=batch, released=False).update(released=True)


def payout_batch_submit(*, batch_id: int, by: User) -> PayoutBatch:
    """The maker, having looked at the totals, lines and enrolments, sends
    the draft for approval."""
    with transaction.atomic():
        batch = _locked(batch_id)
        if batch.created_by_id != by.pk:
            raise ValidationError(_("Only the person who prepared this batch can submit it."), code="not_maker")
        batch_move(batch, PayoutBatch.Status.SUBMITTED, by=by)
        batch.submitted_at = timezone.now()
        batch.save(update_fields=["status", "submitted_at"])
    return batch


def payout_batch_discard(*, batch_id: int, by: User) -> PayoutBatch:
    """The maker drops a batch not yet approved; its enrolments are free for
    the next one."""
    with transaction.atomic():
        batch = _locked(batch_id)
        if batch.created_by_id != by.pk:
            raise ValidationError(_("Only the person who prepared this batch can discard it."), code="not_maker")
        batch_move(batch, PayoutBatch.Status.DISCARDED, by=by)
        batch.save(update_fields=["status"])
        _release_items(batch)
    return batch


def _check_checker(batch: PayoutBatch, by: User) -> None:
    if not by.has_perm("payouts.approve_payoutbatch"):
        raise PermissionDenied
    if batch.created_by_id == by.pk:
        raise ValidationError(
            _("You prepared this batch, so another PMO finance checker must approve or reject it."),
            code="maker_cannot_check",
        )
    if batch.status != PayoutBatch.Status.SUBMITTED:
        raise ValidationError(
            _("Only a batch waiting for approval can be approved or rejected; this one is %(status)s.")
            % {"status": batch.get_status_display().lower()},
            code="not_submitted",
        )


def payout_batch_approve(*, batch_id: int, by: User) -> PayoutBatch:
    """The checker approves; the disbursement job is queued when this commits."""
    from ..tasks import disburse_batch

    with transaction.atomic():
        batch = _locked(batch_id)
        _check_checker(batch, by)
        batch_move(batch, PayoutBatch.Status.APPROVED, by=by)
        batch.decided_by = by
        batch.decided_at = timezone.now()
        batch.save(update_fields=["status", "decided_by", "decided_at"])
        transaction.on_commit(lambda: disburse_batch.delay(batch_id))
    return batch


def payout_batch_reject(*, batch_id: int, by: User, reason: str) -> PayoutBatch:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the batch is rejected.")})
    if len(reason) > 500:
        raise ValidationError({"reason": _("Keep the reason under 500 characters.")})
    with transaction.atomic():
        batch = _locked(batch_id)
        _check_checker(batch, by)
        batch_move(batch, PayoutBatch.Status.REJECTED, by=by, reason=reason)
        batch.decided_by = by
        batch.decided_at = timezone.now()
        batch.rejection_reason = reason
        batch.save(update_fields=["status", "decided_by", "decided_at", "rejection_reason"])
        _release_items(batch)
    return batch


def payout_batch_start(*, batch_id: int) -> list[int]:
    """Moves an approved batch to sending and returns the payouts still to
    send (all of them the first time; those left pending after a crash when
    run again)."""
    with transaction.atomic():
        batch = _locked(batch_id)
        if batch.status == PayoutBatch.Status.APPROVED:
            batch_move(batch, PayoutBatch.Status.SENDING)
            batch.save(update_fields=["status"])
        elif batch.status != PayoutBatch.Status.SENDING:
            return []
        return list(batch.payouts.filter(status=Payout.Status.PENDING).values_list("pk", flat=True))


def batch_lines(batch: PayoutBatch):
    """The lines of a batch with their payout and payee, for the preview and
    the statements."""
    return PayoutLine.objects.filter(payout__batch=batch).select_related(
        "payout", "payout__institution", "payout__platform", "institution"
    )

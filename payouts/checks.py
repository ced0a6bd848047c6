"""Payout invariants (DESIGN.md "Money"), run by ``manage.py check_ledger``
beside the ledger's own: each query counts breaches."""

from django.db import connection

# The payout id in a transfer key "payout:<id>:<what>[:<line>]".
_PAYOUT_ID = (
    "CAST(split_part(key, ':', 2) AS bigint)"
    if connection.vendor == "postgresql"
    else "CAST(substr(key, 8, instr(substr(key, 8), ':') - 1) AS integer)"
)

LEDGER_CHECKS = {
    "every payout batch total equals the sum of its payouts": """
        SELECT COUNT(*) FROM payouts_payoutbatch b
        LEFT JOIN (SELECT batch_id, SUM(amount) AS s FROM payouts_payout GROUP BY batch_id) p ON p.batch_id = b.id
        WHERE b.status NOT IN ('discarded', 'rejected') AND b.total_amount <> COALESCE(p.s, 0)""",
    "every payout equals its lines, and a batch payout its enrolments": """
        SELECT COUNT(*) FROM payouts_payout po
        LEFT JOIN (SELECT payout_id, SUM(amount) AS s FROM payouts_payoutline GROUP BY payout_id) l
               ON l.payout_id = po.id
        LEFT JOIN (SELECT payout_id, SUM(amount) AS s FROM payouts_payoutitem GROUP BY payout_id) i
               ON i.payout_id = po.id
        WHERE po.amount <> COALESCE(l.s, 0) OR (po.batch_id IS NOT NULL AND po.amount <> COALESCE(i.s, 0))""",
    "every payout's ledger movements match its status": f"""
        SELECT COUNT(*) FROM payouts_payout po
        LEFT JOIN (
            SELECT {_PAYOUT_ID} AS payout_id,
                   SUM(CASE WHEN key LIKE 'payout:%:send:%' THEN amount ELSE 0 END) AS sent,
                   SUM(CASE WHEN key LIKE 'payout:%:settle' THEN amount ELSE 0 END) AS settled,
                   SUM(CASE WHEN key LIKE 'payout:%:reverse:%' THEN amount ELSE 0 END) AS reversed
            FROM payments_transfer WHERE key LIKE 'payout:%' GROUP BY 1
        ) t ON t.payout_id = po.id
        WHERE NOT CASE po.status
            WHEN 'pending' THEN COALESCE(t.sent, 0) = 0 AND COALESCE(t.settled, 0) = 0
                AND COALESCE(t.reversed, 0) = 0
            WHEN 'sent' THEN COALESCE(t.sent, 0) = po.amount AND COALESCE(t.settled, 0) = 0
                AND COALESCE(t.reversed, 0) = 0
            WHEN 'succeeded' THEN COALESCE(t.sent, 0) = po.amount AND COALESCE(t.settled, 0) = po.amount
                AND COALESCE(t.reversed, 0) = 0
            WHEN 'failed' THEN COALESCE(t.settled, 0) = 0 AND COALESCE(t.reversed, 0) = COALESCE(t.sent, 0)
            ELSE 1 = 0
        END""",  # noqa: S608 - constant SQL
    "payout clearing holds exactly the payouts sent and not yet final": """
        SELECT COUNT(*) FROM (SELECT
            COALESCE((SELECT SUM(balance) FROM payments_account WHERE kind = 'payout_clearing'), 0) AS clearing,
            COALESCE((SELECT SUM(amount) FROM payouts_payout WHERE status = 'sent'), 0) AS in_flight) x
        WHERE clearing <> in_flight""",
    "what left through the gateway equals the payouts that succeeded": """
        SELECT COUNT(*) FROM (SELECT
            COALESCE((SELECT SUM(balance) FROM payments_account WHERE kind = 'disbursed'), 0) AS disbursed,
            COALESCE((SELECT SUM(amount) FROM payouts_payout WHERE status = 'succeeded'), 0) AS succeeded) x
        WHERE disbursed <> succeeded""",
    # Plain joins and counts, no anti-join: a plan a stale row estimate cannot
    # turn into a per-row rescan of 100,000 items (seen right after a batch).
    "no enrolment paid out twice, and every paid one by a succeeded payout": """
        SELECT (SELECT COUNT(*) FROM (
                    SELECT it.enrollment_id FROM payouts_payoutitem it JOIN payouts_payout po ON po.id = it.payout_id
                    WHERE po.status = 'succeeded' GROUP BY it.enrollment_id HAVING COUNT(*) > 1) twice)
             + ABS((SELECT COUNT(*) FROM enrollment_enrollment WHERE status = 'paid_out')
                   - (SELECT COUNT(*) FROM payouts_payoutitem it JOIN payouts_payout po ON po.id = it.payout_id
                      JOIN enrollment_enrollment e ON e.id = it.enrollment_id
                      WHERE po.status = 'succeeded' AND e.status = 'paid_out'))
             + (SELECT COUNT(*) FROM payouts_payoutitem it JOIN payouts_payout po ON po.id = it.payout_id
                JOIN enrollment_enrollment e ON e.id = it.enrollment_id
                WHERE po.status = 'succeeded' AND e.status <> 'paid_out')""",
}

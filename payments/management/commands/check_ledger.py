"""Checks the ledger's invariants on a live database; exits 1 on any breach.

    python manage.py check_ledger

- debits equal credits: all balances add up to zero;
- every balance equals its posted credits minus its posted debits;
- every account's held amount equals its pending holds;
- no account but the programme fund has less than it holds, or below zero;
- every hold is resolved at most once (posted/voided ones dated, pending
  ones not);
- and the checks other apps declare in ``<app>/checks.py`` as
  ``LEDGER_CHECKS`` (the payouts app's: batch totals, payout lines, payout
  ledger movements, no enrolment paid out twice).
"""

import contextlib
import time

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils.module_loading import import_string

CHECKS = {
    "all balances add up to zero (debits = credits)": "SELECT COALESCE(SUM(balance), 0) FROM payments_account",
    "balances equal posted credits minus posted debits": """
        SELECT COUNT(*) FROM payments_account a
        LEFT JOIN (SELECT credit_id AS id, SUM(amount) AS s FROM payments_transfer
                   WHERE status = 'posted' GROUP BY credit_id) c ON c.id = a.id
        LEFT JOIN (SELECT debit_id AS id, SUM(amount) AS s FROM payments_transfer
                   WHERE status = 'posted' GROUP BY debit_id) d ON d.id = a.id
        WHERE a.balance <> COALESCE(c.s, 0) - COALESCE(d.s, 0)""",
    "held amounts equal pending holds": """
        SELECT COUNT(*) FROM payments_account a
        LEFT JOIN (SELECT debit_id AS id, SUM(amount) AS s FROM payments_transfer
                   WHERE status = 'pending' GROUP BY debit_id) h ON h.id = a.id
        WHERE a.held <> COALESCE(h.s, 0)""",
    "no negative balance or over-held account": """
        SELECT COUNT(*) FROM payments_account
        WHERE held < 0 OR (NOT allow_negative AND (balance < 0 OR balance < held))""",
    "every hold resolved at most once": """
        SELECT COUNT(*) FROM payments_transfer
        WHERE (status = 'pending' AND resolved_at IS NOT NULL)
           OR (status IN ('voided') AND NOT is_hold)
           OR (is_hold AND status IN ('posted', 'voided') AND resolved_at IS NULL)""",
}


def all_checks() -> dict[str, str]:
    checks = dict(CHECKS)
    for config in apps.get_app_configs():
        with contextlib.suppress(ImportError):
            checks.update(import_string(f"{config.name}.checks.LEDGER_CHECKS"))
    return checks


class Command(BaseCommand):
    help = "Checks the ledger's invariants; exits 1 on any breach."

    def handle(self, *args, **options):
        started = time.perf_counter()
        breaches = 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM payments_transfer")
            transfers = cursor.fetchone()[0]
            for name, sql in all_checks().items():
                cursor.execute(sql)
                value = cursor.fetchone()[0]
                ok = value == 0
                breaches += not ok
                self.stdout.write(f"{'ok    ' if ok else 'BREACH'} {name}" + ("" if ok else f": {value}"))
        self.stdout.write(f"{transfers} transfers checked in {time.perf_counter() - started:.2f} s")
        if breaches:
            raise SystemExit(1)

"""Benchmark: the ledger invariant check on 1,000,000 transfers.

Builds its own PostgreSQL database (dropped and re-created) with 10,000
participant accounts funded from the programme fund and paying institutions,
holds among them, all consistent, then times `manage.py check_ledger`.

    .venv/bin/python bench/ledger_invariants.py [--transfers 1000000]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from payments.owners import account_owner_sql  # noqa: E402  (after the path)

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB = "prakerja_bench_ledger"


def main() -> None:
    import psycopg

    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=1_000_000)
    args = parser.parse_args()
    base = ADMIN_URL.rsplit("/", 1)[0]
    env = {**os.environ, "PRAKERJA_ENV": "development", "DATABASE_URL": f"{base}/{DB}", "LOG_LEVEL": "WARNING"}
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)

    # One fund, 10,000 participants, 100 institutions. Per participant: a
    # funding transfer, then purchases (posted holds) and open holds, so the
    # balances below are exactly what the transfers say.
    n = args.transfers
    participants = 10_000
    per = max(1, n // participants - 1)
    started = time.perf_counter()
    with psycopg.connect(f"{base}/{DB}", autocommit=True) as conn:
        conn.execute(
            "INSERT INTO payments_account (kind, owner, balance, held, allow_negative, created_at) "
            "VALUES ('programme_fund', '', 0, 0, true, now())"
        )
        conn.execute(
            "INSERT INTO payments_account (kind, owner, balance, held, allow_negative, created_at) "
            f"SELECT 'participant_training', {account_owner_sql('participant', 'g')}, 0, 0, false, now() "
            f"FROM generate_series(1, {participants}) g"
        )
        conn.execute(
            "INSERT INTO payments_account (kind, owner, balance, held, allow_negative, created_at) "
            f"SELECT 'institution_payable', {account_owner_sql('institution', 'g')}, 0, 0, false, now() "
            "FROM generate_series(1, 100) g"
        )
        conn.execute(
            f"""
            INSERT INTO payments_transfer (key, debit_id, credit_id, amount, status, is_hold, reason, created_at, resolved_at)
            SELECT 'fund-' || p.id, 1, p.id, {per} * 1000 + 1000, 'posted', false, 'card', now(), NULL
            FROM payments_account p WHERE p.kind = 'participant_training'
            """
        )
        conn.execute(
            f"""
            INSERT INTO payments_transfer (key, debit_id, credit_id, amount, status, is_hold, reason, created_at, resolved_at)
            SELECT 'buy-' || p.id || '-' || k, p.id, {participants + 2} + (p.id + k) % 100, 1000,
                   CASE WHEN k = 1 THEN 'pending' ELSE 'posted' END, true, 'course', now(),
                   CASE WHEN k = 1 THEN NULL ELSE now() END
            FROM payments_account p, generate_series(1, {per}) k WHERE p.kind = 'participant_training'
            """
        )
        # Balances as the transfers make them.
        conn.execute(
            """
            UPDATE payments_account a SET
              balance = COALESCE((SELECT SUM(amount) FROM payments_transfer WHERE credit_id = a.id AND status = 'posted'), 0)
                      - COALESCE((SELECT SUM(amount) FROM payments_transfer WHERE debit_id = a.id AND status = 'posted'), 0),
              held = COALESCE((SELECT SUM(amount) FROM payments_transfer WHERE debit_id = a.id AND status = 'pending'), 0)
            """
        )
        conn.execute("ANALYZE")
        count = conn.execute("SELECT COUNT(*) FROM payments_transfer").fetchone()[0]
    print(f"ledger benchmark: {count:,} transfers over {participants + 101:,} accounts built in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "check_ledger"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    print(result.stdout.rstrip())
    print(f"check_ledger: exit {result.returncode}, {time.perf_counter() - started:.1f} s including start-up")


if __name__ == "__main__":
    main()

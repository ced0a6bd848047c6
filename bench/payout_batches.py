"""Benchmark: building a payout batch and disbursing it (issue 6, "Payouts").

Builds its own PostgreSQL database (dropped and re-created) holding
--enrolments completed enrolments spread evenly over --institutions
institutions, then:

1. Build: ``payout_batch_build`` timed in a Django process of its own, with
   the SQL statements it ran counted (CaptureQueriesContext) and that
   process's peak RSS; the maker then submits the batch.
2. Disbursement, for each gateway latency (--latency-ms) and worker count
   (--workers): a copy of the database as it was after the submission
   (CREATE DATABASE ... TEMPLATE), the stand-in gateway as a process of its
   own (``manage.py payout_standin``), gunicorn receiving its webhooks, and N
   Celery workers (solo pool) on a queue of their own in Redis db 3. A
   checker (not the maker) approves the batch, which queues
   ``disburse_batch``; the time runs from the approval until the batch is
   settled (its last webhook). Also shown: when every payout had the
   gateway's answer, when reconciliation finished, how busy the machine's
   CPUs were, the workers' CPU time and peak RSS, and what the run's
   database sessions were doing (pg_stat_activity every 50 ms; a lock wait
   is labelled by the statement that waits). The stand-in settles every
   payout 50 ms after creating it and sends the webhook; with a latency
   above 0 it runs in its "slow" mode, answering each create call after
   that long, as a real gateway would.
3. The gateway alone: the same number of create calls made with the Xendit
   client from as many client processes as the most workers, straight to a
   fresh stand-in (no database, no webhooks), to show where the gateway
   becomes the limit.

After every run: ``manage.py check_ledger`` on that database, the batch
settled and reconciled clean, every enrolment paid out and every payable
back to zero, and the stand-in holding exactly one payout per Payout (same
amount, one create request each).

Statistics: the setup analyses the tables it loaded, not the payout tables
(before a first batch they have never been analysed, as on a real
deployment; --analyze-empty-payout-tables analyses them empty, which makes
the planner run the build's item insert as a quadratic nested loop). The
database is analysed after the build and before check_ledger after each
run, as autovacuum would after changes that size, because it may be off
(it is off on the development server). After the first run, check_ledger also
runs before that ANALYZE, stopped after 30 s if it has not finished.

The state is made with set-based SQL (generate_series, COPY), not through
the services: 100,000 purchases through enrollment_submit, redeem and
complete would take far too long. It is what the services would leave, and
every database constraint holds: participants selected in a drawn wave
(encrypted NIK and KK with their blind indexes, like the services make),
each with a card whose Rp 1,000,000 balance came from the programme fund,
each buying 4 courses (Rp 100,000 to 250,000, one of each) of 4 different
institutions, each completed with its hold posted from the card's balance
to the institution's payable account; one course per institution; every
10th institution sells through a platform that forwards the money
(payout_route "via_platform"), so both routes are exercised: one payout per
direct institution and one for the platform, with a line per institution.
Not made: the status-change histories, platform notices and certificate
files (the rows name a file that does not exist); nothing here reads them.
``manage.py check_ledger`` must pass on the state before anything is timed.

    .venv/bin/python bench/payout_batches.py [--enrolments 100000 --institutions 1000]
        [--workers 1 2 4] [--latency-ms 50 0] [--timeout 600] [--analyze-empty-payout-tables]

Runs about 15 minutes on 2 cores, most of it sending (6 runs of 1-2.5 minutes).
"""

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the spawned Django processes import the project too

from payments.owners import account_owner_sql  # noqa: E402  (after the path)
from prakerja.celery import queues_for  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/3")
DB = "prakerja_bench_payouts"
SECRET_KEY = "xnd_development_bench_payouts"
CALLBACK_TOKEN = "bench-payouts-callback-token"
MAKER, CHECKER, AUTHOR = "maker@bench.invalid", "checker@bench.invalid", "lembaga@bench.invalid"
BALANCE = 1_000_000
PRICES = (100_000, 150_000, 200_000, 250_000)  # one course of each per participant: Rp 700,000
PER_PARTICIPANT = len(PRICES)
FORWARD_EVERY = 10  # every 10th institution sells through the forwarding platform
REGIONS = ("327301", "317101", "350101", "110101")
POLL = 0.05
STALE_PROBE_SECONDS = 30
# The tables the setup fills: analysed after it. The payout tables are not:
# before the first batch they have never been analysed, as on a real
# deployment (see --analyze-empty-payout-tables).
LOADED = (
    "catalog_platform",
    "catalog_institution",
    "catalog_institution_platforms",
    "catalog_course",
    "catalog_courserevision",
    "enrollment_wave",
    "accounts_user",
    "accounts_user_groups",
    "accounts_familycard",
    "accounts_participant",
    "enrollment_waveapplication",
    "enrollment_card",
    "payments_account",
    "payments_transfer",
    "enrollment_enrollment",
)


def db_url(name: str) -> str:
    return f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def django_env(db: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PRAKERJA_ENV": "development",
        "DJANGO_DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "prakerja.settings",
        "DATABASE_URL": db_url(db),
        "LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "XENDIT_SECRET_KEY": SECRET_KEY,
        "XENDIT_CALLBACK_TOKEN": CALLBACK_TOKEN,
        **extra,
    }


def admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def check_ledger(env: dict[str, str], timeout: float | None = None) -> tuple[bool | None, str]:
    """(passed, output); passed is None when it did not finish in time (its
    query is then stopped)."""
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "check_ledger"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        import psycopg

        name = env["DATABASE_URL"].rsplit("/", 1)[1]
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
        return None, (exc.stdout or b"").decode(errors="replace").rstrip()
    return result.returncode == 0, (result.stdout + result.stderr).rstrip()


def analyze(db: str) -> float:
    """ANALYZE, as autovacuum would after a change this size (it is off on
    some servers); returns the seconds it took."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(db_url(db), autocommit=True) as conn:
        conn.execute("ANALYZE")
    return time.perf_counter() - started


# Django work, each in a process of its own (spawned with the given env) ------


def _django_init(env: dict[str, str]) -> None:
    import django

    os.environ.clear()
    os.environ.update(env)
    django.setup()


def in_django(env: dict[str, str], fn, *args):
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=_django_init, initargs=(env,)) as pool:
        return pool.submit(fn, *args).result()


def _rss_mb(pid: int | str = "self", field: str = "VmRSS") -> float:
    """A process's resident set (VmRSS) or its peak (VmHWM), in MB (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _setup_state(enrolments: int, institutions: int, analyze_all: bool) -> dict:
    """The state of step 1 (see the module docstring), in one transaction."""
    import psycopg
    from django.contrib.auth.models import Group
    from stdnum import luhn

    from accounts import crypto, roles
    from accounts.models import User
    from accounts.nik import compose_nik

    def staff(email: str, role: str) -> User:
        user = User.objects.create_user(email=email, password=None, is_staff=role != roles.INSTITUTION_STAFF)
        user.groups.add(Group.objects.get(name=role))
        return user

    staff(MAKER, roles.PMO_FINANCE_MAKER)
    staff(CHECKER, roles.PMO_FINANCE_CHECKER)
    author = staff(AUTHOR, roles.INSTITUTION_STAFF)

    people = -(-enrolments // PER_PARTICIPANT)
    now = datetime.now(UTC).replace(microsecond=0)
    t_wave = now - timedelta(days=100)  # opens; closes +10 d, drawn +12 d, cards issued +13 d
    t_buy = now - timedelta(days=70)  # first purchases; the k-th 14 days after, each completed in 10 days
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cur:

        def top(table: str) -> int:
            return cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]

        p = {
            "P": people,
            "E": enrolments,
            "I": institutions,
            "fwd": FORWARD_EVERY,
            "prices": list(PRICES),
            "per": PER_PARTICIPANT,
            "balance": BALANCE,
            "now": now,
            "t_wave": t_wave,
            "t_buy": t_buy,
            "author": author.pk,
            "i0": top("catalog_institution"),
            "c0": top("catalog_course"),
            "r0": top("catalog_courserevision"),
            "u0": top("accounts_user"),
            "f0": top("accounts_familycard"),
            "pt0": top("accounts_participant"),
            "k0": top("enrollment_card"),
            "a0": top("payments_account"),
            "t0": top("payments_transfer"),
            "e0": top("enrollment_enrollment"),
        }
        (p["direct"],) = cur.execute(
            "INSERT INTO catalog_platform (name, contact_name, contact_email, contact_phone, payout_route, "
            "settlement_bank, settlement_account_number, settlement_account_holder, is_active, created_at) "
            "VALUES ('Sisnaker Bench', 'Mitra', 'mitra@bench.invalid', '', 'direct', '', '', '', true, %(t_wave)s) "
            "RETURNING id",
            p,
        ).fetchone()
        (p["via"],) = cur.execute(
            "INSERT INTO catalog_platform (name, contact_name, contact_email, contact_phone, payout_route, "
            "settlement_bank, settlement_account_number, settlement_account_holder, is_active, created_at) "
            "VALUES ('Mitra Salur Bench', 'Mitra', 'salur@bench.invalid', '', 'via_platform', 'ID_BCA', '8800123456', "
            "'PT Mitra Salur Bench', true, %(t_wave)s) RETURNING id",
            p,
        ).fetchone()
        platform_of = "CASE WHEN g %% %(fwd)s = 0 THEN %(via)s ELSE %(direct)s END"
        cur.execute(
            """
            INSERT INTO catalog_institution (id, name, kind, accreditation_number, accreditation_valid_until, address,
                province_code, bank_name, bank_account_number, bank_account_holder, is_suspended, suspended_reason,
                created_at)
            SELECT %(i0)s + g, 'LPK Bench ' || g, 'lpk_swasta', 'LA-LPK/' || g, (%(now)s + interval '1 year')::date,
                   'Jl. Pelatihan No. ' || g, (ARRAY['32', '31', '35', '11'])[1 + g %% 4],
                   (ARRAY['ID_BNI', 'ID_BRI', 'ID_MANDIRI', 'ID_BCA', 'ID_BSI'])[1 + g %% 5],
                   '90' || lpad(g::text, 8, '0'), 'LPK Bench ' || g, false, '', %(t_wave)s
            FROM generate_series(1, %(I)s) g
            """,
            p,
        )
        cur.execute(
            f"INSERT INTO catalog_institution_platforms (institution_id, platform_id) "
            f"SELECT %(i0)s + g, {platform_of} FROM generate_series(1, %(I)s) g",
            p,
        )
        # One published course per institution; the price of institution g is PRICES[g % 4].
        cur.execute(
            f"""
            INSERT INTO catalog_course (id, institution_id, platform_id, published_revision_id, published_at,
                sale_ends_at, is_suspended, suspended_reason, rating_sum, rating_count, created_at)
            SELECT %(c0)s + g, %(i0)s + g, {platform_of}, %(r0)s + g, %(t_wave)s, NULL, false, '', 0, 0, %(t_wave)s
            FROM generate_series(1, %(I)s) g
            """,
            p,
        )
        cur.execute(
            """
            INSERT INTO catalog_courserevision (id, course_id, number, status, title, summary, description,
                learning_outcomes, category, delivery_mode, duration_hours, price, starts_at, ends_at, capacity,
                search_vector, created_by_id, created_at, submitted_at, stage1_at)
            SELECT %(r0)s + g, %(c0)s + g, 1, 'published', 'Pelatihan Bench ' || g,
                   'Pelatihan keterampilan digital untuk pencari kerja.',
                   'Pelatihan mandiri dengan video, latihan dan ujian akhir.',
                   'Peserta mampu menyelesaikan pekerjaan dasar di bidangnya.', 'digital', 'self_paced', 12,
                   (%(prices)s::int[])[1 + g %% 4], NULL, NULL, NULL, NULL, %(author)s,
                   %(t_wave)s - interval '10 days', %(t_wave)s - interval '9 days', %(t_wave)s - interval '8 days'
            FROM generate_series(1, %(I)s) g
            """,
            p,
        )
        (p["wave"],) = cur.execute(
            """
            INSERT INTO enrollment_wave (number, opens_at, closes_at, quota, status, training_balance,
                purchase_deadline_days, reminder_days_before, voucher_valid_days, incentive_monthly_amount,
                incentive_months, survey_incentive_amount, survey_count, draw_seed, draw_digest, draw_quotas,
                drawn_at, drawn_by_id, created_at)
            VALUES ((SELECT COALESCE(MAX(number), 0) + 1 FROM enrollment_wave), %(t_wave)s,
                    %(t_wave)s + interval '10 days', %(P)s, 'drawn', %(balance)s, 30, 7, 14, 600000, 4, 50000, 3,
                    'bench', '', NULL, %(t_wave)s + interval '12 days', NULL, %(t_wave)s - interval '1 day')
            RETURNING id
            """,
            p,
        ).fetchone()
        cur.execute(
            """
            INSERT INTO accounts_user (id, password, last_login, is_superuser, email, name, is_staff, is_active,
                date_joined)
            SELECT %(u0)s + g, '!bench-unusable', NULL, false, 'peserta' || g || '@bench.invalid', '', false, true,
                   %(t_wave)s
            FROM generate_series(1, %(P)s) g
            """,
            p,
        )
        cur.execute(
            "INSERT INTO accounts_user_groups (user_id, group_id) "
            "SELECT %(u0)s + g, (SELECT id FROM auth_group WHERE name = 'participant') FROM generate_series(1, %(P)s) g",
            p,
        )
        # Family cards, participants and cards: encrypted numbers, blind
        # indexes and Luhn check digits are computed here.
        issued = t_wave + timedelta(days=13)
        deadline = issued + timedelta(days=30)
        with cur.copy("COPY accounts_familycard (id, number, number_index, created_at) FROM STDIN") as copy:
            for i in range(people):
                kk = f"{REGIONS[i % 4][:4]}01{i + 1:010d}"
                copy.write_row((p["f0"] + i + 1, crypto.encrypt(kk), crypto.kk_index(kk), t_wave))
        with cur.copy(
            "COPY accounts_participant (id, user_id, full_name, nik, nik_index, family_card_id, birth_place, "
            "birth_date, gender, phone, phone_verified_at, address, province_code, regency_code, education, "
            "employment_status, status, channel, created_at, updated_at) FROM STDIN"
        ) as copy:
            for i in range(people):
                region, gender = REGIONS[i % 4], "MF"[i % 2]
                birth = datetime(1990, 1, 1).date() + timedelta(days=i // (4 * 9999))
                nik = compose_nik(region=region, birth_date=birth, gender=gender, serial=1 + (i // 4) % 9999)
                copy.write_row(
                    (p["pt0"] + i + 1, p["u0"] + i + 1, f"Peserta Bench {i + 1}", crypto.encrypt(nik),
                     crypto.nik_index(nik), p["f0"] + i + 1, "Bandung", birth, gender, f"0813{i + 1:08d}", t_wave,
                     "Jl. Merdeka No. 1", region[:2], region[:4], "sma", "unemployed", "selected", "online",
                     t_wave, t_wave)
                )  # fmt: skip
        cur.execute(
            """
            INSERT INTO enrollment_waveapplication (status, province_code, draw_position, ineligible_reason,
                notified_at, applied_at, updated_at, participant_id, wave_id)
            SELECT 'selected', province_code, id - %(pt0)s, '', NULL, %(t_wave)s + interval '1 day',
                   %(t_wave)s + interval '12 days', id, %(wave)s
            FROM accounts_participant WHERE id > %(pt0)s
            """,
            p,
        )
        # Accounts: the fund (a0 + 1), participant i (a0 + 1 + i), institution g (a0 + 1 + P + g).
        cur.execute(
            """
            INSERT INTO payments_account (id, kind, owner, balance, held, allow_negative, created_at)
            SELECT %(a0)s + 1, 'programme_fund', '', 0, 0, true, %(t_wave)s
            WHERE NOT EXISTS (SELECT 1 FROM payments_account WHERE kind = 'programme_fund')
            """,
            p,
        )
        (p["fund"],) = cur.execute("SELECT id FROM payments_account WHERE kind = 'programme_fund'").fetchone()
        cur.execute(
            f"""
            INSERT INTO payments_account (id, kind, owner, balance, held, allow_negative, created_at)
            SELECT %(a0)s + 1 + g, 'participant_training', {account_owner_sql("participant", "(%(pt0)s + g)")},
                   0, 0, false, %(t_wave)s + interval '13 days'
            FROM generate_series(1, %(P)s) g
            UNION ALL
            SELECT %(a0)s + 1 + %(P)s + g, 'institution_payable', {account_owner_sql("institution", "(%(i0)s + g)")},
                   0, 0, false, %(t_buy)s
            FROM generate_series(1, %(I)s) g
            """,
            p,
        )
        with cur.copy(
            "COPY enrollment_card (id, participant_id, wave_id, number, status, account_id, issued_at, "
            "purchase_deadline, remind_at, closed_reason) FROM STDIN"
        ) as copy:
            for i in range(1, people + 1):
                body = f"6062{i:011d}"
                copy.write_row(
                    (p["k0"] + i, p["pt0"] + i, p["wave"], body + luhn.calc_check_digit(body), "active",
                     p["a0"] + 1 + i, issued, deadline, deadline - timedelta(days=7), "")
                )  # fmt: skip
        cur.execute(
            """
            INSERT INTO payments_transfer (id, key, debit_id, credit_id, amount, status, is_hold, reason, created_at,
                resolved_at)
            SELECT %(t0)s + g, 'card:' || (%(k0)s + g) || ':balance', %(fund)s, %(a0)s + 1 + g, %(balance)s, 'posted',
                   false, 'training balance, wave 1', %(t_wave)s + interval '13 days', NULL
            FROM generate_series(1, %(P)s) g
            """,
            p,
        )
        # Enrolment n (1..E): participant (n - 1) / 4 + 1 buys from institution (n - 1) % I + 1, its k-th
        # course ((n - 1) % 4) 14 days after the one before.
        cur.execute(
            """
            CREATE TEMP TABLE bench_enrolment ON COMMIT DROP AS
            SELECT n, (n - 1) / %(per)s + 1 AS person, (n - 1) %% %(I)s + 1 AS g,
                   %(t_buy)s + ((n - 1) %% %(per)s) * interval '14 days'
                             + (((n - 1) / %(per)s) %% 1440) * interval '1 minute' AS bought
            FROM generate_series(1, %(E)s) n
            """,
            p,
        )
        cur.execute(
            """
            INSERT INTO payments_transfer (id, key, debit_id, credit_id, amount, status, is_hold, reason, created_at,
                resolved_at)
            SELECT %(t0)s + %(P)s + n, 'enrollment:' || (%(e0)s + n) || ':hold', %(a0)s + 1 + person,
                   %(a0)s + 1 + %(P)s + g, (%(prices)s::int[])[1 + g %% 4], 'posted', true,
                   'enrolment ' || (%(e0)s + n), bought, bought + interval '10 days'
            FROM bench_enrolment
            """,
            p,
        )
        cur.execute(
            f"""
            INSERT INTO enrollment_enrollment (id, participant_id, card_id, course_id, revision_id, institution_id,
                platform_id, price, request_key, status, decline_code, hold_id, voucher_code, voucher_expires_at,
                redeemed_at, completed_at, certificate, certificate_name, created_at, updated_at)
            SELECT %(e0)s + n, %(pt0)s + person, %(k0)s + person, %(c0)s + g, %(r0)s + g, %(i0)s + g, {platform_of},
                   (%(prices)s::int[])[1 + g %% 4], 'bench-' || n, 'completed', '', %(t0)s + %(P)s + n,
                   'BNC' || lpad(n::text, 13, '0'), bought + interval '14 days', bought + interval '1 day',
                   bought + interval '10 days',
                   'certificates/' || (%(e0)s + n) || '/sertifikat-' || substr(md5(n::text), 1, 16) || '.pdf',
                   'sertifikat-' || substr(md5(n::text), 1, 16) || '.pdf', bought, bought + interval '10 days'
            FROM bench_enrolment
            """,
            p,
        )
        # Balances as the transfers make them (every hold is posted: nothing held).
        cur.execute(
            """
            UPDATE payments_account a SET
              balance = COALESCE((SELECT SUM(amount) FROM payments_transfer WHERE credit_id = a.id AND status = 'posted'), 0)
                      - COALESCE((SELECT SUM(amount) FROM payments_transfer WHERE debit_id = a.id AND status = 'posted'), 0)
            """
        )
        for table in LOADED:
            if table.endswith(("_platforms", "_groups", "_platform", "_wave", "_waveapplication")):
                continue  # no explicit ids there
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        totals = cur.execute(
            "SELECT COUNT(*), SUM(price), COUNT(DISTINCT institution_id) FROM enrollment_enrollment "
            "WHERE status = 'completed'"
        ).fetchone()
        payable = cur.execute(
            "SELECT SUM(balance) FROM payments_account WHERE kind = 'institution_payable'"
        ).fetchone()[0]
        conn.commit()
        conn.autocommit = True
        if analyze_all:
            cur.execute("VACUUM ANALYZE")
        else:
            cur.execute("VACUUM ANALYZE " + ", ".join(LOADED))
    return {"participants": people, "enrolments": totals[0], "total": totals[1], "institutions": totals[2],
            "payable": payable}  # fmt: skip


def _label(sql: str) -> str:
    """A statement's verb and first table, for the per-statement times."""
    verb = sql.split(None, 1)[0].upper()
    if "pg_advisory" in sql:
        return f"{verb} advisory lock"
    table = re.search(r"\b(?:payouts|auth|accounts|payments|enrollment)_\w+", sql)
    return f"{verb} {table.group(0).removeprefix('payouts_') if table else ''}".strip()


def _build() -> dict:
    """payout_batch_build timed and its statements counted, then submitted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User
    from payouts.services.batches import payout_batch_build, payout_batch_submit

    maker = User.objects.get(email=MAKER)
    before = _rss_mb()
    cutoff = timezone.now()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        batch = payout_batch_build(by=maker, cutoff=cutoff)
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    payout_batch_submit(batch_id=batch.pk, by=maker)
    statements = [(_label(q["sql"]), float(q["time"])) for q in captured.captured_queries]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FILTER (WHERE institution_id IS NOT NULL), COUNT(*) FILTER (WHERE platform_id IS NOT NULL),"
            " (SELECT COUNT(*) FROM payouts_payoutline l JOIN payouts_payout po ON po.id = l.payout_id"
            "  WHERE po.batch_id = %s) FROM payouts_payout WHERE batch_id = %s",
            [batch.pk, batch.pk],
        )
        direct, forwarded, lines = cursor.fetchone()
    connection.close()
    return {
        "batch": batch.pk,
        "seconds": seconds,
        "statements": statements,
        "payouts": batch.payout_count,
        "enrolments": batch.enrollment_count,
        "total": batch.total_amount,
        "direct": direct,
        "forwarded": forwarded,
        "lines": lines,
        "rss_before": before,
        "rss_peak": peak,
    }


def _approve(batch_id: int) -> tuple[float, float]:
    from django.db import connection

    from accounts.models import User
    from payouts.services.batches import payout_batch_approve

    checker = User.objects.get(email=CHECKER)
    checker.has_perm("payouts.approve_payoutbatch")  # warm the permission cache: not timed
    started = time.time()
    payout_batch_approve(batch_id=batch_id, by=checker)  # queues disburse_batch on commit
    ended = time.time()
    connection.close()
    return started, ended


def _gateway_client(env: dict[str, str], base_url: str, references: list[str], amount: int, barrier, results):
    """One client of the gateway-alone reference: create calls back to back."""
    _django_init(env)
    from payments.gateway import GatewayError, GatewayRefused, PayoutRequest
    from payments.gateway.xendit import XenditPayoutGateway

    gateway = XenditPayoutGateway(base_url=base_url)
    errors = 0
    barrier.wait()
    started = time.time()
    for reference in references:
        request = PayoutRequest(
            reference_id=reference,
            channel_code="ID_BNI",
            account_number="9000000001",
            account_holder_name="LPK Bench",
            amount=amount,
            description=f"Prakerja bench {reference}",
        )
        try:
            gateway.create_payout(request)
        except (GatewayError, GatewayRefused):
            errors += 1
    results.put((started, time.time(), errors))


# Processes of a run -----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(url: str, body: dict | None = None, timeout: float = 10):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # loopback URLs we made
        return json.loads(response.read() or b"null") if "json" in response.headers.get("Content-Type", "") else None


class Processes:
    """Processes this benchmark started, each in its own process group, so
    that stopping one stops its children too; all stopped on the way out."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.running: dict[int, tuple[str, subprocess.Popen]] = {}

    def start(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
        with open(self.logs / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
            )
        self.running[proc.pid] = (name, proc)
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 20) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.running.pop(proc.pid, None)

    def stop_all(self) -> None:
        for _name, proc in reversed(list(self.running.values())):
            self.stop(proc)

    def tail(self, name: str, chars: int = 1500) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def wait_until(check, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {proc.returncode}")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not ready after {timeout:.0f} s")


def start_standin(procs: Processes, env: dict[str, str], name: str, port: int, webhook: str = ""):
    """The stand-in gateway as a process of its own; ready_standin waits for it."""
    cmd = [sys.executable, "manage.py", "payout_standin", "--port", str(port)]
    return procs.start(name, cmd + (["--webhook-url", webhook] if webhook else []), env)


def ready_standin(proc: subprocess.Popen, url: str, latency_ms: int) -> None:
    wait_until(lambda: http(f"{url}/_standin/payouts") == [], 60, "the stand-in gateway", proc)
    if latency_ms:
        http(f"{url}/_standin/mode", {"mode": "slow", "delay": latency_ms / 1000})


def ping_workers(names: list[str]) -> bool:
    from celery import Celery

    app = Celery(broker=BROKER_URL)
    try:
        replies = app.control.ping(destination=names, timeout=1.0)
    finally:
        app.close()
    return {name for reply in replies for name in reply} >= set(names)


def _backend_state(state: str, kind: str | None, event: str | None, query: str) -> str:
    """What a session is doing; a lock wait is labelled by the statement waiting."""
    if state != "active":
        return state or "?"
    if kind is None:
        return "running"
    if kind != "Lock":
        return f"waiting {kind}/{event}"
    table = re.search(r"\b(?:payouts|payments|enrollment|accounts|catalog)_\w+", query)
    verb = query.split(None, 1)[0].upper() if query.strip() else "?"
    lock = " FOR UPDATE" if "FOR UPDATE" in query.upper() else ""
    return f"lock wait in {verb} {table.group(0) if table else ''}{lock}"


def cpu_ticks() -> tuple[int, int]:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]  # all, idle + iowait


def redis_cleanup(queue: str) -> None:
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    try:
        keys = list(client.scan_iter(match=f"*{queue}*"))
        if keys:
            client.delete(*keys)
        for binding in client.scan_iter(match="_kombu.binding.*"):
            if client.type(binding) == b"set":
                stale = [m for m in client.smembers(binding) if queue.encode() in m]
                if stale:
                    client.srem(binding, *stale)
    finally:
        client.close()


def disburse(args, batch: dict, latency_ms: int, workers: int, procs: Processes, probe_stale_ledger: bool) -> dict:
    """One disbursement run on a fresh copy of the submitted batch's database."""
    import psycopg
    import redis

    run_db = f"{DB}_l{latency_ms}_w{workers}"
    admin(f'DROP DATABASE IF EXISTS "{run_db}" WITH (FORCE)', f'CREATE DATABASE "{run_db}" TEMPLATE "{DB}"')
    queue = f"bench-payouts-{os.getpid()}-l{latency_ms}-w{workers}"
    web_port = free_port()
    env = django_env(
        run_db,
        CELERY_BROKER_URL=BROKER_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        CELERY_TASK_DEFAULT_QUEUE=queue,
    )
    standin_port = free_port()
    standin_url = env["XENDIT_BASE_URL"] = f"http://127.0.0.1:{standin_port}"
    standin = start_standin(
        procs,
        env,
        f"standin-l{latency_ms}-w{workers}",
        standin_port,
        webhook=f"http://127.0.0.1:{web_port}/api/pembayaran/xendit/webhook/",
    )
    web = procs.start(
        f"gunicorn-l{latency_ms}-w{workers}",
        [sys.executable, "-m", "gunicorn", "prakerja.wsgi:application", "--bind", f"127.0.0.1:{web_port}",
         "--workers", "2", "--threads", "4", "--max-requests", "0", "--no-control-socket", "--log-level", "warning"],
        env,
    )  # fmt: skip
    names = [f"w{i}.{queue}@bench" for i in range(workers)]
    worker_cmd = [sys.executable, "-m", "celery", "-A", "prakerja", "worker", "--pool=solo", "--concurrency=1",
                  "-Q", queues_for(queue), "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"]  # fmt: skip
    worker_procs = [
        procs.start(f"worker-l{latency_ms}-w{workers}-{i}", [*worker_cmd, "-n", name], env)
        for i, name in enumerate(names)
    ]
    result = {"latency": latency_ms, "workers": workers, "problems": []}
    try:
        ready_standin(standin, standin_url, latency_ms)
        wait_until(lambda: http(f"http://127.0.0.1:{web_port}/healthz") is None, 60, "gunicorn", web)
        wait_until(lambda: ping_workers(names), 90, "the celery workers")
        cpu_before = {p.pid: _cpu_seconds(p.pid) for p in worker_procs}
        t0, approved = in_django(env, _approve, batch["batch"])
        ticks = cpu_ticks()
        answered, states = None, Counter()
        deadline = time.time() + args.timeout
        with psycopg.connect(db_url(run_db), autocommit=True) as conn:
            while True:
                row = conn.execute(
                    """
                    SELECT b.status, EXTRACT(EPOCH FROM b.finished_at), EXTRACT(EPOCH FROM b.reconciled_at),
                           b.reconciliation_ok, EXTRACT(EPOCH FROM MIN(p.sent_at)),
                           COUNT(*) FILTER (WHERE p.status = 'pending' OR p.gateway_id = ''),
                           COUNT(*) FILTER (WHERE p.status IN ('succeeded', 'failed'))
                    FROM payouts_payoutbatch b JOIN payouts_payout p ON p.batch_id = b.id
                    WHERE b.id = %s GROUP BY b.id
                    """,
                    [batch["batch"]],
                ).fetchone()
                now = time.time()
                status, finished, reconciled, clean, first_sent, unanswered, final = row
                if finished is None:
                    states.update(
                        _backend_state(*r)
                        for r in conn.execute(
                            "SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity WHERE datname = %s "
                            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                            [run_db],
                        )
                    )
                if answered is None and unanswered == 0:
                    answered = now
                if finished is not None and "busy" not in result:
                    total, idle = cpu_ticks()
                    result["busy"] = 1 - (idle - ticks[1]) / max(1, total - ticks[0])
                    result["worker_cpu"] = sum(_cpu_seconds(p.pid) - cpu_before[p.pid] for p in worker_procs)
                if reconciled is not None:
                    break
                if now > deadline:
                    result["problems"].append(
                        f"timed out after {args.timeout} s: batch {status}, {final} of {batch['payouts']} payouts "
                        f"final, {unanswered} without the gateway's answer"
                    )
                    break
                if any(p.poll() is not None for p in worker_procs + [web, standin]):
                    result["problems"].append("a worker, gunicorn or the stand-in exited during the run")
                    break
                time.sleep(POLL)
        result.update(
            status=status,
            seconds=(float(finished) - t0) if finished is not None else None,
            answered=(answered - t0) if answered is not None else None,
            reconciled=(float(reconciled) - t0) if reconciled is not None else None,
            first=(float(first_sent) - t0) if first_sent is not None else None,
            approve_call=approved - t0,
            clean=clean,
            states=", ".join(f"{what} {n / max(1, states.total()):.0%}" for what, n in states.most_common(6)),
            worker_rss=max(_rss_mb(p.pid, "VmHWM") for p in worker_procs),
        )
        # Every task done (nothing left in the queue) before the workers stop.
        client = redis.Redis.from_url(BROKER_URL)
        with contextlib.suppress(RuntimeError):
            wait_until(lambda: client.llen(queue) == 0, 30, "the queue drained")
        client.close()
        at_gateway = http(f"{standin_url}/_standin/payouts", timeout=30)
    finally:
        for proc in worker_procs:
            procs.stop(proc)
        procs.stop(web)
        procs.stop(standin)
        redis_cleanup(queue)

    if status != "settled":
        result["problems"].append(f"batch {status}, not settled")
    if clean is not True:
        result["problems"].append(f"reconciliation {'found problems' if clean is False else 'did not finish'}")
    with psycopg.connect(db_url(run_db), autocommit=True) as conn:
        ours = {
            f"prakerja-{pk}": (amount, gateway_id, pstatus)
            for pk, amount, gateway_id, pstatus in conn.execute(
                "SELECT id, amount, gateway_id, status FROM payouts_payout WHERE batch_id = %s", [batch["batch"]]
            )
        }
        left = conn.execute(
            "SELECT (SELECT COUNT(*) FROM enrollment_enrollment WHERE status = 'completed'),"
            " (SELECT COALESCE(SUM(balance), 0) FROM payments_account WHERE kind = 'institution_payable'),"
            " (SELECT COALESCE(SUM(balance), 0) FROM payments_account WHERE kind = 'payout_clearing')"
        ).fetchone()
    counted = Counter(p["reference_id"] for p in at_gateway)
    if sorted(counted) != sorted(ours) or set(counted.values()) != {1}:
        result["problems"].append(
            f"the stand-in holds {len(at_gateway)} payouts for {len(ours)} Payouts "
            f"({sum(1 for r in counted if r not in ours)} unknown, {sum(1 for r in ours if r not in counted)} missing)"
        )
    twice = sum(1 for p in at_gateway if p["create_requests"] != 1)
    wrong = sum(
        1 for p in at_gateway if p["reference_id"] in ours and ours[p["reference_id"]][:2] != (p["amount"], p["id"])
    )
    if twice or wrong:
        result["problems"].append(f"{twice} payouts asked for more than once, {wrong} with another amount or id")
    if any(left):
        result["problems"].append(
            f"left over: {left[0]} enrolments still completed, Rp {left[1]:,} in payables, Rp {left[2]:,} in clearing"
        )
    if probe_stale_ledger:
        started = time.perf_counter()
        ok, _output = check_ledger(django_env(run_db), timeout=STALE_PROBE_SECONDS)
        result["stale_check"] = (ok, time.perf_counter() - started)
    result["analyze"] = analyze(run_db)
    started = time.perf_counter()
    ok, output = check_ledger(django_env(run_db))
    result["ledger_seconds"] = time.perf_counter() - started
    result["ledger_ok"] = ok
    if not ok:
        result["problems"].append("check_ledger: " + output)
    if result["problems"]:
        for proc_name in (f"worker-l{latency_ms}-w{workers}-0", f"gunicorn-l{latency_ms}-w{workers}"):
            if tail := procs.tail(proc_name):
                result["problems"].append(f"{proc_name} log tail:\n{tail}")
    admin(f'DROP DATABASE IF EXISTS "{run_db}" WITH (FORCE)')
    return result


def gateway_alone(latency_ms: int, count: int, clients: list[int], procs: Processes) -> dict[int, tuple]:
    """Create calls straight to a fresh stand-in (no webhooks) from c client
    processes, for each c: (payouts/s, seconds, errors)."""
    env = django_env(DB)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    standin = start_standin(procs, env, f"standin-alone-l{latency_ms}", port)
    ready_standin(standin, url, latency_ms)
    rates = {}
    ctx = mp.get_context("spawn")
    try:
        for n in clients:
            references = [f"bench-alone-{n}-{i}" for i in range(count)]
            barrier, results = ctx.Barrier(n), ctx.Queue()
            clients_procs = [
                ctx.Process(target=_gateway_client, args=(env, url, references[i::n], 1_000_000, barrier, results))
                for i in range(n)
            ]
            for proc in clients_procs:
                proc.start()
            reports = [results.get(timeout=600) for _proc in clients_procs]
            for proc in clients_procs:
                proc.join()
            wall = max(r[1] for r in reports) - min(r[0] for r in reports)
            rates[n] = (count / wall, wall, sum(r[2] for r in reports))
    finally:
        procs.stop(standin)
    return rates


# ------------------------------------------------------------------------------


def main() -> None:
    import psycopg

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enrolments", type=int, default=100_000)
    parser.add_argument("--institutions", type=int, default=1_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker processes per run")
    parser.add_argument(
        "--latency-ms", type=int, nargs="+", default=[50, 0], help="the stand-in's answer delay, per set of runs"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds a run may take before it is abandoned")
    parser.add_argument(
        "--analyze-empty-payout-tables",
        action="store_true",
        help="VACUUM ANALYZE every table after the setup, the empty payout tables too (the build's item insert is "
        "then planned as if payouts_payoutitem stayed empty: see the report of issue 6)",
    )
    args = parser.parse_args()
    if args.institutions < PER_PARTICIPANT:
        parser.error(f"--institutions must be at least {PER_PARTICIPANT} (each participant buys from that many)")
    begun = time.perf_counter()
    base_env = django_env(DB)
    runs = [f"{DB}_l{latency}_w{n}" for latency in args.latency_ms for n in args.workers]
    logs = Path(tempfile.mkdtemp(prefix="bench-payouts-"))
    procs = Processes(logs)
    failures = []
    try:
        admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in [DB, *runs]), f'CREATE DATABASE "{DB}"')
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=base_env, check=True)

        started = time.perf_counter()
        state = in_django(base_env, _setup_state, args.enrolments, args.institutions, args.analyze_empty_payout_tables)
        print(
            f"setup: {state['enrolments']:,} completed enrolments (Rp {state['total']:,}) of {state['participants']:,} "
            f"participants at {state['institutions']:,} institutions in {time.perf_counter() - started:.0f} s "
            f"(set-based SQL); institution payables Rp {state['payable']:,}; analysed: "
            + ("every table" if args.analyze_empty_payout_tables else "the loaded tables (payout tables never)")
        )
        ok, output = check_ledger(base_env)
        print(f"check_ledger after setup: {'ok' if ok else 'BREACH'}")
        if not ok or state["payable"] != state["total"]:
            print(output)
            sys.exit(1)

        build = in_django(base_env, _build)
        kinds = Counter(label.split()[0] for label, _t in build["statements"])
        print(
            f"build: batch {build['batch']}: {build['payouts']:,} payouts ({build['direct']:,} to institutions, "
            f"{build['forwarded']} to forwarding platforms; {build['lines']:,} lines), "
            f"{build['enrolments']:,} enrolments, Rp {build['total']:,} in {build['seconds']:.2f} s"
        )
        print(
            f"build: {len(build['statements'])} SQL statements ("
            + ", ".join(f"{n} {k}" for k, n in kinds.most_common())
            + "): "
            + ", ".join(f"{label} {t:.2f}" for label, t in build["statements"])
        )
        print(
            f"build: peak RSS of the building process {build['rss_peak']:.0f} MB "
            f"({build['rss_before']:.0f} MB before the build)"
        )
        if (build["enrolments"], build["total"]) != (state["enrolments"], state["total"]):
            failures.append("the batch does not hold every completed enrolment")
        ok, output = check_ledger(base_env)
        print(f"check_ledger after build and submission: {'ok' if ok else 'BREACH'}")
        if not ok:
            print(output)
            sys.exit(1)
        print(f"ANALYZE after the build, as autovacuum would after its inserts: {analyze(DB):.1f} s")
        with psycopg.connect(db_url(DB), autocommit=True) as conn:
            conn.execute("CHECKPOINT")

        results, alone = [], {}
        for latency in args.latency_ms:
            for n in args.workers:
                try:
                    r = disburse(args, build, latency, n, procs, probe_stale_ledger=not results)
                except Exception as exc:  # record it and go on with the other runs
                    r = {"latency": latency, "workers": n, "problems": [f"{exc.__class__.__name__}: {exc}"]}
                results.append(r)
                if r.get("seconds"):
                    print(
                        f"disburse, gateway latency {latency} ms, {n} worker{'s' if n > 1 else ' '}: "
                        f"settled {r['seconds']:.1f} s after approval ({build['payouts'] / r['seconds']:.1f} payouts/s); "
                        f"first payout sent at {r['first']:.2f} s, all answered by the gateway at "
                        f"{r['answered']:.1f} s, reconciled at {r['reconciled']:.1f} s; CPU busy {r['busy']:.0%} "
                        f"of {os.cpu_count()} cores, workers' CPU {r['worker_cpu']:.1f} s; "
                        f"worker peak RSS {r['worker_rss']:.0f} MB"
                    )
                    print(f"  its database sessions, sampled every {POLL * 1000:.0f} ms until settled: {r['states']}")
                    if "stale_check" in r:
                        stale_ok, stale_seconds = r["stale_check"]
                        print(
                            "  check_ledger straight after, statistics as before the batch: "
                            + (
                                f"not finished after {STALE_PROBE_SECONDS} s, stopped"
                                if stale_ok is None
                                else f"{'ok' if stale_ok else 'BREACH'} in {stale_seconds:.1f} s"
                            )
                        )
                    print(
                        f"  check_ledger after ANALYZE ({r['analyze']:.1f} s): "
                        f"{'ok' if r['ledger_ok'] else 'BREACH'} in {r['ledger_seconds']:.1f} s with start-up"
                    )
                else:
                    print(f"disburse, gateway latency {latency} ms, {n} workers: FAILED")
                for problem in r["problems"]:
                    print(f"  problem: {problem}")
                    failures.append(f"latency {latency} ms, {n} workers: {problem.splitlines()[0]}")
            alone[latency] = gateway_alone(latency, build["payouts"], [max(args.workers)], procs)
            print(
                f"gateway alone, latency {latency} ms, {build['payouts']:,} create calls: "
                + "; ".join(
                    f"{c} client{'s' if c > 1 else ''} {rate:.1f}/s" + (f" ({errors} errors)" if errors else "")
                    for c, (rate, _wall, errors) in alone[latency].items()
                )
            )
    finally:
        procs.stop_all()
        with contextlib.suppress(Exception):
            admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in runs))

    print()
    print(
        f"build: {build['enrolments']:,} enrolments, {state['institutions']:,} institutions -> {build['payouts']:,} "
        f"payouts in {build['seconds']:.2f} s, {len(build['statements'])} SQL statements, "
        f"peak RSS {build['rss_peak']:.0f} MB"
    )
    for latency in args.latency_ms:
        mine = [r for r in results if r["latency"] == latency]
        one = next((r["seconds"] for r in mine if r["workers"] == min(args.workers) and r.get("seconds")), None)
        parts = []
        for r in mine:
            if not r.get("seconds"):
                parts.append(f"{r['workers']} workers FAILED")
                continue
            ratio = f", x{one / r['seconds']:.2f}" if one and r["workers"] != min(args.workers) else ""
            label = "worker " if r["workers"] == 1 else "workers"
            parts.append(
                f"{r['workers']} {label} {r['seconds']:.1f} s ({build['payouts'] / r['seconds']:.1f} payouts/s{ratio})"
            )
        print(f"disburse (gateway latency {latency} ms): " + " ; ".join(parts))
        print(
            f"gateway alone (latency {latency} ms): "
            + " ; ".join(
                f"{c} client{'s' if c > 1 else ''} {rate:.1f} payouts/s" for c, (rate, _w, _e) in alone[latency].items()
            )
        )
    worker_rss = max((r["worker_rss"] for r in results if r.get("worker_rss")), default=0)
    print(
        f"peak RSS: building process {build['rss_peak']:.0f} MB, Celery worker (max over all runs) {worker_rss:.0f} MB"
    )
    if all(r.get("ledger_ok") for r in results):
        print("check_ledger: ok after setup, after the build and after every run")
    else:
        print("check_ledger: BREACH after some run (see above)")
    if not failures:
        print("every batch settled and reconciled clean; the stand-in made exactly one payout per Payout")
    print(f"total time {time.perf_counter() - begun:.0f} s; logs in {logs}")
    if failures:
        print("FAILURES:")
        for failure in failures:
            print(f"  {failure}")
        sys.exit(1)


if __name__ == "__main__":
    main()

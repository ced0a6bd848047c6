"""Benchmark: a new wage extract re-screens every active card (issue 15).

Builds its own PostgreSQL database (dropped and re-created) holding
--cards participants, each with an active card of a drawn wave (encrypted NIK
and KK with their blind indexes, as the services make them; the card's
Rp 1,000,000 balance is written on its account directly, since this bench
moves no money). Then, for each extract size (default 250,000 and 1,000,000
rows), in a fresh process so the peaks compare:

1. writes a wage extract CSV: one row per card holder's NIK (--over of them,
   a share, above the wave's Rp 3,500,000 limit) and the rest NIKs of people
   who are not participants;
2. upload check (one streamed pass), import (hashing every NIK, stored in
   chunks), then the re-screen of every active card against the new list,
   whose report is the cases it opens.

Prints rows per second of the check and the import, the time from the end
of the import to the finished report, the cases and the money held, and
the process's peak RSS: flat memory means about the same peak for 250,000
and 1,000,000 rows.

    .venv/bin/python bench/rescreen.py                      # 200,000 cards; 250k and 1M rows
    .venv/bin/python bench/rescreen.py --cards 20000 50000 100000
"""

import argparse
import datetime
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = "prakerja_bench_rescreen"
REGIONS = ("327301", "317101", "350101", "110101")
LIMIT = 3_500_000


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PRAKERJA_ENV": "development",
        "DJANGO_DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "prakerja.settings",
        "DATABASE_URL": f"{ADMIN_URL.rsplit('/', 1)[0]}/{BENCH_DB}",
        "CELERY_BROKER_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "LOG_LEVEL": "WARNING",
        "PRIVATE_MEDIA_ROOT": tempfile.mkdtemp(prefix="prakerja-bench-rescreen-"),
    }


def participant_nik(i: int, regions=REGIONS) -> str:
    from accounts.nik import compose_nik

    n = len(regions)
    region, gender = regions[i % n], "MF"[i % 2]
    birth = datetime.date(1990, 1, 1) + datetime.timedelta(days=i // (n * 9999))
    return compose_nik(region=region, birth_date=birth, gender=gender, serial=1 + (i // n) % 9999)


def outsider_nik(n: int) -> str:
    """Valid NIKs no participant has: born 1960-1979, in other regencies."""
    region = f"32{1 + n % 18:02d}{1 + (n // 18) % 30:02d}"
    birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=(n // 540) % 7000)
    day = birth.day + (40 if n % 2 else 0)
    return f"{region}{day:02d}{birth.month:02d}{birth.year % 100:02d}{1 + (n // 3_780_000) % 9999:04d}"


def copy_people(cur, count: int, t, *, status: str, regions=REGIONS) -> None:
    """``count`` participants (ids 1..count) in ``status``, with their users
    and family cards, in the shapes the services make (encrypted NIK and KK
    with their blind indexes), by COPY; the region of participant i is
    ``regions[i % len(regions)]``."""
    from accounts import crypto

    n = len(regions)
    cur.execute(
        "INSERT INTO accounts_user (id, password, last_login, is_superuser, email, name, is_staff, is_active, "
        "date_joined) SELECT 1000 + g, '!', NULL, false, 'peserta' || g || '@bench.invalid', '', false, true, "
        "%(t)s FROM generate_series(1, %(P)s) g",
        {"t": t, "P": count},
    )
    with cur.copy("COPY accounts_familycard (id, number, number_index, created_at) FROM STDIN") as copy:
        for i in range(count):
            kk = f"{regions[i % n][:4]}01{i + 1:010d}"
            copy.write_row((i + 1, crypto.encrypt(kk), crypto.kk_index(kk), t))
    with cur.copy(
        "COPY accounts_participant (id, user_id, full_name, nik, nik_index, family_card_id, birth_place, "
        "birth_date, gender, phone, phone_verified_at, address, province_code, regency_code, education, "
        "employment_status, status, channel, created_at, updated_at) FROM STDIN"
    ) as copy:
        for i in range(count):
            nik = participant_nik(i, regions)
            copy.write_row(
                (i + 1, 1001 + i, f"Peserta Bench {i + 1}", crypto.encrypt(nik), crypto.nik_index(nik), i + 1,
                 "Bandung", datetime.date(1990, 1, 1), "MF"[i % 2], f"0813{i + 1:08d}", t, "Jl. Merdeka No. 1",
                 regions[i % n][:2], regions[i % n][:4], "sma", "unemployed", status, "online", t, t)
            )  # fmt: skip


def seed(cards: int) -> None:
    """Participants with active cards, set-based (COPY and generate_series)."""
    import django

    django.setup()
    import psycopg
    from django.contrib.auth.models import Group
    from stdnum import luhn

    from accounts import roles
    from accounts.models import User
    from payments.services import account_owner_sql

    reviewer = User.objects.create_user(email="bench-officer@example.com", password=None, is_staff=True)
    reviewer.groups.add(Group.objects.get(name=roles.PMO_KYC_REVIEWER))
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    t = now - datetime.timedelta(days=20)
    p = {"P": cards, "t": t}
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cur:
        (p["wave"],) = cur.execute(
            """
            INSERT INTO enrollment_wave (number, opens_at, closes_at, quota, status, training_balance,
                purchase_deadline_days, reminder_days_before, voucher_valid_days, incentive_monthly_amount,
                incentive_months, survey_incentive_amount, survey_count, attendance_rule, draw_commitment,
                sealed_seed, draw_seed, draw_digest, draw_quotas, drawn_at, drawn_by_id, created_at)
            VALUES (1, %(t)s, %(t)s + interval '5 days', %(P)s, 'drawn', 1000000, 30, 7, 14, 600000, 4, 50000, 3,
                    'all', '', '', 'bench', '', NULL, %(t)s + interval '6 days', NULL, %(t)s)
            RETURNING id
            """,
            p,
        ).fetchone()
        copy_people(cur, cards, t, status="selected")
        cur.execute(
            f"INSERT INTO payments_account (id, kind, owner, balance, held, allow_negative, created_at) "
            f"SELECT g, 'participant_training', {account_owner_sql('participant', 'g')}, 1000000, 0, false, %(t)s "
            f"FROM generate_series(1, %(P)s) g",
            p,
        )
        with cur.copy(
            "COPY enrollment_card (id, participant_id, wave_id, number, status, account_id, issued_at, "
            "purchase_deadline, remind_at, closed_reason) FROM STDIN"
        ) as copy:
            for i in range(cards):
                body = f"6062{i + 1:011d}"
                copy.write_row(
                    (i + 1, i + 1, p["wave"], body + luhn.calc_check_digit(body), "active", i + 1, t,
                     t + datetime.timedelta(days=30), t + datetime.timedelta(days=23), "")
                )  # fmt: skip
        for table in ("accounts_user", "accounts_familycard", "accounts_participant", "payments_account"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        conn.commit()
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("ANALYZE")


def write_extract(path: Path, rows: int, cards: int, over_every: int, offset: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("nik,monthly_wage,employer,month\n")
        holders = min(rows, cards)
        for i in range(holders):
            wage = 5_000_000 + i % 7 * 250_000 if i % over_every == 0 else 2_000_000 + i % 5 * 100_000
            out.write(f"{participant_nik(i)},{wage},PT Bench {i % 997},2026-10\n")
        for n in range(offset, offset + rows - holders):
            out.write(f"{outsider_nik(n)},{2_500_000 + n % 11 * 300_000},CV Luar {n % 991},2026-10\n")


def run_one(rows: int, cards: int, over_every: int, offset: int) -> None:
    import django

    django.setup()
    from accounts import csvio
    from accounts.models import User
    from integrity.models import Case, ScreeningList, ScreeningRun
    from integrity.services.lists import COLUMNS, screening_list_import, screening_list_upload
    from integrity.services.rescreen import rescreen

    officer = User.objects.get(email="bench-officer@example.com")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extract.csv"
        write_extract(path, rows, cards, over_every, offset)
        size_mb = path.stat().st_size / 1e6
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        with path.open("rb") as f:
            csvio.check(f, COLUMNS["wage"])
        t1 = time.perf_counter()
        # The upload queues the import for a worker; this process runs it below, as the worker would.
        with path.open("rb") as f, mock.patch("integrity.tasks.import_screening_list.delay"):
            made = screening_list_upload(kind="wage", source=f"bench {rows}", csv_file=f, imported_by=officer)
        t2 = time.perf_counter()
        assert screening_list_import(list_id=made.pk)
        t3 = time.perf_counter()
        run = rescreen(list_kind="wage", list_id=made.pk)
        t4 = time.perf_counter()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    made = ScreeningList.objects.get(pk=made.pk)
    run = ScreeningRun.objects.get(pk=run.pk)
    expected = len(range(0, min(rows, cards), over_every))
    assert made.row_count == rows, (made.row_count, made.skipped_count, made.error)
    assert run.found_count == expected == Case.objects.filter(screening_run=run).count(), (run.found_count, expected)
    assert run.amount_held == expected * 1_000_000
    print(
        f"{rows:>9,} rows {size_mb:6.1f} MB | check {rows / (t1 - t0):>8,.0f} rows/s | "
        f"import {rows / (t3 - t2):>7,.0f} rows/s ({t3 - t2:5.1f} s) | "
        f"re-screen of {run.cards_screened:,} cards to the report {t4 - t3:5.1f} s: "
        f"{run.found_count:,} cases, Rp {run.amount_held:,} held | "
        f"peak RSS {rss_peak / 1024:6.1f} MB (+{(rss_peak - rss_before) / 1024:5.1f} MB during the run)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[250_000, 1_000_000])
    parser.add_argument("--cards", type=int, default=200_000)
    parser.add_argument("--over-every", type=int, default=20, help="one card holder in N earns above the limit")
    args = parser.parse_args()
    env = _env()
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--seed", str(args.cards)], cwd=ROOT, env=env, check=True)
    print(f"Re-screen on PostgreSQL ({BENCH_DB}): {args.cards:,} active cards made in {time.perf_counter() - t0:.0f} s")
    print(f"each extract: every card holder's NIK (1 in {args.over_every} above Rp {LIMIT:,}), the rest outsiders")
    offset = 0
    for rows in args.sizes:
        cmd = [sys.executable, __file__, "--one", str(rows), str(args.cards), str(args.over_every), str(offset)]
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
        offset += rows
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:2] == ["--seed"]:
        seed(int(sys.argv[2]))
    elif sys.argv[1:2] == ["--one"]:
        run_one(*(int(a) for a in sys.argv[2:6]))
    else:
        main()

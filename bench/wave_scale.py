"""Benchmark: a wave of 800,000 applicants and 400,000 cards (issue 16).

Builds its own PostgreSQL database (dropped and re-created) holding
--applicants participants who applied to one open wave whose window has
closed (encrypted NIK and KK with their blind indexes, as the services make
them; 5 province quotas adding up to --quota). Then:

1. the draw, in this process, as the admin page's task runs it
   (``wave_draw``: exclusion and wage/education screening, the lottery,
   every application and participant moved, their events), with the tasks
   it queues on commit held back;
2. card issuing with --workers real Celery workers (bulk queue, Redis
   broker, solo pool) from ``issue_wave_cards``: chunks of
   ``CARD_ISSUE_CHUNK`` cards, each one transaction writing the accounts,
   cards, events and one balance transfer per card;
3. ``manage.py check_ledger`` over the result.

Prints each step's time and rate, the draw's peak memory, and the ledger
check's lines.

    .venv/bin/python bench/wave_scale.py                          # 800,000 applicants, 400,000 cards
    .venv/bin/python bench/wave_scale.py --applicants 80000 --quota 40000
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
BENCH_DB = "prakerja_bench_wave"
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
QUEUE = "bench-wave"
REGIONS = ("327301", "317101", "350101", "110101", "517101")


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PRAKERJA_ENV": "development",
        "DJANGO_DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "prakerja.settings",
        "DATABASE_URL": f"{ADMIN_URL.rsplit('/', 1)[0]}/{BENCH_DB}",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "LOG_LEVEL": "WARNING",
        "PRIVATE_MEDIA_ROOT": tempfile.mkdtemp(prefix="prakerja-bench-wave-"),
    }


def seed(applicants: int, quota: int) -> None:
    """Participants who applied, set-based (COPY and generate_series)."""
    import django

    django.setup()
    import psycopg

    from accounts import crypto
    from bench.rescreen import copy_people
    from enrollment.models import Wave, WaveProvinceQuota
    from enrollment.services.waves import seed_commitment

    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    t = now - datetime.timedelta(days=8)
    lottery_seed = "bench-wave-seed"
    wave = Wave.objects.create(
        number=1,
        opens_at=t,
        closes_at=now - datetime.timedelta(minutes=1),
        quota=quota,
        status=Wave.Status.OPEN,
        sealed_seed=crypto.encrypt(lottery_seed),
        draw_commitment=seed_commitment(lottery_seed),
    )
    share = quota // len(REGIONS)
    for n, region in enumerate(REGIONS):
        WaveProvinceQuota.objects.create(
            wave=wave, province_code=region[:2], quota=quota - share * (len(REGIONS) - 1) if n == 0 else share
        )
    p = {"P": applicants, "t": t}
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cur:
        copy_people(cur, applicants, t, status="applied", regions=REGIONS)
        cur.execute(
            "INSERT INTO enrollment_waveapplication (wave_id, participant_id, status, province_code, ineligible_reason, "
            "applied_at, updated_at) SELECT %(w)s, id, 'applied', province_code, '', %(t)s, %(t)s "
            "FROM accounts_participant ORDER BY id",
            {**p, "w": wave.pk},
        )
        for table in ("accounts_user", "accounts_familycard", "accounts_participant"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        conn.commit()
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def draw() -> None:
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.db.models import Count

    from accounts import roles
    from accounts.models import User
    from enrollment import tasks
    from enrollment.models import Wave, WaveApplication
    from enrollment.services.waves import wave_draw

    officer = User.objects.create_user(email="bench-checker@example.com", password=None, is_staff=True)
    officer.groups.add(Group.objects.get(name=roles.PMO_FINANCE_CHECKER))
    wave = Wave.objects.get(number=1)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with mock.patch.object(tasks.issue_wave_cards, "delay"), mock.patch.object(tasks.notify_wave_result, "delay"):
        wave_draw(wave=wave, by=officer)
    elapsed = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    counts = dict(WaveApplication.objects.filter(wave=wave).values_list("status").annotate(n=Count("pk")))
    print(
        f"draw: {sum(counts.values()):,} applications in {elapsed:.1f} s ({sum(counts.values()) / elapsed:,.0f}/s): "
        f"{counts} | peak RSS {rss / 1024:.0f} MB (+{(rss - rss_before) / 1024:.0f} MB during the draw)",
        flush=True,
    )


def queue_cards() -> None:
    import django

    django.setup()
    from enrollment.models import Wave
    from enrollment.tasks import issue_wave_cards

    issue_wave_cards.delay(Wave.objects.get(number=1).pk)


def count(sql: str) -> int:
    import psycopg

    with psycopg.connect(_env()["DATABASE_URL"], autocommit=True) as conn:
        return conn.execute(sql).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applicants", type=int, default=800_000)
    parser.add_argument("--quota", type=int, default=400_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=2000, help="CARD_ISSUE_CHUNK")
    args = parser.parse_args()
    env = {**_env(), "CARD_ISSUE_CHUNK": str(args.chunk)}
    import psycopg
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--seed", str(args.applicants), str(args.quota)], cwd=ROOT, env=env,
                   check=True)  # fmt: skip
    print(f"Wave on PostgreSQL ({BENCH_DB}): {args.applicants:,} applicants made in {time.perf_counter() - t0:.0f} s")
    subprocess.run([sys.executable, __file__, "--draw"], cwd=ROOT, env=env, check=True)
    selected = count("SELECT COUNT(*) FROM enrollment_waveapplication WHERE status = 'selected'")

    log = open(Path(env["PRIVATE_MEDIA_ROOT"]) / "workers.log", "w")  # noqa: SIM115
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "prakerja",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "-Q",
                f"{QUEUE}.bulk",
                "-n",
                f"bench{n}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for n in range(args.workers)
    ]
    try:
        time.sleep(5)  # the workers are up before the clock starts
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--queue"], cwd=ROOT, env=env, check=True)
        issued = 0
        while issued < selected:
            time.sleep(0.5)
            issued = count("SELECT COUNT(*) FROM enrollment_card")
            if time.perf_counter() - t0 > 3600:
                raise SystemExit(f"only {issued:,} of {selected:,} cards after an hour")
        elapsed = time.perf_counter() - t0
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    transfers = count("SELECT COUNT(*) FROM payments_transfer WHERE key LIKE 'card:%:balance'")
    print(
        f"cards: {issued:,} issued by {args.workers} workers in chunks of {args.chunk:,} in {elapsed:.1f} s "
        f"({issued / elapsed:,.0f} cards/s); {transfers:,} balance transfers",
        flush=True,
    )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", "check_ledger"], cwd=ROOT, env=env, check=True)
    print(f"check_ledger: green in {time.perf_counter() - t0:.1f} s")
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:2] == ["--seed"]:
        seed(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1:2] == ["--draw"]:
        draw()
    elif sys.argv[1:2] == ["--queue"]:
        queue_cards()
    else:
        main()

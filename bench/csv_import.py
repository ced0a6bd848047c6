"""Benchmark: offline registration of a large CSV batch.

Prints, for each size, the rows per second of the upload check (one streamed
pass over the file) and of the registration itself, and the peak memory the
process reached while doing it. Each size runs in a fresh process so the peaks
compare: flat memory means the same peak for 10,000 and 100,000 rows.

Runs against its own PostgreSQL database (dropped and re-created). As in
production, each registered person's welcome mail is queued on Redis for a
worker (none runs here; the queue is emptied afterwards), and the batch itself
is processed in this process, as the worker would:

    .venv/bin/python bench/csv_import.py                # 10,000 and 100,000 rows
    .venv/bin/python bench/csv_import.py 2000 20000     # other sizes
"""

import datetime
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "prakerja_bench")
QUEUE = "prakerja-bench"


def _env() -> dict[str, str]:
    base = ADMIN_URL.rsplit("/", 1)[0]
    return {
        **os.environ,
        "PRAKERJA_ENV": "development",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"{base}/{BENCH_DB}",
        "EMAIL_URL": "dummymail://",
        "SMS_BACKEND": "accounts.sms.MemorySmsSender",
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/3"),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "LOG_LEVEL": "WARNING",
        "PRIVATE_MEDIA_ROOT": tempfile.mkdtemp(prefix="prakerja-bench-"),
        "DJANGO_SETTINGS_MODULE": "prakerja.settings",
    }


def _letters(n: int) -> str:
    word = ""
    while True:
        n, r = divmod(n, 26)
        word = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[r] + word
        if n == 0:
            return word


def write_csv(path: Path, rows: int, offset: int) -> None:
    """Valid, distinct people of Jawa Barat, two per family card, streamed."""
    regencies = [f"32{n:02d}" for n in range(1, 19)] + [f"32{n:02d}" for n in range(71, 80)]
    regions = [f"{r}{d:02d}" for r in regencies for d in range(1, 41)]
    start = datetime.date(1970, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(
            "nik,no_kk,nama_lengkap,tempat_lahir,tanggal_lahir,jenis_kelamin,no_hp,email,alamat,pendidikan,status_pekerjaan\r\n"
        )
        for n in range(offset, offset + rows):
            region = regions[n % len(regions)]
            serial = (n // len(regions)) % 9999 + 1
            born = start + datetime.timedelta(days=n // (len(regions) * 9999))
            female = n % 2
            day = born.day + (40 if female else 0)
            nik = f"{region}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"
            out.write(
                f"{nik},3273{n // 2:012d},PESERTA {_letters(n)},Bandung,{born.isoformat()},{'P' if female else 'L'},"
                f'0812{n:08d},bench{n}@example.com,"Jl. Contoh {n}, Bandung",SMA,belum bekerja\r\n'
            )


def run_one(rows: int, offset: int) -> None:
    """In a fresh process: upload check, then registration, of ``rows`` rows."""
    import django

    django.setup()
    from accounts import csvio
    from accounts.models import RegistrationBatch, User
    from accounts.services.batches import COLUMNS, registration_batch_create, registration_batch_process
    from prakerja.celery import app

    operator = User.objects.get(email="bench-operator@example.com")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.csv"
        write_csv(path, rows, offset)
        size_mb = path.stat().st_size / 1e6
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        with path.open("rb") as f:
            csvio.check(f, tuple(COLUMNS))
        t1 = time.perf_counter()
        with path.open("rb") as f:
            batch = registration_batch_create(operator=operator, uploaded_file=f, file_name="bench.csv")
        registration_batch_process(batch_id=batch.pk)
        t2 = time.perf_counter()
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    batch = RegistrationBatch.objects.get(pk=batch.pk)
    assert batch.rows_registered == rows, (batch.rows_registered, batch.rows_refused, batch.error)
    print(
        f"{rows:>8} rows  {size_mb:6.1f} MB  check {rows / (t1 - t0):>9,.0f} rows/s  "
        f"register {rows / (t2 - t1):>6,.0f} rows/s ({t2 - t1:6.1f} s)  "
        f"peak RSS {rss_peak / 1024:6.1f} MB (+{(rss_peak - rss_before) / 1024:5.1f} MB during the run)",
        flush=True,
    )


def prepare(env: dict[str, str]) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    setup = (
        "import django; django.setup()\n"
        "from django.contrib.auth.models import Group\n"
        "from accounts.models import User, DinasOperator\n"
        "u = User.objects.create_user(email='bench-operator@example.com')\n"
        "u.groups.add(Group.objects.get(name='dinas_operator'))\n"
        "DinasOperator.objects.create(user=u, province_code='32', office_name='Bench')\n"
    )
    subprocess.run([sys.executable, "-c", setup], cwd=ROOT, env=env, check=True)


def main(sizes: list[int]) -> None:
    env = _env()
    prepare(env)
    print(f"CSV offline registration on PostgreSQL ({BENCH_DB}), one process per size:")
    offset = 0
    for rows in sizes:
        subprocess.run([sys.executable, __file__, "--one", str(rows), str(offset)], cwd=ROOT, env=env, check=True)
        offset += rows


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:2] == ["--one"]:
        run_one(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])

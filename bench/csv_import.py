"""Benchmark: offline registration of large CSV batches.

Prints, in one run:
- the old way, one row at a time in one process (each row its own checks and
  transaction: what a chunk falls back to when a concurrent registration
  gets in its way), on a smaller file;
- the upload check (one streamed pass over the file);
- the deployment's way: the upload queued on Redis, cut into chunks
  (``REGISTRATION_BATCH_CHUNK`` rows) that real Celery workers on the bulk
  queue register side by side, with 1 and with 2 workers, timed from the
  upload until the batch is done (result file written), and each worker's
  peak memory: flat memory means the same peak for 10,000 and 100,000 rows;
- the ratio of 2 workers to the old way, and the issue's aim (1,000 rows/s).

Runs against its own PostgreSQL database (dropped and re-created) and Redis
database (emptied). Each registered person's welcome mail is queued for the
message workers, none of which runs here:

    .venv/bin/python bench/csv_import.py                # 2,000 / 10,000 / 100,000 rows
    .venv/bin/python bench/csv_import.py 1000 5000 20000
"""

import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "prakerja_bench")
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/3")
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
        "CELERY_BROKER_URL": BROKER,
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


def one_at_a_time(rows: int, offset: int) -> None:
    """In a fresh process: ``rows`` rows registered the old way."""
    import django

    django.setup()
    from accounts import csvio
    from accounts.models import RegistrationBatch, User
    from accounts.services.batches import _register_row

    operator = User.objects.select_related("dinas_operator").get(email="bench-operator@example.com")
    batch = RegistrationBatch.objects.create(operator=operator, province_code="32", original_name="one-by-one.csv")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.csv"
        write_csv(path, rows, offset)
        t0 = time.perf_counter()
        with path.open("rb") as f:
            registered = sum(_register_row(batch, line, row)[0] for line, row in csvio.open_rows(f)[1])
        elapsed = time.perf_counter() - t0
    assert registered == rows, registered
    print(
        f"one row at a time, 1 process: {rows:>8,} rows in {elapsed:6.1f} s = {rows / elapsed:6,.0f} rows/s", flush=True
    )
    print(f"RATE {rows / elapsed}")


def upload(rows: int, offset: int) -> None:
    """In a fresh process: the upload check and the queued upload; prints
    the batch's id."""
    import django

    django.setup()
    from accounts import csvio
    from accounts.models import User
    from accounts.services.batches import COLUMNS, registration_batch_create

    operator = User.objects.get(email="bench-operator@example.com")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.csv"
        write_csv(path, rows, offset)
        t0 = time.perf_counter()
        with path.open("rb") as f:
            csvio.check(f, tuple(COLUMNS))
        check = time.perf_counter() - t0
        with path.open("rb") as f:
            batch = registration_batch_create(operator=operator, uploaded_file=f, file_name="bench.csv")
    print(f"CHECK {rows / check}")
    print(f"BATCH {batch.pk}")


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def chunked(env: dict[str, str], rows: int, offset: int, workers: int) -> float:
    import psycopg

    log = open(Path(env["PRIVATE_MEDIA_ROOT"]) / "workers.log", "a")  # noqa: SIM115
    command = [sys.executable, "-m", "celery", "-A", "prakerja", "worker", "--pool=solo", "--loglevel=WARNING",
               "--without-gossip", "--without-mingle", "-Q", f"{QUEUE}.bulk"]  # fmt: skip
    procs = [
        subprocess.Popen([*command, "-n", f"bench{n}@%h"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        for n in range(workers)
    ]
    try:
        time.sleep(6)  # the workers are up before the clock starts
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--upload", str(rows), str(offset)],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        figures = dict(line.split(" ", 1) for line in out.splitlines() if line[:5] in ("CHECK", "BATCH"))
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            while True:
                status, registered, refused, error, took = conn.execute(
                    "SELECT status, rows_registered, rows_refused, error, "
                    "EXTRACT(EPOCH FROM finished_at - created_at) FROM accounts_registrationbatch WHERE id = %s",
                    [int(figures["BATCH"])],
                ).fetchone()
                if status in ("done", "failed"):
                    break
                if time.perf_counter() - t0 > 3600:
                    raise SystemExit(f"batch not done after an hour: {registered:,} registered")
                time.sleep(0.2)
        # From the upload's commit to the result file's: what the operator waits.
        elapsed = float(took)
        peaks = [_peak_mb(p.pid) for p in procs]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
        log.close()
    assert (status, registered, refused) == ("done", rows, 0), (status, registered, refused, error)
    print(
        f"chunks, {workers} worker{'s' if workers > 1 else ' '}:     {rows:>8,} rows in {elapsed:6.1f} s = "
        f"{rows / elapsed:6,.0f} rows/s  (upload check {float(figures['CHECK']):,.0f} rows/s; "
        f"peak RSS per worker {', '.join(f'{mb:.0f}' for mb in peaks)} MB)",
        flush=True,
    )
    return rows / elapsed


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
    import redis

    small, medium, large = sizes
    env = _env()
    redis.Redis.from_url(BROKER).flushdb()
    prepare(env)
    chunk = env.get("REGISTRATION_BATCH_CHUNK", "500")
    print(f"CSV offline registration on PostgreSQL ({BENCH_DB}), chunks of {chunk} rows:")
    out = subprocess.run(
        [sys.executable, __file__, "--one-at-a-time", str(small), "0"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    print("".join(line + "\n" for line in out.splitlines() if not line.startswith("RATE")), end="")
    before = float(next(line for line in out.splitlines() if line.startswith("RATE")).split()[1])
    offset = small
    chunked(env, medium, offset, 1)
    offset += medium
    two = chunked(env, medium, offset, 2)
    offset += medium
    two_large = chunked(env, large, offset, 2)
    redis.Redis.from_url(BROKER).flushdb()
    best = min(two, two_large)
    print(
        f"2 workers / one at a time: {best / before:.1f}x; aim 1,000 rows/s with 2 workers: "
        f"{'met' if best >= 1000 else 'NOT met'} ({best:,.0f} rows/s, the slower of the two sizes)"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:2] == ["--one-at-a-time"]:
        one_at_a_time(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1:2] == ["--upload"]:
        upload(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main([int(a) for a in sys.argv[1:]] or [2_000, 10_000, 100_000])

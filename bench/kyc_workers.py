"""Benchmark: identity checks scale with workers (issue 16).

Builds its own PostgreSQL database (``prakerja_bench_kyc``, dropped and
re-created), registers participants and has each send a KTP photo and a
selfie (real photos from ../shared/faces) through ``kyc_submit``, so a queue
of real ``run_kyc_check`` tasks waits on Redis (db 4, a queue of its own).
Then it starts 1 and, with a fresh queue, 2 real Celery workers on the
identity queue (solo pool, one BLAS thread each, as production runs one
process per core) and times each drain, from the workers being ready to the
last check decided. Prints checks per second and the ratio.

The "KTP" is a plain photo (as in ``manage.py kyc_bench``), so each check
stops at the card check after both faces are found and encoded, and reads
no text: the outcome is "rejected" for every one (the outcomes are printed).

    .venv/bin/python bench/kyc_workers.py               # 40 checks per run
    .venv/bin/python bench/kyc_workers.py --checks 100
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB = "prakerja_bench_kyc"
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/4")
QUEUE = f"bench-kyc-{os.getpid()}"
MEDIA = Path(tempfile.mkdtemp(prefix="bench-kyc-media-"))

ENV = {
    "PRAKERJA_ENV": "development",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "CELERY_BROKER_URL": BROKER,
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
    "PRIVATE_MEDIA_ROOT": str(MEDIA),
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "SMS_BACKEND": "accounts.sms.ConsoleSmsSender",
    "KYC_MAX_SUBMISSIONS_PER_DAY": "1000",
}
os.environ.update(ENV)
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True)


def submit(count: int, start: int) -> list[int]:
    """Registers ``count`` participants and sends each one's photos: the
    checks are queued, none runs (no worker is up)."""
    import datetime

    from accounts.models import Participant, User
    from accounts.nik import compose_nik
    from accounts.services.registration import ProfileInput, participant_register
    from kyc.services.submission import kyc_submit

    faces = Path(os.environ.get("KYC_TEST_FACES_DIR", ROOT.parent / "shared" / "faces"))
    ktp, selfie = (faces / "obama.jpg").read_bytes(), (faces / "obama2.jpg").read_bytes()
    import io

    ids = []
    for i in range(start, start + count):
        user = User.objects.create_user(email=f"kyc{i}@bench.example", password=None)
        profile = ProfileInput(
            full_name="Peserta Bench " + "".join(chr(ord("a") + int(d)) for d in str(i)),
            nik=compose_nik(region="327301", birth_date=datetime.date(1990, 1, 1), gender="M", serial=i + 1),
            kk_number=f"3273010{i:09d}",
            birth_place="Bandung",
            birth_date=datetime.date(1990, 1, 1),
            gender="M",
            phone=f"0813{i:08d}",
            address="Jl. Bench 1",
            education="sma",
            employment_status="unemployed",
        )
        participant = participant_register(user=user, profile=profile)
        # Set-up, not measured: the phone check is not what this bench is about.
        Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.PROFILE_COMPLETE)
        participant.refresh_from_db()
        submission = kyc_submit(participant=participant, ktp_photo=io.BytesIO(ktp), selfie=io.BytesIO(selfie))
        ids.append(submission.pk)
    return ids


def drain(ids: list[int], workers: int, log: Path) -> tuple[float, dict]:
    from collections import Counter

    from kyc.models import KycSubmission

    cmd = [sys.executable, "-m", "celery", "-A", "prakerja", "worker", "--pool=solo", "--without-gossip",
           "--without-mingle", "--without-heartbeat", "-l", "INFO", "-Q", f"{QUEUE}.identity"]  # fmt: skip
    before = log.read_text().count("ready.") if log.exists() else 0
    out = log.open("a")
    procs = [
        subprocess.Popen([*cmd, "-n", f"w{i}-{workers}@bench"], cwd=ROOT, env=os.environ, stdout=out, stderr=out)
        for i in range(workers)
    ]
    try:
        while log.read_text().count("ready.") < before + workers:
            time.sleep(0.05)
        started = time.perf_counter()
        pending = set(ids)
        while pending:
            done = KycSubmission.objects.filter(pk__in=pending).exclude(status__in=["submitted", "processing"])
            pending -= set(done.values_list("pk", flat=True))
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
        out.close()
    outcomes = Counter(KycSubmission.objects.filter(pk__in=ids).values_list("status", flat=True))
    return elapsed, dict(outcomes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checks", type=int, default=40, help="checks per run")
    args = parser.parse_args()
    recreate_database()
    import django

    django.setup()
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    log = MEDIA / "workers.log"
    print(f"identity checks drained by real Celery workers, {args.checks} per run, {os.cpu_count()} cores")
    rates = {}
    for run, workers in enumerate((1, 2)):
        ids = submit(args.checks, start=run * args.checks)
        elapsed, outcomes = drain(ids, workers, log)
        rates[workers] = args.checks / elapsed
        print(
            f"  {workers} worker(s): {args.checks} checks in {elapsed:6.1f} s = {rates[workers]:5.2f} checks/s  {outcomes}"
        )
    print(f"  2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()

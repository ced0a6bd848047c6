"""Benchmark: registration day (issue 16). Sign-ups per second against
gunicorn on loopback, driven by locust (headless), beside the hashing bound
measured in the same run, and the waiting room at three times its capacity.

Builds its own database (``prakerja_bench_signup``), serves it with gunicorn
(2 workers, DEBUG off, the waiting room on Redis db 11) and runs
bench/locust_signup.py: every user is a new visitor who opens the sign-up
page and signs up with a new address (Argon2id hash, user and email rows,
the confirmation email queued), then comes back as a new visitor.

1. Throughput: the room's capacity out of reach; sign-ups/s, p50/p95 of the
   sign-up POST, and the ratio to the hashing bound (Argon2id hashes per
   second per core, measured here first, times the cores; target >= 0.8).
   Locust runs on the same 2 cores, so it takes its share.
2. The waiting room: capacity C, 3 x C visitors at once for the same time:
   every response's status (no 5xx), the admitted visitors' sign-up p95,
   the waiting page's p95, and the time from first visit to signed up.
Prints the capacity a node sustains for a person who spends --dwell
seconds on the page: sign-ups/s x dwell.

Needs locust (``pip install -r requirements-bench.txt``).

    .venv/bin/python bench/signup_load.py [--users 8] [--seconds 30] [--capacity 10]
"""

import argparse
import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB = "prakerja_bench_signup"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")


def env(**extra) -> dict[str, str]:
    base = ADMIN_URL.rsplit("/", 1)[0]
    return {
        **os.environ,
        "PRAKERJA_ENV": "development",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"{base}/{DB}",
        "REDIS_URL": REDIS,
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "WARNING",
        "EMAIL_URL": "dummymail://",
        "DJANGO_SETTINGS_MODULE": "prakerja.settings",
        "WAITING_ROOM_KEY_PREFIX": f"bench-signup-{os.getpid()}-{time.time_ns()}",
        # Every visitor here comes from 127.0.0.1: the per-address limit would meter them all as one.
        "SIGNUP_RATE_LIMIT": "100000/m/ip",
        **extra,
    }


def build() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env(), check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hashing_bound() -> float:
    """Argon2id hashes per second on one core, as the sign-up makes them."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")
    os.environ.setdefault("PRAKERJA_ENV", "development")
    os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
    import django

    django.setup()
    from prakerja.hashers import Argon2idPasswordHasher

    hasher = Argon2idPasswordHasher()
    hasher.encode("warm-up", hasher.salt())
    rounds, start = 30, time.process_time()
    for _ in range(rounds):
        hasher.encode("Prakerja-Bench-2026!", hasher.salt())
    return rounds / (time.process_time() - start)


def run(users: int, seconds: int, extra_env: dict, out: Path) -> dict:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "/dev/null", "prakerja.wsgi:application", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env(**extra_env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        locust = shutil.which("locust", path=str(Path(sys.executable).parent)) or "locust"
        subprocess.run(
            [locust, "-f", str(ROOT / "bench" / "locust_signup.py"), "--headless", "-u", str(users), "-r", str(users),
             "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}", "--csv", str(out), "--only-summary",
             "--loglevel", "ERROR", "--stop-timeout", "5"],
            cwd=ROOT, env={**os.environ, "BENCH_WAITING_POLL": "1"}, check=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = {}
    with open(f"{out}_stats.csv", newline="") as f:
        for row in csv.DictReader(f):
            rows[row["Name"]] = row
    failures = []
    if Path(f"{out}_failures.csv").exists():
        with open(f"{out}_failures.csv", newline="") as f:
            failures = list(csv.DictReader(f))
    return {"rows": rows, "failures": failures, "seconds": seconds}


def figures(row: dict) -> str:
    return f"p50 {float(row['50%']):.0f} ms, p95 {float(row['95%']):.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8, help="concurrent visitors of the throughput run")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--capacity", type=int, default=10, help="the waiting room's capacity in its run")
    parser.add_argument("--dwell", type=int, default=60, help="seconds a person spends on the sign-up page")
    args = parser.parse_args()
    build()
    per_core = hashing_bound()
    cores = os.cpu_count() or 1
    bound = per_core * cores
    tmp = Path(tempfile.mkdtemp(prefix="bench-signup-"))
    print(f"registration day on {cores} cores: gunicorn 2 workers, locust on the same machine")
    print(f"  hashing bound: Argon2id {per_core:.1f} hashes/s per core x {cores} = {bound:.1f} sign-ups/s")

    first = run(args.users, args.seconds, {"WAITING_ROOM_CAPACITY": "1000000"}, tmp / "throughput")
    signup = first["rows"]["sign-up"]
    rate = int(signup["Request Count"]) / args.seconds
    print(
        f"  throughput, {args.users} visitors: {rate:.1f} sign-ups/s ({figures(signup)}), "
        f"{rate / bound:.2f} of the hashing bound; failures {int(signup['Failure Count'])}"
    )

    users = 3 * args.capacity
    second = run(users, args.seconds, {"WAITING_ROOM_CAPACITY": str(args.capacity)}, tmp / "room")
    rows = second["rows"]
    errors = [f for f in second["failures"] if f.get("Error", "").startswith(("HTTP 5", "HTTPError('5"))]
    server_errors = sum(int(f["Occurrences"]) for f in errors)
    waited = rows.get("waiting room")
    print(f"  waiting room, capacity {args.capacity}, {users} visitors at once:")
    print(
        f"    signed up {int(rows['sign-up']['Request Count'])} ({figures(rows['sign-up'])}); "
        f"waiting-page answers {int(waited['Request Count']) if waited else 0}"
        f"{' (' + figures(waited) + ')' if waited else ''}; 5xx: {server_errors}; "
        f"failures {sum(int(f['Occurrences']) for f in second['failures'])}"
    )
    flow = rows.get("visit to signed up")
    if flow:
        print(f"    from first visit to signed up: {figures(flow)}")
    print(
        f"  capacity for a {args.dwell} s stay on the page: {rate:.1f}/s x {args.dwell} s = "
        f"WAITING_ROOM_CAPACITY {int(rate * args.dwell)} per 2-core node"
    )
    print(f"  80,000 sign-ups a minute = {80000 / 60:.0f}/s: {80000 / 60 / rate:.0f} such web nodes")


if __name__ == "__main__":
    main()

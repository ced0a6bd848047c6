"""Benchmark: the public catalog with 10,000 published courses, under load.

Builds its own PostgreSQL database (dropped and re-created), serves it with
gunicorn (2 workers, DEBUG off) on loopback and drives each page with wrk (8
connections, one thread). Server time per request comes from gunicorn's
access log (%(M)s, milliseconds from request to response); wrk's own view is
printed beside it.

    .venv/bin/python bench/catalog_load.py [--courses 10000] [--seconds 8]

Needs wrk (Debian package wrk; installed if missing and run as root).
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB = "prakerja_bench_catalog"

PAGES = {
    "list, newest": "/kursus/",
    "list, page 40": "/kursus/?page=40",
    "list, filtered and sorted": "/kursus/?category=food&province=32&min_price=100000&max_price=500000&sort=price",
    "search": "/kursus/?q=kopi",
    "search, two words": "/kursus/?q=pelatihan+bahasa",
    "search and filter": "/kursus/?q=usaha&delivery_mode=self_paced&sort=-price",
    "course page": "/kursus/{course}/",
}


def env() -> dict[str, str]:
    base = ADMIN_URL.rsplit("/", 1)[0]
    return {
        **os.environ,
        "PRAKERJA_ENV": "development",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"{base}/{DB}",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "prakerja.settings",
    }


def build(courses: int) -> int:
    """Creates the database and ``courses`` published courses; returns one id."""
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env(), check=True)
    code = f"""
import django, random, datetime
django.setup()
from django.db import connection
from django.utils import timezone
from accounts.models import User
from catalog.models import Category, Course, CourseRevision, DeliveryMode, Institution, Platform
random.seed(7)
user = User.objects.create_user(email="bench@example.invalid")
platforms = [Platform.objects.create(name=f"Platform {{i}}", payout_route="direct") for i in range(8)]
provinces = ["11", "12", "31", "32", "33", "34", "35", "36", "51", "73"]
kinds = ["blk_komunitas", "blk_pemerintah", "blk_luar_negeri", "lpk_swasta"]
institutions = []
for i in range(60):
    inst = Institution.objects.create(name=f"Lembaga {{i}}", kind=kinds[i % 4], address="Jl. 1",
        province_code=provinces[i % len(provinces)], bank_name="ID_BNI", bank_account_number=str(i),
        bank_account_holder="X")
    inst.platforms.add(platforms[i % 8])
    institutions.append(inst)
words = ("kopi barista usaha kue roti bahasa inggris jepang digital pemasaran excel desain las listrik motor "
         "hidroponik ikan perawat anak hotel wisata jahit foto video akuntansi penjualan").split()
filler = "materi praktik latihan tugas modul sesi penilaian instruktur peserta sertifikat".split()
now = timezone.now()
cats, modes = Category.values, DeliveryMode.values
for start in range(0, {courses}, 2000):
    n = min(2000, {courses} - start)
    batch = []
    for k in range(n):
        j = (start + k) % len(institutions)
        batch.append(Course(institution=institutions[j], platform=platforms[j % 8],
                            published_at=now - datetime.timedelta(minutes=start + k)))
    Course.objects.bulk_create(batch)
    revisions = []
    for course in batch:
        topic = " ".join(random.sample(words, 3))
        mode = random.choice(modes)
        sched = mode != "self_paced"
        revisions.append(CourseRevision(course=course, number=1, status="published", title=f"Pelatihan {{topic}}",
            summary=f"Belajar {{topic}} dari dasar.",
            description=f"Materi {{topic}}. " + " ".join(random.choices(filler, k=100)),
            learning_outcomes="Peserta mampu bekerja.", category=random.choice(cats), delivery_mode=mode,
            duration_hours=random.randint(4, 40), price=random.randrange(50_000, 1_000_001, 10_000),
            starts_at=now + datetime.timedelta(days=30) if sched else None,
            ends_at=now + datetime.timedelta(days=30, hours=4) if sched else None,
            created_by=user))
    CourseRevision.objects.bulk_create(revisions)
with connection.cursor() as c:
    c.execute(
        "UPDATE catalog_course SET published_revision_id = r.id, sale_ends_at = r.starts_at "
        "FROM catalog_courserevision r WHERE r.course_id = catalog_course.id"
    )
    c.execute(
        "UPDATE catalog_courserevision SET search_vector = "
        "setweight(to_tsvector('indonesian', title), 'A') || setweight(to_tsvector('indonesian', summary), 'B') "
        "|| setweight(to_tsvector('indonesian', description), 'C')"
    )
    c.execute("ANALYZE")
print(Course.objects.order_by("id").values_list("id", flat=True)[500])
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env(), check=True, capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--courses", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    started = time.perf_counter()
    course = build(args.courses)
    print(f"catalog benchmark: {args.courses:,} published courses built in {time.perf_counter() - started:.0f} s")
    port = free_port()
    log = Path(tempfile.mkdtemp()) / "access.log"
    server = subprocess.Popen(
        # Not gunicorn.conf.py: its logging config would send the access log to stdout.
        [sys.executable, "-m", "gunicorn", "-c", "/dev/null", "prakerja.wsgi:application", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--access-logfile", str(log), "--access-logformat", '"%(r)s" %(s)s %(M)s'],
        cwd=ROOT, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        print(f"gunicorn 2 workers; wrk 1 thread, 8 connections, {args.seconds} s per page\n")
        print(f"{'page':28}{'req/s':>8}{'server p50':>12}{'server p95':>12}{'wrk p50':>10}{'wrk p99':>10}")
        for name, path in PAGES.items():
            url = f"http://127.0.0.1:{port}" + path.format(course=course)
            subprocess.run(["wrk", "-t1", "-c8", "-d2s", url], capture_output=True, check=True)  # warm up
            log.write_text("")
            result = subprocess.run(
                ["wrk", "-t1", "-c8", f"-d{args.seconds}s", "--latency", url],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            times = [int(m) for m in re.findall(r"\" (?:200) (\d+)$", log.read_text(), re.M)]
            errors = len(re.findall(r"\" (?!200)\d{3} ", log.read_text()))
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", result).group(1))
            p50 = re.search(r"50%\s+([\d.]+\w+)", result).group(1)
            p99 = re.search(r"99%\s+([\d.]+\w+)", result).group(1)
            p95_server = statistics.quantiles(times, n=20)[-1] if len(times) > 20 else float("nan")
            print(
                f"{name:28}{rps:8.0f}{statistics.median(times):10.0f}ms{p95_server:10.0f}ms{p50:>10}{p99:>10}"
                + (f"  ({errors} non-200!)" if errors else "")
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

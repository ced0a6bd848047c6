"""Benchmark: purchase authorisations per second on PostgreSQL, beside pgbench.

Builds its own PostgreSQL database (dropped and re-created): 20 courses on
sale (Rp 300,000, no capacity) across 4 institutions, published through the
catalog services, and clients x per-client participants selected in a drawn
wave, each with a card issued by ``card_issue`` (the balance credited through
the ledger). Participants are bulk-created in the shapes the services make
(encrypted NIK and KK, blind indexes, status "selected"); setup is timed
apart and not counted.

The timed part runs ``enrollment_submit`` (a requested enrolment, then the
PMO's authorisation: card lock, programme rules, ledger hold, voucher) once
per participant, each a legitimate purchase that succeeds, from ``--clients``
processes released together. Authorisations/s = all authorised / wall time.
Before it, one authorisation's queries are counted and a few run one by one;
during it, pg_stat_activity is sampled (lock and WAL waits) and the CPU used
by the Django clients and their PostgreSQL backends is totalled.

Then pgbench's built-in TPC-B-like script runs on the same server with the
same number of clients (its own database, ``pgbench -i -s 10``), and the
ratio of the two is printed (target >= 0.25). Finally every enrolment must be
authorised and ``manage.py check_ledger`` must pass.

    .venv/bin/python bench/purchase_authorisations.py [--clients 8] [--per-client 500]
        [--seconds S] [--pgbench-seconds 30] [--institutions 4] [--show-queries]
"""

import argparse
import math
import multiprocessing as mp
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the spawned workers import the project too
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB = "prakerja_bench_auth"
PGBENCH_DB = "prakerja_bench_pgbench"
PGBENCH_SCALE = 10
COURSES = 20
PRICE = 300_000
BALANCE = 1_000_000
PROBE = 40  # extra participants authorised one by one before the timed part
REGIONS = ("327301", "317101", "350101", "110101")


def bench_env() -> dict[str, str]:
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


def admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


# Setup (not timed) -----------------------------------------------------------


def build_catalog(institutions: int) -> list[int]:
    """Courses on sale through the catalog services; returns their ids."""
    from django.contrib.auth.models import Group

    from accounts import roles
    from accounts.models import User
    from catalog.models import Course, Institution, Platform
    from catalog.services import CRITERIA, CourseInput, course_create, revision_decide, revision_submit

    def staff(email: str, role: str) -> User:
        user = User.objects.create_user(email=email, password=None, is_staff=role != roles.INSTITUTION_STAFF)
        user.groups.add(Group.objects.get(name=role))
        return User.objects.get(pk=user.pk)

    platform = Platform.objects.create(name="Sisnaker", payout_route="direct")
    curator1 = staff("kurator1@bench.invalid", roles.CURATOR_BINALATTAS)
    curator2 = staff("kurator2@bench.invalid", roles.PMO_CURATOR)
    owners = []
    for i in range(institutions):
        inst = Institution.objects.create(
            name=f"BBPLK Bench {i + 1}",
            kind="blk_pemerintah",
            address="Jl. 1",
            province_code="32",
            bank_name="ID_BNI",
            bank_account_number=str(1000 + i),
            bank_account_holder=f"BBPLK Bench {i + 1}",
        )
        inst.platforms.add(platform)
        member = staff(f"lembaga{i + 1}@bench.invalid", roles.INSTITUTION_STAFF)
        inst.staff.add(member)
        owners.append((inst, member))
    ids = []
    for k in range(COURSES):
        inst, member = owners[k % institutions]
        data = CourseInput(
            title=f"Pelatihan Bench {k + 1}",
            summary="Belajar membuat kue kering dan menjualnya.",
            description="Pelatihan membuat kue kering dari bahan sampai kemasan, dengan praktik.",
            learning_outcomes="Peserta mampu membuat tiga jenis kue kering.",
            category="food",
            delivery_mode="self_paced",
            duration_hours=12,
            price=PRICE,
        )
        revision = course_create(institution=inst, platform=platform, data=data, by=member)
        revision_submit(revision=revision, by=member)
        for stage, curator in ((1, curator1), (2, curator2)):
            checklist = dict.fromkeys(CRITERIA[stage], True)
            revision_decide(revision=revision, stage=stage, approve=True, checklist=checklist, reason="", by=curator)
        ids.append(revision.course_id)
    assert Course.objects.filter(pk__in=ids, published_revision__isnull=False).count() == COURSES
    return ids


def build_participants(n: int) -> list[int]:
    """``n`` participants selected in a drawn wave, each with a card issued
    by card_issue; returns their ids in order."""
    import datetime

    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from accounts import crypto, roles
    from accounts.models import FamilyCard, Participant, User
    from accounts.nik import compose_nik
    from audit.models import AuditEvent
    from enrollment.models import Wave, WaveApplication

    now = timezone.now()
    wave = Wave.objects.create(
        number=1,
        opens_at=now - datetime.timedelta(days=10),
        closes_at=now - datetime.timedelta(days=3),
        quota=n,
        status=Wave.Status.DRAWN,
        training_balance=BALANCE,
        draw_seed="bench",
        drawn_at=now - datetime.timedelta(days=2),
    )
    unusable = make_password(None)
    users = User.objects.bulk_create(
        [User(email=f"peserta{i}@bench.invalid", password=unusable) for i in range(n)], batch_size=2000
    )
    group = Group.objects.get(name=roles.PARTICIPANT)
    User.groups.through.objects.bulk_create([User.groups.through(user_id=u.pk, group_id=group.pk) for u in users])
    kks = [f"{REGIONS[i % 4][:4]}01{i + 1:010d}" for i in range(n)]
    families = FamilyCard.objects.bulk_create(
        [FamilyCard(number=kk, number_index=crypto.kk_index(kk)) for kk in kks], batch_size=2000
    )
    people = []
    for i, (user, family) in enumerate(zip(users, families, strict=True)):
        region = REGIONS[i % 4]
        birth = datetime.date(1990, 1, 1) + datetime.timedelta(days=i // (4 * 9999))
        nik = compose_nik(region=region, birth_date=birth, gender="F", serial=1 + (i // 4) % 9999)
        people.append(
            Participant(
                user=user,
                full_name="Siti Aminah",
                nik=nik,
                nik_index=crypto.nik_index(nik),
                family_card=family,
                birth_place="Bandung",
                birth_date=birth,
                gender="F",
                phone=f"0813{i + 1:08d}",
                phone_verified_at=now,
                address="Jl. Merdeka No. 1",
                province_code=region[:2],
                regency_code=region[:4],
                education="sma",
                employment_status="unemployed",
                status=Participant.Status.SELECTED,
                channel=Participant.Channel.ONLINE,
            )
        )
    people = Participant.objects.bulk_create(people, batch_size=2000)
    participant_type = ContentType.objects.get_for_model(Participant)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(content_type=participant_type, object_id=p.pk, from_status=a, to_status=b, reason=why)
            for p in people
            for a, b, why in (
                ("", "registered", "registered online"),
                ("applied", "selected", "wave 1 selection"),
            )
        ],
        batch_size=4000,
    )
    applications = WaveApplication.objects.bulk_create(
        [
            WaveApplication(
                wave=wave,
                participant=p,
                status=WaveApplication.Status.SELECTED,
                province_code=p.province_code,
                draw_position=i + 1,
            )
            for i, p in enumerate(people)
        ],
        batch_size=2000,
    )
    ids = [a.pk for a in applications]
    processes = min(4, os.cpu_count() or 1)
    with mp.get_context("spawn").Pool(processes, initializer=_django_setup) as pool:
        pool.map(_issue_cards, [ids[i::processes] for i in range(processes)])
    return [p.pk for p in people]


def _django_setup() -> None:
    import django

    django.setup()


def _issue_cards(application_ids: list[int]) -> None:
    from django.db import connection

    from enrollment.services.cards import card_issue

    for application_id in application_ids:
        card_issue(application_id=application_id)
    connection.close()


def pgbench_env() -> dict[str, str]:
    url = urlsplit(ADMIN_URL)
    extra = {"PGHOST": url.hostname or "127.0.0.1", "PGPORT": str(url.port or 5432), "PGUSER": url.username or ""}
    if url.password:
        extra["PGPASSWORD"] = url.password
    return {**os.environ, **extra}


def pgbench_init() -> None:
    admin(f'DROP DATABASE IF EXISTS "{PGBENCH_DB}" WITH (FORCE)', f'CREATE DATABASE "{PGBENCH_DB}"')
    subprocess.run(
        ["pgbench", "-i", "-q", "-s", str(PGBENCH_SCALE), PGBENCH_DB],
        env=pgbench_env(),
        check=True,
        capture_output=True,
    )


# Measuring ---------------------------------------------------------------------


def probe(pairs: list[tuple[int, int]], show_queries: bool) -> None:
    """One authorisation with its queries counted, then the rest one by one
    (single client latency). Also creates the institutions' payable accounts,
    as the first purchases of a live system would."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Participant
    from catalog.models import Course
    from enrollment.services.purchases import enrollment_submit

    people = Participant.objects.select_related("user").in_bulk([p for p, _c in pairs])
    courses = Course.objects.in_bulk([c for _p, c in pairs])
    for pid, cid in pairs[:COURSES]:  # one per course: every institution's payable account exists
        enrollment_submit(participant=people[pid], course=courses[cid], request_key=f"bench-{pid}")
    pid, cid = pairs[COURSES]
    with CaptureQueriesContext(connection) as captured:
        enrollment = enrollment_submit(participant=people[pid], course=courses[cid], request_key=f"bench-{pid}")
    assert enrollment.status == "authorised", enrollment.decline_code
    kinds = Counter()
    for query in captured.captured_queries:
        sql = query["sql"]
        head = sql.split(None, 1)[0].upper()
        if head == "SELECT" and sql.rstrip().upper().endswith("FOR UPDATE"):
            head = "SELECT FOR UPDATE"
        kinds[head] += 1
    summary = ", ".join(f"{v} {k}" for k, v in kinds.most_common())
    print(f"queries per authorisation (one enrollment_submit): {len(captured)}  ({summary}; plus COMMIT)")
    if show_queries:
        for i, query in enumerate(captured.captured_queries, 1):
            print(f"  {i:2} {query['time']:>6}s  {query['sql'][:150]}")
    times = []
    for pid, cid in pairs[COURSES + 1 :]:
        started = time.perf_counter()
        enrollment_submit(participant=people[pid], course=courses[cid], request_key=f"bench-{pid}")
        times.append(time.perf_counter() - started)
    if times:
        print(
            f"one client, one by one: {statistics.median(times) * 1000:.1f} ms per authorisation (median of {len(times)})"
        )
    connection.close()


def backend_cpu(pid: int) -> float | None:
    """CPU seconds a PostgreSQL backend on this machine has used (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker(index, pairs, seconds, barrier, results) -> None:
    """One client: its own slice of participants, released with the others."""
    import django

    django.setup()
    from django.db import connection

    from accounts.models import Participant
    from catalog.models import Course
    from enrollment.services.purchases import enrollment_submit

    # What a request would already hold: the participant (with its user) and
    # the course it was asked to buy.
    people = Participant.objects.select_related("user").in_bulk([p for p, _c in pairs])
    courses = Course.objects.in_bulk({c for _p, c in pairs})
    work = [(people[p], courses[c]) for p, c in pairs]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    outcome = Counter()
    latencies = []
    error = ""
    barrier.wait()
    started = time.monotonic()
    cpu, server_cpu = time.process_time(), backend_cpu(backend)
    stop = started + seconds if seconds else math.inf
    for participant, course in work:
        t0 = time.monotonic()
        if t0 >= stop:
            break
        try:
            enrollment = enrollment_submit(
                participant=participant, course=course, request_key=f"bench-{participant.pk}"
            )
        except Exception as exc:
            outcome["error"] += 1
            error = error or repr(exc)
        else:
            status = str(enrollment.status)
            outcome[status if status == "authorised" else f"declined:{enrollment.decline_code}"] += 1
        latencies.append(time.monotonic() - t0)
    ended = time.monotonic()
    cpu = time.process_time() - cpu
    server_end = backend_cpu(backend)
    server_cpu = None if server_cpu is None or server_end is None else server_end - server_cpu
    connection.close()
    results.put((index, dict(outcome), started, ended, latencies, error, cpu, server_cpu))


class Sampler(threading.Thread):
    """What the benchmark's backends are doing, every 50 ms: running a
    statement, waiting for a lock, for WAL (commit), or idle while Django
    works between statements."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[tuple[float, str]] = []
        self.done = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            while not self.done.wait(0.05):
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = %s AND backend_type = 'client backend'",
                    [DB],
                ).fetchall()
                now = time.monotonic()
                for state, kind, event in rows:
                    if state != "active":
                        what = "idle, Django working" if state == "idle in transaction" else f"{state}"
                    elif kind is None:
                        what = "running a statement"
                    else:
                        what = f"waiting: {kind}/{event}"
                    self.samples.append((now, what))

    def summary(self, start: float, end: float) -> str:
        seen = Counter(what for at, what in self.samples if start <= at <= end)
        total = sum(seen.values()) or 1
        return ", ".join(f"{what} {n / total:.0%}" for what, n in seen.most_common(6))


def run_clients(slices: list[list[tuple[int, int]]], seconds: float | None) -> tuple:
    ctx = mp.get_context("spawn")
    sampler = Sampler()
    sampler.start()
    barrier = ctx.Barrier(len(slices))
    results = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(i, s, seconds, barrier, results)) for i, s in enumerate(slices)]
    for proc in procs:
        proc.start()
    reports = [results.get() for _proc in procs]
    for proc in procs:
        proc.join()
    sampler.done.set()
    sampler.join()
    outcome = Counter()
    for report in reports:
        outcome.update(report[1])
    wall = max(r[3] for r in reports) - min(r[2] for r in reports)
    latencies = sorted(t for r in reports for t in r[4])
    errors = [r[5] for r in reports if r[5]]
    client_cpu = sum(r[6] for r in reports)
    server_cpu = None if any(r[7] is None for r in reports) else sum(r[7] for r in reports)
    states = sampler.summary(min(r[2] for r in reports), max(r[3] for r in reports))
    return outcome, wall, latencies, errors, (client_cpu, server_cpu), states


def pgbench_run(clients: int, seconds: int) -> float:
    result = subprocess.run(
        ["pgbench", "-c", str(clients), "-j", str(min(2, clients)), "-T", str(seconds), PGBENCH_DB],
        env=pgbench_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("tps = ")]
    # pgbench < 14 prints two lines (including / excluding connections
    # establishing); 14+ prints one, without initial connection time.
    chosen = next((line for line in lines if "excluding" in line or "without" in line), lines[0])
    return float(re.match(r"tps = ([\d.]+)", chosen).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="client processes (and pgbench clients)")
    parser.add_argument("--per-client", type=int, default=500, help="participants (purchases) per client")
    parser.add_argument("--seconds", type=float, help="stop the authorisations after this long")
    parser.add_argument("--pgbench-seconds", type=int, help="pgbench -T (default: --seconds, or 30)")
    parser.add_argument("--institutions", type=int, default=4, help="institutions the 20 courses belong to")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of one authorisation")
    args = parser.parse_args()
    pgbench_seconds = args.pgbench_seconds or math.ceil(args.seconds or 30)

    env = bench_env()
    os.environ.update(env)  # this process and the spawned workers use the benchmark's database
    started = time.perf_counter()
    admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)', f'CREATE DATABASE "{DB}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from django.db import connection

    total = args.clients * args.per_client
    course_ids = build_catalog(args.institutions)
    made = time.perf_counter()
    participant_ids = build_participants(total + PROBE)
    pairs = [(pid, course_ids[i % COURSES]) for i, pid in enumerate(participant_ids)]
    probe_pairs, pairs = pairs[:PROBE], pairs[PROBE:]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    print(
        f"setup: {total + PROBE:,} participants with cards (+{COURSES} courses, {args.institutions} institutions) "
        f"in {time.perf_counter() - started:.0f} s ({time.perf_counter() - made:.0f} s for participants and cards)"
    )
    started = time.perf_counter()
    pgbench_init()
    print(f"setup: pgbench -i -s {PGBENCH_SCALE} in {time.perf_counter() - started:.0f} s")

    probe(probe_pairs, args.show_queries)

    slices = [pairs[i * args.per_client : (i + 1) * args.per_client] for i in range(args.clients)]
    admin("CHECKPOINT")
    outcome, wall, latencies, errors, (client_cpu, server_cpu), states = run_clients(slices, args.seconds)
    authorised = outcome.get("authorised", 0)
    admin("CHECKPOINT")
    tps = pgbench_run(args.clients, pgbench_seconds)

    from django.db.models import Count

    from enrollment.models import Enrollment

    by_status = dict(Enrollment.objects.values_list("status").annotate(n=Count("pk")).order_by("status"))
    connection.close()
    started = time.perf_counter()
    ledger = subprocess.run(
        [sys.executable, "manage.py", "check_ledger"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    ledger_wall = time.perf_counter() - started
    checked = re.search(r"(\d+) transfers checked in ([\d.]+) s", ledger.stdout)

    print(f"outcomes of the timed part: {dict(outcome)}" + (f"; first error: {errors[0]}" if errors else ""))
    print(f"enrolments by status (incl. {PROBE} probe purchases): {by_status}")
    if args.seconds and authorised == total:
        print("note: every participant was used before --seconds ran out; raise --per-client")
    if authorised:
        p50 = statistics.median(latencies) * 1000
        p95 = latencies[int(len(latencies) * 0.95)] * 1000
        server = f", PostgreSQL backends {server_cpu / authorised * 1000:.1f} ms" if server_cpu is not None else ""
        print(f"backends during the run (pg_stat_activity, every 50 ms): {states}")
        print(f"latency per authorisation: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
        print(
            f"CPU per authorisation: Django clients {client_cpu / authorised * 1000:.1f} ms{server} ({os.cpu_count()} cores)"
        )
    rate = authorised / wall
    print()
    print(f"clients {args.clients}   authorisations {authorised} in {wall:.1f} s  =  {rate:.0f} /s")
    print(f"pgbench TPC-B (scale {PGBENCH_SCALE}, {args.clients} clients, {pgbench_seconds} s): {tps:.0f} tps")
    print(f"ratio {rate / tps:.2f} (target >= 0.25)")
    verdict = "all invariants hold" if ledger.returncode == 0 else "BREACH:\n" + ledger.stdout.rstrip()
    print(
        f"check_ledger on {checked.group(1) if checked else '?'} transfers: "
        f"{checked.group(2) if checked else '?'} s ({ledger_wall:.1f} s with start-up), {verdict}"
    )
    all_authorised = set(by_status) == {"authorised"}
    if ledger.returncode != 0 or not all_authorised or errors:
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Benchmark: the API checkout over HTTP against the same services in-process.

Builds its own PostgreSQL database (as bench/purchase_authorisations.py does:
20 courses on sale, participants with cards in a drawn wave; setup not
timed), then, in one run, each participant buys one course:

- in-process: ``platform_checkout_send_code`` then
  ``platform_checkout_authorize`` (the services the API calls), from
  ``--clients`` processes;
- over HTTP: the reference client (partner_client) against gunicorn on
  loopback (``--workers`` sync workers): ``POST /purchases/send-otp`` then
  ``POST /purchases/authorize``, signed, each with its Idempotency-Key, from
  the same number of client processes.

The SMS code is read from the console sender's copy file (SMS_COPY_FILE), as
the participant reads their phone. Prints authorisations per second, the
p50/p95 of one checkout (both calls) and the overhead ratio in-process/HTTP
(target at most 1.3); every purchase must be authorised and check_ledger
must pass.

    .venv/bin/python bench/api_checkout.py [--per-mode 600] [--clients 4] [--workers 4]
"""

import argparse
import json
import multiprocessing as mp
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from bench import purchase_authorisations as base  # noqa: E402

DB = "prakerja_bench_api"
CODE = "PLT-BENCH"


def env(sms_file: str) -> dict[str, str]:
    return {
        **base.bench_env(),
        "DATABASE_URL": base.bench_env()["DATABASE_URL"].rsplit("/", 1)[0] + f"/{DB}",
        "SMS_BACKEND": "accounts.sms.ConsoleSmsSender",
        "SMS_COPY_FILE": sms_file,
        "API_RATE_PER_CLIENT": "100000000/min",
        "OTP_MAX_SENDS_PER_HOUR": "1000",
        # gunicorn's workers keep their database connection, as deployed.
        "DATABASE_CONN_MAX_AGE": "300",
    }


def code_for(sms_file: str, phone: str, seen: dict) -> str:
    """The newest code texted to ``phone`` (reads the copy file onward)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(sms_file, encoding="utf-8") as copy:
            copy.seek(seen.get("offset", 0))
            for line in copy:
                message = json.loads(line)
                seen.setdefault("codes", {})[message["to"]] = re.search(r"\b(\d{6})\b", message["body"]).group(1)
            seen["offset"] = copy.tell()
        if phone in seen.get("codes", {}):
            return seen["codes"].pop(phone)
        time.sleep(0.002)
    raise RuntimeError(f"no SMS to {phone}")


def setup(total: int) -> tuple[list[tuple[str, str, int, str]], str]:
    """The database, the catalog, card holders and an API client; returns
    (card number, phone, course id, schedule code) per buyer and the key."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from accounts import roles
    from accounts.models import User
    from catalog.credentials import api_key_issue
    from catalog.models import ApiClient, Course, Platform
    from enrollment.models import Card
    from enrollment.services.platform_sales import schedule_code

    course_ids = base.build_catalog(4)
    people = base.build_participants(total)
    officer = User.objects.create_user(email="api-officer@bench.invalid", password=None, is_staff=True)
    officer.groups.add(
        *__import__("django.contrib.auth.models").contrib.auth.models.Group.objects.filter(name=roles.PMO_CURATOR)
    )
    officer = User.objects.get(pk=officer.pk)
    client = ApiClient.objects.create(code=CODE, platform=Platform.objects.get())
    secret = api_key_issue(client=client, by=officer)
    courses = Course.objects.select_related("published_revision").in_bulk(course_ids)
    cards = Card.objects.filter(participant_id__in=people).select_related("participant").order_by("participant_id")
    buyers = []
    for i, card in enumerate(cards):
        course = courses[course_ids[i % len(course_ids)]]
        buyers.append(
            (card.number, card.participant.phone, course.pk, schedule_code(course.pk, course.published_revision.number))
        )
    return buyers, secret


def in_process(buyers, sms_file, barrier, results, index) -> None:
    import django

    django.setup()
    from django.db import connection

    from catalog.models import Platform
    from enrollment.services.platform_sales import platform_checkout_authorize, platform_checkout_send_code

    platform_id = Platform.objects.get().pk
    seen, times = {}, []
    barrier.wait()
    for n, (card, phone, course, schedule) in enumerate(buyers):
        started = time.perf_counter()
        sent = platform_checkout_send_code(
            platform_id=platform_id,
            card_number=card,
            platform_user_id=f"u-{card}",
            course_id=course,
            schedule=schedule,
            amount=base.PRICE,
        )
        enrollment = platform_checkout_authorize(
            platform_id=platform_id,
            payment_token=sent["payment_token"],
            code=code_for(sms_file, phone, seen),
            invoice_code=f"INP-{index}-{n}",
            invoice_url="https://bench.example/i",
        )
        assert enrollment.status == "authorised", enrollment.decline_code
        times.append(time.perf_counter() - started)
    results.put(times)
    connection.close()


def over_http(buyers, sms_file, barrier, results, index, url, secret) -> None:
    from partner_client import PartnerClient

    api = PartnerClient(url, CODE, secret, retries=0)
    seen, times = {}, []
    barrier.wait()
    for n, (card, phone, course, schedule) in enumerate(buyers):
        started = time.perf_counter()
        sent = api.send_otp(
            card_number=card, platform_user_id=f"u-{card}", course_id=course, schedule_code=schedule, amount=base.PRICE
        )
        bought = api.authorize(
            payment_token=sent["payment_token"],
            otp=code_for(sms_file, phone, seen),
            invoice_code=f"INH-{index}-{n}",
            invoice_url="https://bench.example/i",
        )
        assert bought["status"] == "authorised", bought
        times.append(time.perf_counter() - started)
    results.put(times)


def run(target, buyers, clients, extra=()) -> tuple[float, list[float]]:
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(clients + 1), ctx.Queue()
    slices = [buyers[i::clients] for i in range(clients)]
    procs = [
        ctx.Process(target=target, args=(slices[i], *extra[:1], barrier, results, i, *extra[1:]))
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    barrier.wait()
    started = time.perf_counter()
    times = [t for _p in procs for t in results.get()]
    wall = time.perf_counter() - started
    for p in procs:
        p.join()
        assert p.exitcode == 0, "a client failed"
    return wall, times


def report(name, wall, times) -> float:
    rate = len(times) / wall
    times = sorted(times)
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"{name:<12} {len(times):>6} checkouts in {wall:6.1f} s: {rate:7.1f} authorisations/s, "
        f"p50 {statistics.median(times) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-mode", type=int, default=600)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8911)
    args = parser.parse_args()
    handle, sms_file = tempfile.mkstemp(prefix="bench-sms-", suffix=".jsonl")
    os.close(handle)
    os.environ.update(env(sms_file))
    base.admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)', f'CREATE DATABASE "{DB}"')
    started = time.perf_counter()
    buyers, secret = setup(2 * args.per_mode)
    print(f"setup: {len(buyers)} card holders, 20 courses, in {time.perf_counter() - started:.0f} s (not counted)")
    local, remote = buyers[: args.per_mode], buyers[args.per_mode :]
    wall, times = run(in_process, local, args.clients, (sms_file,))
    inside = report("in-process", wall, times)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "prakerja.wsgi:application", "-b", f"127.0.0.1:{args.port}",
         "-w", str(args.workers), "--log-level", "warning"],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{args.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                __import__("urllib.request").request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        wall, times = run(over_http, remote, args.clients, (sms_file, url, secret))
        http = report("over HTTP", wall, times)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"overhead ratio (in-process / HTTP): {inside / http:.2f}  (target <= 1.3)")
    from enrollment.models import Enrollment

    authorised = Enrollment.objects.filter(status="authorised").count()
    assert authorised == len(buyers), f"{authorised} of {len(buyers)} authorised"
    subprocess.run([sys.executable, "manage.py", "check_ledger"], cwd=ROOT, env=os.environ.copy(), check=True)
    print(f"all {authorised} purchases authorised; check_ledger passed")
    os.unlink(sms_file)


if __name__ == "__main__":
    main()

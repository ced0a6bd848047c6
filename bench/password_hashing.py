"""Benchmark: what a sign-up's or a log-in's password hash costs (issue 16).

Times, in one run and one process, Django's default PBKDF2-SHA256 (its
iteration count as shipped) and the Argon2id hasher we use
(prakerja.hashers: OWASP's 19 MiB, 2 iterations, 1 lane): making a hash (a
sign-up) and checking one (a log-in), as CPU time per hash. A sign-up is
bounded by one core's hashes per second times the cores: the figure the
sign-up load test compares its rate against.

    .venv/bin/python bench/password_hashing.py            # 30 hashes each
    .venv/bin/python bench/password_hashing.py --rounds 100
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prakerja.settings")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
os.environ.setdefault("PRAKERJA_ENV", "development")


def measure(hasher, rounds: int) -> dict:
    password = "s3cret-Passw0rd"
    make, check = [], []
    encoded = hasher.encode(password, hasher.salt())  # warm up
    for _ in range(rounds):
        start = time.process_time()
        encoded = hasher.encode(password, hasher.salt())
        make.append(time.process_time() - start)
        start = time.process_time()
        assert hasher.verify(password, encoded)
        check.append(time.process_time() - start)
    return {"make_ms": statistics.median(make) * 1000, "check_ms": statistics.median(check) * 1000, "hash": encoded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from prakerja.hashers import Argon2idPasswordHasher

    cores = os.cpu_count() or 1
    rows = [
        (f"PBKDF2-SHA256, {PBKDF2PasswordHasher.iterations:,} iterations (Django's default)", PBKDF2PasswordHasher()),
        ("Argon2id m=19 MiB t=2 p=1 (ours)", Argon2idPasswordHasher()),
    ]
    print(f"password hashing, median CPU time per hash over {args.rounds} rounds, {cores} cores")
    results = []
    for label, hasher in rows:
        r = measure(hasher, args.rounds)
        results.append(r)
        per_core = 1000 / r["make_ms"]
        print(
            f"  {label:<58} make {r['make_ms']:7.1f} ms  check {r['check_ms']:7.1f} ms  "
            f"{per_core:6.1f} sign-ups/s per core, {per_core * cores:6.1f} on this machine"
        )
    old, new = results
    print(
        f"  Argon2id costs {new['make_ms'] / old['make_ms']:.2f} of PBKDF2's CPU per hash "
        f"({old['make_ms'] / new['make_ms']:.1f}x as many sign-ups per core)"
    )
    print(f"  hash as stored: {new['hash'][:40]}...")


if __name__ == "__main__":
    main()

"""Test environment defaults: PostgreSQL and Redis on this machine, tasks run
in-process unless a test starts a real worker. scripts/test.sh sets the same."""

import os

os.environ.setdefault("PRAKERJA_ENV", "test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/prakerja")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
# A second database on the same server stands in for the read replica; it is
# created (as test_<name>_replica) only when a test asks for it, and read
# from only where a test turns CATALOG_READS_FROM_REPLICA on.
if os.environ["DATABASE_URL"].startswith("postgres"):
    os.environ.setdefault("DATABASE_REPLICA_URL", os.environ["DATABASE_URL"].rstrip("/") + "_replica")
os.environ.setdefault("CATALOG_READS_FROM_REPLICA", "false")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/2")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
# Playwright's sync API runs an event loop in the test thread; the ORM calls
# the tests make around it are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# A queue of this run's own, so a worker started by a test never takes work
# left on the broker by another run.
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"prakerja-test-{os.getpid()}")
os.environ.setdefault("WAITING_ROOM_KEY_PREFIX", f"prakerja-test-{os.getpid()}:waiting-room")

"""Transaction-long PostgreSQL advisory locks, for rules no row can guard
(SQLite, the demo's database, runs one writer at a time anyway)."""

from django.db import connection


def advisory_xact_lock(key: int, subkey: int = 0, *, shared: bool = False) -> None:
    """Holds lock (key, subkey) until the transaction ends. Shared holders
    run side by side; an exclusive holder waits for them and they for it."""
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [key, subkey])

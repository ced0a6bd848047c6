"""How a ledger account names whose it is, in Python and in SQL: the one
place the naming lives. No Django imports, so the benchmarks that seed the
ledger with SQL use it too."""


def account_owner(owner_kind: str, pk: int) -> str:
    """``account_owner("institution", 3)`` is "institution:3"."""
    return f"{owner_kind}:{pk}"


def account_owner_sql(owner_kind: str, column: str) -> str:
    """The same name built in SQL from ``column``, for set-based statements."""
    return f"'{owner_kind}:' || {column}"

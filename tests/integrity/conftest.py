"""Lists imported the way the PMO imports them (a CSV through the upload
service, the import task run after commit) and the officers who decide."""

import io

import pytest

from accounts import roles
from integrity.models import ScreeningList
from integrity.services.lists import screening_list_upload
from payments.gateway.standin import StandinGateway
from tests.catalog.test_catalog import world  # noqa: F401  (fixture)
from tests.enrollment.conftest import _english, card_holder, courses, ledger_ok, verified_participant  # noqa: F401
from tests.factories import make_staff


def csv_file(header: str, *lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join([header, *lines]) + "\n").encode())


@pytest.fixture
def officer():
    return make_staff(roles.PMO_KYC_REVIEWER)


@pytest.fixture
def import_list(committed, officer):
    """Imports a wage extract (``{participant: wage}``) or an education
    extract (``{participant: status}``) as the PMO would; returns the list."""

    def run(kind, rows: dict, *, month="2026-10", extra_lines=()):
        if kind == ScreeningList.Kind.WAGE:
            lines = [f"{p.nik},{wage},PT Sinar Jaya,{month}" for p, wage in rows.items()]
            upload = csv_file("nik,monthly_wage,employer,month", *lines, *extra_lines)
        else:
            lines = [f"{p.nik},{status},SMA Negeri 1 Bandung" for p, status in rows.items()]
            upload = csv_file("nik,status,institution", *lines, *extra_lines)
        made = committed(
            screening_list_upload, kind=kind, source="extract 2026-11", csv_file=upload, imported_by=officer
        )
        made.refresh_from_db()
        return made

    return run


@pytest.fixture
def bank(settings):
    """The gateway's stand-in on loopback, for its name inquiry: every
    account is held in the name asked about unless ``bank.holder(number,
    name)`` says otherwise (``None``: no such account)."""
    settings.XENDIT_SECRET_KEY = "xnd_development_tests"
    settings.XENDIT_TIMEOUT_SECONDS = 2
    gateway = StandinGateway(secret_key=settings.XENDIT_SECRET_KEY, callback_token="unused").start()
    settings.XENDIT_BASE_URL = gateway.url

    def holder(account_number, name="", **spec):
        if name != "":
            spec["holder_name"] = name
        with gateway.lock:
            gateway.holders[account_number] = spec

    gateway.holder = holder
    yield gateway
    gateway.stop()

"""Wage and education extracts: uploaded by the PMO in admin, imported by a
Celery task streaming the file in chunks (a wage extract runs to millions of
rows), stored as keyed hashes of the NIK, then every active card is
re-screened against the new list."""

import uuid
from datetime import date
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.utils.translation import gettext as _

from accounts import crypto, csvio
from accounts.models import User
from accounts.nik import compact_number, is_sixteen_digits
from prakerja.lifecycle import record_created, transition_many

from ..models import LIST_TRANSITIONS, ScreeningList, ScreeningRecord

COLUMNS = {
    ScreeningList.Kind.WAGE: ("nik", "monthly_wage", "employer", "month"),
    ScreeningList.Kind.EDUCATION: ("nik", "status", "institution"),
}
# What the registries write for someone still at school.
ACTIVE_PUPIL = frozenset({"active", "aktif"})
MAX_WAGE = 10_000_000_000


def screening_list_upload(*, kind: str, source: str, csv_file: BinaryIO, imported_by: User) -> ScreeningList:
    """Checks the CSV (encoding, header, the kind's columns) and queues its
    import as a new list."""
    from ..tasks import import_screening_list

    errors = {}
    if kind not in ScreeningList.Kind.values:
        errors["kind"] = [_("Choose the kind of list.")]
    source = (source or "").strip()
    if not source:
        errors["source"] = [_("Say where the list came from.")]
    elif len(source) > 200:
        errors["source"] = [_("Keep the source under 200 characters.")]
    if not errors:
        try:
            csvio.check(csv_file, COLUMNS[kind])
        except ValidationError as exc:
            errors["file"] = exc.error_list
    if errors:
        raise ValidationError(errors)
    csv_file.seek(0)
    with transaction.atomic():
        screening_list = ScreeningList(kind=kind, source=source, imported_by=imported_by)
        screening_list.upload.save(f"{uuid.uuid4().hex}.csv", File(csv_file), save=False)
        screening_list.save()
        record_created(screening_list, screening_list.status, by=imported_by, reason=source)
        transaction.on_commit(lambda: import_screening_list.delay(screening_list.pk))
    return screening_list


def _month(text: str) -> date | None:
    """2026-10, 2026-10-01, 10/2026 or 202610."""
    text = text.strip()
    for candidate in (text[:7], text):
        parts = candidate.replace("/", "-").split("-")
        try:
            if len(parts) == 2 and len(parts[0]) == 4:
                return date(int(parts[0]), int(parts[1]), 1)
            if len(parts) == 2 and len(parts[1]) == 4:
                return date(int(parts[1]), int(parts[0]), 1)
            if len(candidate) == 6 and candidate.isdigit():
                return date(int(candidate[:4]), int(candidate[4:]), 1)
        except ValueError:
            return None
    return None


def _wage(text: str) -> int | None:
    digits = text.replace(".", "").replace(",", "").replace("Rp", "").strip()
    if not digits.isdigit():
        return None
    value = int(digits)
    return value if value <= MAX_WAGE else None


def screening_list_import(*, list_id: int) -> bool:
    """Hashes and stores every row of an uploaded list; safe to run twice.
    Ends ready (True) or failed with the reason; a failed list holds no rows."""
    screening_list = ScreeningList.objects.get(pk=list_id)
    if screening_list.status != ScreeningList.Status.IMPORTING:
        return screening_list.status == ScreeningList.Status.READY
    skipped = 0
    kind = screening_list.kind

    def records(rows):
        nonlocal skipped
        for _line, row in rows:
            number = compact_number(row.get("nik", ""))
            if not is_sixteen_digits(number):
                skipped += 1
                continue
            record = ScreeningRecord(screening_list=screening_list, kind=kind, nik_index=crypto.nik_index(number))
            if kind == ScreeningList.Kind.WAGE:
                record.monthly_wage = _wage(row.get("monthly_wage", ""))
                record.month = _month(row.get("month", ""))
                if record.monthly_wage is None or record.month is None:
                    skipped += 1
                    continue
                record.organisation = row.get("employer", "")[:120]
            else:
                status = row.get("status", "").strip().lower()[:20]
                if not status:
                    skipped += 1
                    continue
                record.pupil_status = status
                record.active_pupil = status in ACTIVE_PUPIL
                record.organisation = row.get("institution", "")[:120]
            yield record

    error = csvio.import_rows(screening_list.upload, records, ScreeningRecord)
    if error:
        screening_list.records.all().delete()
    transition_many(
        ScreeningList,
        [screening_list.pk],
        from_status=ScreeningList.Status.IMPORTING,
        to=ScreeningList.Status.FAILED if error else ScreeningList.Status.READY,
        table=LIST_TRANSITIONS,
        reason=error or "imported",
        error=error[:500],
        row_count=0 if error else screening_list.records.count(),
        skipped_count=skipped,
        upload="",
    )
    screening_list.upload.delete(save=False)
    if not error and connection.vendor == "postgresql":
        # A million new rows: the re-screen that follows plans with fresh
        # statistics, not autovacuum's of some minutes later.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {ScreeningRecord._meta.db_table}")
    return not error


def screening_list_set_active(*, screening_list: ScreeningList, active: bool, by: User) -> None:
    from prakerja.lifecycle import record_change

    with transaction.atomic():
        locked = ScreeningList.objects.select_for_update().get(pk=screening_list.pk)
        if locked.is_active == active:
            return
        record_change(locked, "active", by=by, before={"active": locked.is_active}, after={"active": active})
        locked.is_active = active
        locked.save(update_fields=["is_active"])

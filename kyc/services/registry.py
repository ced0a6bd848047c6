"""Population registry extracts: upload and import, whole record sets."""

import datetime
import uuid
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import crypto, csvio
from accounts.models import User
from accounts.nik import compact_number, is_sixteen_digits
from prakerja.lifecycle import transition_many

from ..models import (
    REGISTRY_IMPORT_TRANSITIONS,
    KycSubmission,
    RegistryImport,
    RegistryRecord,
)
from ..tasks import import_registry_extract

Status = KycSubmission.Status


REGISTRY_COLUMNS = ("nik", "nama", "tanggal_lahir", "jenis_kelamin")
_GENDERS = {"l": "M", "laki-laki": "M", "m": "M", "p": "F", "perempuan": "F", "f": "F"}


def registry_extract_upload(*, source: str, csv_file: BinaryIO, imported_by: User) -> RegistryImport:
    """Checks a registry extract CSV and queues its import."""
    errors = {}
    source = (source or "").strip()
    if not source:
        errors["source"] = [_("Say where the extract came from.")]
    try:
        csvio.check(csv_file, REGISTRY_COLUMNS)
    except ValidationError as exc:
        errors["file"] = exc.error_list
    if errors:
        raise ValidationError(errors)
    csv_file.seek(0)
    with transaction.atomic():
        extract = RegistryImport(source=source[:200], imported_by=imported_by)
        extract.upload.save(f"{uuid.uuid4().hex}.csv", File(csv_file), save=False)
        extract.save()
        transaction.on_commit(lambda: import_registry_extract.delay(extract.pk))
    return extract


def _registry_rows(extract: RegistryImport, rows, counters: dict[str, int]):
    for _line, row in rows:
        number = compact_number(row["nik"])
        gender = _GENDERS.get(row["jenis_kelamin"].lower())
        try:
            born = datetime.date.fromisoformat(row["tanggal_lahir"])
        except ValueError:
            born = None
        name = " ".join(row["nama"].split())[:150]
        if not is_sixteen_digits(number) or gender is None or born is None or not name:
            counters["skipped"] += 1
            continue
        counters["records"] += 1
        yield RegistryRecord(
            nik_index=crypto.nik_index(number), full_name=name, birth_date=born, gender=gender, registry_import=extract
        )


def registry_extract_import(*, extract_id: int) -> None:
    """Imports an uploaded extract as a whole new set of records: until it
    is ready the previous extracts keep answering, and a failed one leaves
    no records. A NIK repeated in the file keeps its first row. Ends ready
    or failed; the uploaded file is deleted either way."""
    extract = RegistryImport.objects.get(pk=extract_id)
    if extract.status != RegistryImport.Status.IMPORTING:
        return
    counters = {"records": 0, "skipped": 0}
    error = csvio.import_rows(extract.upload, lambda rows: _registry_rows(extract, rows, counters), RegistryRecord)
    if error:
        extract.records.all().delete()
    transition_many(
        RegistryImport,
        [extract.pk],
        from_status=RegistryImport.Status.IMPORTING,
        to=RegistryImport.Status.FAILED if error else RegistryImport.Status.READY,
        table=REGISTRY_IMPORT_TRANSITIONS,
        reason=error or "imported",
        error=error[:500],
        record_count=0 if error else extract.records.count(),
        skipped_count=counters["skipped"],
        upload="",
    )
    extract.upload.delete(save=False)

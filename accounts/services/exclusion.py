"""PMO exclusion lists: NIKs that may not join, kept only as keyed hashes.

Lists run to millions of rows (civil servants alone are over four million),
so the admin's upload is only checked and stored; a Celery task imports it,
streaming, in chunks, and deletes the file. A list refuses registrations only
once its import is complete (status ready) and while it is active.
"""

import logging
import uuid
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from prakerja.lifecycle import transition_many

from .. import crypto, csvio
from ..models import IMPORT_TRANSITIONS, ExclusionEntry, ExclusionList, User
from ..nik import compact_number, is_sixteen_digits
from ..signals import exclusion_list_ready
from ..tasks import import_exclusion_list

logger = logging.getLogger(__name__)

_CHUNK_ROWS = 5000


def exclusion_list_upload(*, kind: str, source: str, csv_file: BinaryIO, imported_by: User) -> ExclusionList:
    """Checks a CSV with a ``nik`` column (encoding, header) and queues its
    import as a new list."""
    errors = {}
    if kind not in ExclusionList.Kind.values:
        errors["kind"] = [_("Choose the kind of list.")]
    source = (source or "").strip()
    if not source:
        errors["source"] = [_("Say where the list came from.")]
    try:
        csvio.check(csv_file, ("nik",))
    except ValidationError as exc:
        errors["file"] = exc.error_list
    if errors:
        raise ValidationError(errors)
    csv_file.seek(0)
    with transaction.atomic():
        exclusion_list = ExclusionList(kind=kind, source=source[:200], imported_by=imported_by)
        exclusion_list.upload.save(f"{uuid.uuid4().hex}.csv", File(csv_file), save=False)
        exclusion_list.save()
        transaction.on_commit(lambda: import_exclusion_list.delay(exclusion_list.pk))
    return exclusion_list


def exclusion_list_import(*, exclusion_list_id: int) -> None:
    """Hashes and stores every NIK of an uploaded list; safe to run twice
    (entries are unique per list). Ends ready, or failed with the reason."""
    exclusion_list = ExclusionList.objects.get(pk=exclusion_list_id)
    if exclusion_list.status != ExclusionList.Status.IMPORTING:
        return
    skipped = 0

    def entries(rows):
        nonlocal skipped
        for _line, row in rows:
            number = compact_number(row.get("nik", ""))
            if not is_sixteen_digits(number):
                skipped += 1
                continue
            yield ExclusionEntry(exclusion_list=exclusion_list, nik_index=crypto.nik_index(number))

    error = csvio.import_rows(exclusion_list.upload, entries, ExclusionEntry)
    if error:
        # A half-imported list must never refuse anyone.
        exclusion_list.entries.all().delete()
    transition_many(
        ExclusionList,
        [exclusion_list.pk],
        from_status=ExclusionList.Status.IMPORTING,
        to=ExclusionList.Status.FAILED if error else ExclusionList.Status.READY,
        table=IMPORT_TRANSITIONS,
        reason=error or "imported",
        error=error[:500],
        entry_count=0 if error else exclusion_list.entries.count(),
        skipped_count=skipped,
        upload="",
    )
    exclusion_list.upload.delete(save=False)
    if not error:
        exclusion_list_ready.send(sender=ExclusionList, exclusion_list_id=exclusion_list.pk)


def exclusion_list_set_active(*, exclusion_list: ExclusionList, active: bool) -> None:
    ExclusionList.objects.filter(pk=exclusion_list.pk).update(is_active=active)

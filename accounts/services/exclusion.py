"""PMO exclusion lists: NIKs that may not join, kept only as keyed hashes."""

import csv
from itertools import islice
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from stdnum.id import nik as stdnum_nik

from .. import crypto, csvio
from ..models import ExclusionEntry, ExclusionList, User

_CHUNK_ROWS = 5000


def exclusion_list_import(*, kind: str, source: str, csv_file: BinaryIO, imported_by: User) -> ExclusionList:
    """Imports a CSV with a ``nik`` column as one new list, all or nothing.

    Rows whose NIK is not 16 digits are skipped and counted; they could never
    match a registration. The file is streamed, so its size does not matter.
    """
    if kind not in ExclusionList.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of list.")})
    source = (source or "").strip()
    if not source:
        raise ValidationError({"source": _("Say where the list came from.")})
    csvio.check(csv_file, ("nik",))
    _header, rows = csvio.open_rows(csv_file)

    with transaction.atomic():
        exclusion_list = ExclusionList.objects.create(kind=kind, source=source[:200], imported_by=imported_by)
        skipped = 0

        def entries():
            nonlocal skipped
            for _line, row in rows:
                number = stdnum_nik.compact(row.get("nik", ""))
                if len(number) != 16 or not number.isdigit():
                    skipped += 1
                    continue
                yield ExclusionEntry(exclusion_list=exclusion_list, nik_index=crypto.nik_index(number))

        stream = entries()
        try:
            while batch := list(islice(stream, _CHUNK_ROWS)):
                ExclusionEntry.objects.bulk_create(batch, ignore_conflicts=True)
        except csv.Error as exc:
            raise ValidationError(_("The file is not valid CSV: %(error)s") % {"error": exc}) from None
        exclusion_list.entry_count = exclusion_list.entries.count()
        exclusion_list.skipped_count = skipped
        exclusion_list.save(update_fields=["entry_count", "skipped_count"])
    return exclusion_list


def exclusion_list_set_active(*, exclusion_list: ExclusionList, active: bool) -> None:
    ExclusionList.objects.filter(pk=exclusion_list.pk).update(is_active=active)

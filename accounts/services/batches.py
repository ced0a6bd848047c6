"""Offline registration by CSV (pendaftaran luring, unggah massal).

An operator uploads a file; it is checked whole (encoding, columns) before it
is accepted, then a Celery task registers its rows one by one, each in its own
transaction, and writes a per-row result file the operator can download.
Both passes stream the file, so memory does not grow with its size.
"""

import csv
import datetime
import io
import logging
import tempfile
import time
import uuid
from datetime import timedelta
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from prakerja.lifecycle import record_move, transition_many

from .. import crypto, csvio
from ..models import REGISTRATION_BATCH_TRANSITIONS, DinasOperator, Participant, RegistrationBatch, User
from ..nik import compact_number
from ..tasks import process_registration_batch
from .registration import ProfileInput, participant_register_offline

logger = logging.getLogger(__name__)

# Column of the CSV -> field of the registration form.
COLUMNS = {
    "nik": "nik",
    "no_kk": "kk_number",
    "nama_lengkap": "full_name",
    "tempat_lahir": "birth_place",
    "tanggal_lahir": "birth_date",
    "jenis_kelamin": "gender",
    "no_hp": "phone",
    "email": "email",
    "alamat": "address",
    "pendidikan": "education",
    "status_pekerjaan": "employment_status",
}
FIELD_TO_COLUMN = {field: column for column, field in COLUMNS.items()}

_GENDERS = {"l": "M", "laki-laki": "M", "m": "M", "p": "F", "perempuan": "F", "f": "F"}
_EDUCATION = {
    "tidak sekolah": "none",
    "smk": "sma",
    "d1": "diploma",
    "d2": "diploma",
    "d3": "diploma",
    "d4": "bachelor",
    "s1": "bachelor",
    "s2": "master",
    "s3": "doctorate",
    **{value: value for value in Participant.Education.values},
}
_EMPLOYMENT = {
    "belum bekerja": "unemployed",
    "tidak bekerja": "unemployed",
    "phk": "laid_off",
    "korban phk": "laid_off",
    "bekerja": "employed",
    "wirausaha": "self_employed",
    "lulusan baru": "student",
    **{value: value for value in Participant.Employment.values},
}
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")
STALE_AFTER = timedelta(minutes=10)
_PROGRESS_EVERY = 200
_BEAT_SECONDS = 30


def _parse_date(text: str) -> datetime.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def profile_from_row(row: dict[str, str]) -> tuple[str, ProfileInput, dict[str, str]]:
    """Turns a CSV row into (email, profile, errors in reading the row)."""
    errors = {}
    birth_date = _parse_date(row["tanggal_lahir"]) if row["tanggal_lahir"] else None
    if row["tanggal_lahir"] and birth_date is None:
        errors["birth_date"] = _("not a date; write it as YYYY-MM-DD, e.g. 1995-08-17")
    gender = _GENDERS.get(row["jenis_kelamin"].lower(), "")
    if row["jenis_kelamin"] and not gender:
        errors["gender"] = _("write L (laki-laki) or P (perempuan)")
    education = _EDUCATION.get(row["pendidikan"].lower(), "")
    if row["pendidikan"] and not education:
        errors["education"] = _("unknown value; use SD, SMP, SMA, SMK, D1-D4, S1, S2, S3 or tidak sekolah")
    employment = _EMPLOYMENT.get(row["status_pekerjaan"].lower(), "")
    if row["status_pekerjaan"] and not employment:
        errors["employment_status"] = _("unknown value; use belum bekerja, phk, bekerja, wirausaha or lulusan baru")
    profile = ProfileInput(
        full_name=row["nama_lengkap"],
        nik=row["nik"],
        kk_number=row["no_kk"],
        birth_place=row["tempat_lahir"],
        birth_date=birth_date,
        gender=gender,
        phone=row["no_hp"],
        address=row["alamat"],
        education=education,
        employment_status=employment,
    )
    return row["email"], profile, errors


def describe(error: ValidationError) -> str:
    """One line naming each CSV column at fault and why."""
    if not hasattr(error, "error_dict"):
        return "; ".join(str(m) for m in error.messages)
    parts = []
    for field, errors in error.error_dict.items():
        column = FIELD_TO_COLUMN.get(field, field)
        for item in errors:
            parts.append(f"{column}: {'; '.join(str(m) for m in item.messages)}")
    return "; ".join(parts)


def _operator_office(operator: User) -> DinasOperator:
    office = DinasOperator.objects.filter(user=operator).first()
    if office is None or not operator.has_perm("accounts.register_offline"):
        raise ValidationError(
            _("Only Dinas operators can register people on their behalf."),
            code="not_operator",
        )
    return office


def registration_batch_create(*, operator: User, uploaded_file: BinaryIO, file_name: str) -> RegistrationBatch:
    """Checks an uploaded CSV and queues it for registration."""
    office = _operator_office(operator)
    if not file_name.lower().endswith(".csv"):
        raise ValidationError({"file": _("Upload a .csv file.")})
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > settings.REGISTRATION_CSV_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file is larger than %(mb)d MB; split it into smaller files.")
                % {"mb": settings.REGISTRATION_CSV_MAX_BYTES // (1024 * 1024)}
            }
        )
    try:
        rows = csvio.check(uploaded_file, tuple(COLUMNS))
    except ValidationError as exc:
        raise ValidationError({"file": exc.error_list}) from None
    uploaded_file.seek(0)
    with transaction.atomic():
        batch = RegistrationBatch(
            operator=operator,
            province_code=office.province_code,
            original_name=file_name[-255:],
            rows_total=rows,
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        batch.source.save(f"{uuid.uuid4().hex}.csv", File(uploaded_file), save=False)
        batch.save()

        transaction.on_commit(lambda: process_registration_batch.delay(batch.pk))
    return batch


def _claim(batch_id: int) -> tuple[RegistrationBatch, bool] | str:
    """Marks the batch as being processed by this task and says whether an
    earlier run had started it; "done" if it is finished, "busy" if another
    live task holds it."""
    now = timezone.now()
    with transaction.atomic():
        batch = RegistrationBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status in (
            RegistrationBatch.Status.DONE,
            RegistrationBatch.Status.FAILED,
        ):
            return "done"
        if (
            batch.status == RegistrationBatch.Status.PROCESSING
            and batch.heartbeat_at
            and now - batch.heartbeat_at < STALE_AFTER
        ):
            return "busy"
        resumed = batch.status == RegistrationBatch.Status.PROCESSING
        if not resumed:
            record_move(batch, RegistrationBatch.Status.PROCESSING, table=REGISTRATION_BATCH_TRANSITIONS)
        batch.heartbeat_at = now
        batch.save(update_fields=["status", "heartbeat_at"])
    return batch, resumed


def _register_row(batch: RegistrationBatch, line: int, row: dict[str, str], resumed: bool) -> tuple[bool, str]:
    email, profile, read_errors = profile_from_row(row)
    if read_errors:
        return False, "; ".join(f"{FIELD_TO_COLUMN[f]}: {m}" for f, m in read_errors.items())
    # A resumed run finds the rows an earlier run registered before it stopped.
    if resumed and Participant.objects.filter(registration_batch=batch, registration_batch_line=line).exists():
        return True, ""
    try:
        participant_register_offline(operator=batch.operator, email=email, profile=profile, batch=(batch, line))
    except ValidationError as exc:
        return False, describe(exc)
    return True, ""


def registration_batch_process(*, batch_id: int) -> str:
    """Registers every row of a queued batch; safe to run twice. Returns
    "done", or "busy" when another run is still at work on it.

    However it ends, the batch is finished (done, or failed with the reason
    and the rows registered before it stopped), the per-row result is saved,
    and the uploaded file, which holds NIKs and KK numbers in clear, is
    deleted: only the masked result stays.
    """
    claim = _claim(batch_id)
    if isinstance(claim, str):
        return claim
    batch, resumed = claim
    registered = refused = 0
    last_line = 1
    error = ""
    last_beat = time.monotonic()
    with (
        translation.override(batch.language),
        batch.source.open("rb") as source,
        tempfile.TemporaryFile() as out,
    ):
        text_out = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        writer = csv.writer(text_out)
        writer.writerow([_("line"), "nik", _("name"), _("result"), _("reason")])
        try:
            _header, rows = csvio.open_rows(source)
            for line, row in rows:
                last_line = line
                ok, reason = _register_row(batch, line, row, resumed)
                registered += ok
                refused += not ok
                masked = crypto.mask(compact_number(row["nik"])) if row["nik"] else ""
                writer.writerow(
                    [
                        line,
                        csvio.safe_cell(masked),
                        csvio.safe_cell(row["nama_lengkap"]),
                        _("registered") if ok else _("refused"),
                        csvio.safe_cell(reason),
                    ]
                )
                if (registered + refused) % _PROGRESS_EVERY == 0 or time.monotonic() - last_beat > _BEAT_SECONDS:
                    last_beat = time.monotonic()
                    RegistrationBatch.objects.filter(pk=batch.pk).update(
                        rows_registered=registered,
                        rows_refused=refused,
                        heartbeat_at=timezone.now(),
                    )
        except (csv.Error, ValidationError) as exc:
            error = _("The file could not be read after line %(line)d: %(error)s") % {
                "line": last_line,
                "error": exc.messages[0] if isinstance(exc, ValidationError) else exc,
            }
            logger.warning("registration batch %s stopped: %s", batch.pk, type(exc).__name__)
        except Exception:
            # Whatever broke (the database, the broker), the operator must see
            # the batch end and know which rows are in.
            error = _(
                "Registration stopped at line %(line)d because of a system error. The rows before it "
                "are registered (see the result); upload the remaining rows again later."
            ) % {"line": last_line}
            logger.exception("registration batch %s failed", batch.pk)
        text_out.flush()
        out = text_out.detach()
        out.seek(0)
        batch.result.save(f"{uuid.uuid4().hex}.csv", File(out), save=False)
    transition_many(
        RegistrationBatch,
        [batch.pk],
        from_status=RegistrationBatch.Status.PROCESSING,
        to=RegistrationBatch.Status.FAILED if error else RegistrationBatch.Status.DONE,
        table=REGISTRATION_BATCH_TRANSITIONS,
        reason=error or "done",
        result=batch.result.name,
        source="",
        rows_registered=registered,
        rows_refused=refused,
        error=error[:500],
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    batch.source.delete(save=False)
    return "done"

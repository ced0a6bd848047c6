"""Offline registration by CSV (pendaftaran luring, unggah massal).

An operator uploads a file; it is checked whole (encoding, columns) before it
is accepted. Then a Celery task cuts it into chunks of
``REGISTRATION_BATCH_CHUNK`` rows, and one task per chunk, which the bulk
workers run side by side, checks and registers its rows together (a few
queries and one transaction for the chunk, the same answers as one at a
time). The last chunk to finish writes the per-row result file the operator
downloads. Every pass streams, so memory does not grow with the file's size.
"""

import csv
import datetime
import io
import logging
import tempfile
import uuid
from datetime import timedelta
from typing import BinaryIO

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from prakerja.lifecycle import record_move, transition_many

from .. import crypto, csvio
from ..models import (
    REGISTRATION_BATCH_TRANSITIONS,
    REGISTRATION_CHUNK_TRANSITIONS,
    DinasOperator,
    Participant,
    RegistrationBatch,
    RegistrationBatchChunk,
    User,
)
from ..nik import compact_number
from ..tasks import process_registration_batch, process_registration_chunk
from .registration import BulkConflict, ProfileInput, participant_register_offline, participants_register_offline_many

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


def _read_refusal(read_errors: dict[str, str]) -> str:
    return "; ".join(f"{FIELD_TO_COLUMN[f]}: {m}" for f, m in read_errors.items())


def _register_row(batch: RegistrationBatch, line: int, row: dict[str, str]) -> tuple[bool, str]:
    """One row on its own: the way when the bulk way met a concurrent
    registration."""
    email, profile, read_errors = profile_from_row(row)
    if read_errors:
        return False, _read_refusal(read_errors)
    try:
        participant_register_offline(operator=batch.operator, email=email, profile=profile, batch=(batch, line))
    except ValidationError as exc:
        return False, describe(exc)
    return True, ""


def _is_deadlock(exc: OperationalError) -> bool:
    return isinstance(exc.__cause__, psycopg.errors.DeadlockDetected)


def _register_rows(batch: RegistrationBatch, rows: list[tuple[int, dict[str, str]]], results: list) -> None:
    """Registers a chunk's rows and appends each one's result, in line
    order, to ``results``: all rows in one go, or, if a concurrent
    registration got in the way, one at a time with the same answers."""
    # A rerun (its worker died) finds the rows registered before.
    done = set(
        Participant.objects.filter(
            registration_batch=batch,
            registration_batch_line__gte=rows[0][0],
            registration_batch_line__lte=rows[-1][0],
        ).values_list("registration_batch_line", flat=True)
    )
    unreadable, pending = {}, []
    for line, row in rows:
        if line in done:
            continue
        email, profile, read_errors = profile_from_row(row)
        if read_errors:
            unreadable[line] = _read_refusal(read_errors)
        else:
            pending.append((line, email, profile))
    outcome = None
    try:
        outcome = participants_register_offline_many(operator=batch.operator, batch=batch, rows=pending)
    except (IntegrityError, BulkConflict):
        logger.info("registration batch %s: rows %s-%s one by one", batch.pk, rows[0][0], rows[-1][0])
    except OperationalError as exc:
        if not _is_deadlock(exc):
            raise
        logger.info("registration batch %s: rows %s-%s one by one after a deadlock", batch.pk, rows[0][0], rows[-1][0])
    for line, row in rows:
        if line in done:
            ok, reason = True, ""
        elif line in unreadable:
            ok, reason = False, unreadable[line]
        elif outcome is None:
            ok, reason = _register_row(batch, line, row)
        else:
            ok = isinstance(outcome[line], Participant)
            reason = "" if ok else describe(outcome[line])
        results.append(_result(line, row, ok, reason))


def _result(line: int, row: dict[str, str], ok: bool, reason: str) -> list:
    masked = crypto.mask(compact_number(row["nik"])) if row["nik"] else ""
    return [line, masked, row["nama_lengkap"], ok, reason]


def _chunk_file(batch: RegistrationBatch, number: int, rows: list[tuple[int, dict[str, str]]]) -> str:
    """Saves a chunk's rows, each with its line in the upload, and returns
    the file's name. The name is fixed by the batch and the chunk's number,
    so a rerun of an interrupted split overwrites what the first one left."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", *COLUMNS])
    for line, row in rows:
        writer.writerow([line, *(row.get(column, "") for column in COLUMNS)])
    storage = batch.source.storage
    name = f"{batch.source.name.rsplit('.', 1)[0]}-{number:05d}.csv"
    storage.delete(name)
    return storage.save(name, ContentFile(out.getvalue().encode("utf-8")))


def _split(batch: RegistrationBatch) -> list[int]:
    """Cuts the upload into chunks of ``REGISTRATION_BATCH_CHUNK`` rows, one
    streamed pass, and returns their ids. A line the reader cannot read ends
    the file there: the rows before it are registered and the batch fails
    with the reason."""
    size = settings.REGISTRATION_BATCH_CHUNK
    chunks: list[RegistrationBatchChunk] = []
    part: list[tuple[int, dict[str, str]]] = []
    last_line = 1
    error = ""

    def cut():
        chunks.append(
            RegistrationBatchChunk(
                batch=batch,
                number=len(chunks) + 1,
                first_line=part[0][0],
                last_line=part[-1][0],
                source=_chunk_file(batch, len(chunks) + 1, part),
            )
        )
        part.clear()

    with batch.source.open("rb") as source:
        try:
            _header, rows = csvio.open_rows(source)
            for line, row in rows:
                last_line = line
                part.append((line, row))
                if len(part) == size:
                    cut()
        except (csv.Error, ValidationError) as exc:
            error = _("The file could not be read after line %(line)d: %(error)s") % {
                "line": last_line,
                "error": exc.messages[0] if isinstance(exc, ValidationError) else exc,
            }
            logger.warning("registration batch %s stopped: %s", batch.pk, type(exc).__name__)
        if part:
            cut()
    with transaction.atomic():
        RegistrationBatchChunk.objects.bulk_create(chunks)
        RegistrationBatch.objects.filter(pk=batch.pk).update(error=error[:500], heartbeat_at=timezone.now())
    return [chunk.pk for chunk in chunks]


def registration_batch_process(*, batch_id: int) -> str:
    """Splits a queued batch into chunks and queues one task per chunk
    (``registration_chunk_process``); safe to run twice: a rerun queues
    again the chunks not finished. Returns "done", or "busy" when the batch
    is at work and was heard from lately (a rerun then waits until its
    claim is stale).

    The last chunk to finish finishes the batch: see ``_finish``.
    """
    claim = _claim(batch_id)
    if isinstance(claim, str):
        return claim
    batch, resumed = claim
    chunks = batch.chunks.exclude(status__in=_FINISHED)
    ids = list(chunks.values_list("pk", flat=True)) if resumed and batch.chunks.exists() else None
    if ids is None:
        with translation.override(batch.language):
            try:
                ids = _split(batch)
            except Exception:
                logger.exception("registration batch %s could not be split", batch.pk)
                error = _("Registration could not start because of a system error; upload the file again later.")
                RegistrationBatch.objects.filter(pk=batch.pk).update(error=error)
                ids = []
    # Not on commit: the chunks are committed already, and a caller's own
    # transaction (a test's) would never let them go.
    for chunk_id in ids:
        process_registration_chunk.delay(chunk_id)
    if not ids:
        _finish(batch.pk)
    return "done"


_FINISHED = (RegistrationBatchChunk.Status.DONE, RegistrationBatchChunk.Status.FAILED)


def _claim_chunk(chunk_id: int) -> RegistrationBatchChunk | str:
    now = timezone.now()
    with transaction.atomic():
        chunk = RegistrationBatchChunk.objects.select_for_update().select_related("batch__operator").get(pk=chunk_id)
        if chunk.status in _FINISHED:
            return "done"
        if chunk.status == RegistrationBatchChunk.Status.PROCESSING:
            if chunk.heartbeat_at and now - chunk.heartbeat_at < STALE_AFTER:
                return "busy"
        else:
            record_move(chunk, RegistrationBatchChunk.Status.PROCESSING, table=REGISTRATION_CHUNK_TRANSITIONS)
        chunk.heartbeat_at = now
        chunk.save(update_fields=["status", "heartbeat_at"])
    return chunk


def registration_chunk_process(*, chunk_id: int) -> str:
    """Registers one chunk's rows and records their results; safe to run
    twice. Returns "done", or "busy" when another live run holds it.

    A system error (the database gone) ends the chunk failed: its rows from
    the one that broke are reported not registered, and the batch fails."""
    claim = _claim_chunk(chunk_id)
    if isinstance(claim, str):
        return claim
    chunk = claim
    batch = chunk.batch
    results: list = []
    error = ""
    rows: list[tuple[int, dict[str, str]]] = []
    with translation.override(batch.language):
        try:
            with chunk.source.open("rb") as source:
                rows = [(int(row["line"]), row) for _line, row in csvio.open_rows(source)[1]]
            _register_rows(batch, rows, results)
        except Exception:
            logger.exception("registration batch %s: chunk %s failed", batch.pk, chunk.number)
            first = rows[len(results)][0] if len(results) < len(rows) else chunk.first_line
            error = _(
                "Because of a system error, lines %(first)d to %(last)d were not registered (see the result); "
                "upload those rows again later."
            ) % {"first": first, "last": chunk.last_line}
            not_done = _("not registered because of a system error; upload this row again later")
            results += [_result(line, row, False, not_done) for line, row in rows[len(results) :]]
    registered = sum(1 for r in results if r[3])
    with transaction.atomic():
        transition_many(
            RegistrationBatchChunk,
            [chunk.pk],
            from_status=RegistrationBatchChunk.Status.PROCESSING,
            to=RegistrationBatchChunk.Status.FAILED if error else RegistrationBatchChunk.Status.DONE,
            table=REGISTRATION_CHUNK_TRANSITIONS,
            reason=error or "done",
            results=results,
            rows_registered=registered,
            rows_refused=len(results) - registered,
            error=error[:500],
        )
        RegistrationBatch.objects.filter(pk=batch.pk).update(
            rows_registered=F("rows_registered") + registered,
            rows_refused=F("rows_refused") + len(results) - registered,
            heartbeat_at=timezone.now(),
        )
    _finish(batch.pk)
    return "done"


def registration_chunks_requeue() -> int:
    """Queues again each chunk whose run died without a word (its claim is
    stale) or that was never taken while its batch went quiet; a chunk
    already taken answers "busy" or "done". Returns how many (beat, every
    15 minutes)."""
    stale = timezone.now() - STALE_AFTER
    ids = list(
        RegistrationBatchChunk.objects.filter(
            Q(status=RegistrationBatchChunk.Status.PROCESSING, heartbeat_at__lt=stale)
            | Q(status=RegistrationBatchChunk.Status.QUEUED, batch__heartbeat_at__lt=stale)
        ).values_list("pk", flat=True)
    )
    for chunk_id in ids:
        process_registration_chunk.delay(chunk_id)
    if ids:
        logger.warning("registration batch chunks queued again: %s", len(ids))
    return len(ids)


def _finish(batch_id: int) -> None:
    """Once every chunk has finished: writes the result file from the
    chunks' results, in line order, one chunk in memory at a time, and ends
    the batch done, or failed with the reasons. The upload and its chunks,
    which hold NIKs and KK numbers in clear, are deleted: only the masked
    result stays."""
    with transaction.atomic():
        batch = RegistrationBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != RegistrationBatch.Status.PROCESSING or batch.chunks.exclude(status__in=_FINISHED).exists():
            return
        totals = batch.chunks.aggregate(registered=Sum("rows_registered"), refused=Sum("rows_refused"))
        errors = [batch.error, *batch.chunks.exclude(error="").values_list("error", flat=True)]
        error = " ".join(e for e in errors if e)
        with translation.override(batch.language), tempfile.TemporaryFile() as out:
            text_out = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
            writer = csv.writer(text_out)
            writer.writerow([_("line"), "nik", _("name"), _("result"), _("reason")])
            registered_text, refused_text = _("registered"), _("refused")
            for results in batch.chunks.order_by("number").values_list("results", flat=True).iterator(chunk_size=1):
                for line, masked, name, ok, reason in results:
                    writer.writerow(
                        [
                            line,
                            csvio.safe_cell(masked),
                            csvio.safe_cell(name),
                            registered_text if ok else refused_text,
                            csvio.safe_cell(reason),
                        ]
                    )
            text_out.flush()
            out = text_out.detach()
            out.seek(0)
            batch.result.save(f"{uuid.uuid4().hex}.csv", File(out), save=False)
        chunk_files = [name for name in batch.chunks.values_list("source", flat=True) if name]
        batch.chunks.update(results=[], source="")
        now = timezone.now()
        transition_many(
            RegistrationBatch,
            [batch.pk],
            from_status=RegistrationBatch.Status.PROCESSING,
            to=RegistrationBatch.Status.FAILED if error else RegistrationBatch.Status.DONE,
            table=REGISTRATION_BATCH_TRANSITIONS,
            reason=error[:500] or "done",
            result=batch.result.name,
            source="",
            rows_registered=totals["registered"] or 0,
            rows_refused=totals["refused"] or 0,
            error=error[:500],
            finished_at=now,
            heartbeat_at=now,
        )
    storage = batch.source.storage
    for name in chunk_files:
        storage.delete(name)
    batch.source.delete(save=False)

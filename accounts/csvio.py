"""Reading uploaded CSV files as a stream: a row at a time, whatever the size.

Excel in Indonesian locales writes semicolons and often a byte-order mark;
both are accepted. Anything that is not UTF-8 text is refused up front with a
message that says how to save the file properly.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_CHUNK = 64 * 1024
# No real row comes near this; a longer one is an attack on memory.
MAX_LINE = 16 * 1024


def _not_utf8() -> ValidationError:
    return ValidationError(
        _('The file is not UTF-8 text. In Excel choose Save As, then "CSV UTF-8 (Comma delimited)".'),
        code="csv_encoding",
    )


def _sniff_delimiter(header_line: str) -> str:
    return ";" if header_line.count(";") > header_line.count(",") else ","


class _BorrowedText(io.TextIOWrapper):
    """Reads a binary file as text without closing it when dropped: the
    caller owns the file and may read it again."""

    def close(self):
        pass


def _text(binary: BinaryIO) -> io.TextIOWrapper:
    binary.seek(0)
    return _BorrowedText(binary, encoding="utf-8-sig", newline="")


def _line_too_long(line_number: int) -> ValidationError:
    return ValidationError(
        _("Line %(line)d of the file is longer than %(limit)d characters; this is not a registration CSV.")
        % {"line": line_number, "limit": MAX_LINE},
        code="csv_line_too_long",
    )


def _lines(text: io.TextIOWrapper, first_line_number: int = 1) -> Iterator[str]:
    """The file's lines, each read with a cap so one endless line cannot
    fill memory."""
    number = first_line_number
    while line := text.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE:
            raise _line_too_long(number)
        yield line
        number += 1


def check(binary: BinaryIO, required: tuple[str, ...]) -> int:
    """Reads the whole file once, in chunks, and returns its number of data
    rows; raises ValidationError on a wrong encoding, a binary file, a missing
    header or missing columns."""
    binary.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    while chunk := binary.read(_CHUNK):
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError:
            raise _not_utf8() from None
        if "\x00" in text:
            raise ValidationError(_("This is not a CSV file."), code="csv_binary")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _not_utf8() from None

    header, rows = open_rows(binary)
    missing = [name for name in required if name not in header]
    if missing:
        raise ValidationError(
            _("The file lacks these columns: %(missing)s. The first row must name the columns.")
            % {"missing": ", ".join(missing)},
            code="csv_columns",
        )
    try:
        count = sum(1 for _line, _row in rows)
    except csv.Error as exc:
        raise ValidationError(
            _("The file is not valid CSV: %(error)s") % {"error": exc},
            code="csv_invalid",
        ) from None
    if count == 0:
        raise ValidationError(_("The file has a header but no rows."), code="csv_empty")
    return count


def open_rows(
    binary: BinaryIO,
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Returns the header (lower-cased column names) and an iterator of
    (line number, row) with values stripped. Blank lines are skipped; a line
    over MAX_LINE characters raises ValidationError."""
    text = _text(binary)
    first = text.readline(MAX_LINE + 1)
    if len(first) > MAX_LINE:
        raise _line_too_long(1)
    if not first.strip():
        raise ValidationError(_("The file is empty."), code="csv_empty")
    delimiter = _sniff_delimiter(first)
    header = [name.strip().lower() for name in next(csv.reader([first], delimiter=delimiter))]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        reader = csv.reader(_lines(text, first_line_number=2), delimiter=delimiter)
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            row = {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(header)}
            yield reader.line_num + 1, row

    return header, rows()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A value to write into a CSV a person will open in a spreadsheet: text
    that would start a formula is prefixed with ' so it stays text (CSV
    injection), and overlong text is cut."""
    text = str(value)[:300]
    return "'" + text if text.startswith(_FORMULA_START) else text


def import_rows(upload, build, model, *, chunk_rows: int = 5000) -> str:
    """Streams an uploaded CSV into ``model`` rows, in chunks: ``build`` turns
    the (line, row) pairs into model instances. Returns "" on success, or the
    reason it stopped (the caller removes what was inserted)."""
    import logging
    from itertools import islice

    try:
        with upload.open("rb") as source:
            _header, rows = open_rows(source)
            stream = build(rows)
            while chunk := list(islice(stream, chunk_rows)):
                model.objects.bulk_create(chunk, ignore_conflicts=True)
    except (csv.Error, ValidationError) as exc:
        return exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
    except Exception:
        logging.getLogger(__name__).exception("import of %s stopped", model.__name__)
        return _("The import stopped because of a system error; upload the file again.")
    return ""

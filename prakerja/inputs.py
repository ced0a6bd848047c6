"""What every page and endpoint accepts as a number, an id or a date.

- Digits are ASCII after normalising: a decimal digit of another script
  (Arabic-Indic ٣, full-width ３) is converted, and anything else that
  ``str.isdigit()`` would take (superscripts ¹²³, circled ①) is refused.
- An id is a positive integer that fits the database's bigint; 31 digits is
  not a missing row but a refused parameter.
- A date or time lies between 2000 and 2100: a year-1 cut-off would overflow
  PostgreSQL's timestamp once moved to UTC.
- Sixteen digits with any separators between them (the shape of a NIK or KK)
  never belong in a URL or a log.
"""

import datetime
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_ID = 2**63 - 1  # BigAutoField
EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2100, 1, 1)


def ascii_digits(value: str) -> str:
    """``value`` with every decimal digit of any script as its ASCII digit;
    other characters are left as they are (so superscripts stay, and fail an
    ``is_ascii_number`` check)."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in value or "")


def is_ascii_number(value: str) -> bool:
    return bool(value) and value.isascii() and value.isdigit()


def parse_id(value) -> int | None:
    """A database id from a URL or form value, or None."""
    text = ascii_digits(str(value if value is not None else "").strip())
    if not is_ascii_number(text) or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def check_moment(value) -> None:
    """A validator for dates and times people type: 2000 to 2100."""
    if value is None:
        return
    day = value.date() if isinstance(value, datetime.datetime) else value
    if not EARLIEST <= day < LATEST:
        raise ValidationError(
            _("Enter a date between %(earliest)s and %(latest)s."),
            code="date_range",
            params={"earliest": EARLIEST.year, "latest": LATEST.year - 1},
        )


# Sixteen digits joined by at most three separator characters (punctuation,
# spaces, or a %XX escape) at each step. A run is taken whole: a longer number,
# a timestamp or a float's decimals have more than 16 digits and are left alone,
# unless a space splits off a part that has exactly 16.
_SEPARATOR = r"(?:%[0-9A-Fa-f]{2}|[^0-9A-Za-z\n\r])"
_DIGIT_RUN = re.compile(rf"(?:(?<=%[0-9A-Fa-f]{{2}})|(?<!\d))\d(?:{_SEPARATOR}{{0,3}}\d)*")
_DIGIT = re.compile(r"\d")
_WHITESPACE_SEPARATOR = re.compile(rf"\d((?:{_SEPARATOR}{{0,3}}))(?=\d)")


def _digits(text: str) -> int:
    """How many digits ``text`` holds, not counting those of %XX escapes."""
    return len(_DIGIT.findall(re.sub(r"%[0-9A-Fa-f]{2}", " ", text)))


def _parts(run: str) -> list[tuple[int, int]]:
    """The spans of ``run`` between separators that hold whitespace."""
    spans, start = [], 0
    for match in _WHITESPACE_SEPARATOR.finditer(run):
        separator = match.group(1)
        if any(ch.isspace() for ch in separator) or "%20" in separator or "+" in separator:
            spans.append((start, match.start(1)))
            start = match.end(1)
    spans.append((start, len(run)))
    return spans


def identity_number_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds something shaped like a NIK or KK: a run of 16
    digits, or consecutive space-separated parts of a longer run that hold 16
    between them ("row 5: 3201 2345 6789 0123")."""
    found = []
    for match in _DIGIT_RUN.finditer(text):
        run = match.group(0)
        if _digits(run) == 16:
            found.append(match.span())
            continue
        parts = _parts(run)
        counts = [_digits(run[start:end]) for start, end in parts]
        i = 0
        while i < len(parts):
            total, j = 0, i
            while j < len(parts) and total < 16:
                total += counts[j]
                j += 1
            if total == 16:
                found.append((match.start() + parts[i][0], match.start() + parts[j - 1][1]))
                i = j
            else:
                i += 1
    return found


def has_identity_number(text: str) -> bool:
    text = ascii_digits(text)
    return bool(identity_number_spans(text))


def redact_identity_numbers(text: str) -> str:
    spans = identity_number_spans(text)
    for start, end in reversed(spans):
        text = text[:start] + "[REDACTED]" + text[end:]
    return text


def field_refusal(field: str, message, code: str) -> ValidationError:
    """A refusal about one field that keeps its code (Django drops the code
    given beside a dict of messages): the API reports it, forms show it.
    ``message`` may be the messages of another refusal."""
    if isinstance(message, list | tuple):
        message = " ".join(str(part) for part in message)
    return ValidationError({field: ValidationError(message, code=code)})

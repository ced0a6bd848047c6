"""Keep identity numbers out of every log line."""

import logging

from prakerja.inputs import redact_identity_numbers


def redact(text: str) -> str:
    """Sixteen digits, whatever separates them, become [REDACTED]
    (``prakerja.inputs`` says which runs count)."""
    return redact_identity_numbers(text)


class RedactIdentityNumbers(logging.Filter):
    """Masks any 16-digit number in the rendered message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


class RedactingFormatter(logging.Formatter):
    """Also masks what a filter cannot see: the traceback and stack info a
    formatter appends after filtering."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))

"""Keep identity numbers out of every log line."""

import logging
import re

# NIK and KK are 16 digits; card and account numbers look alike and are no
# business of a log either. People type them with spaces, dashes or dots,
# and a URL carries a space as + or %20; a digit run is taken whole, so a
# longer number (or the decimals of a float) is left alone.
_SIXTEEN_DIGITS = re.compile(r"(?<!\d)(?<!\d\.)(?:\d(?:[ .+\-]|%20)?){15}\d(?!\d)")


def redact(text: str) -> str:
    return _SIXTEEN_DIGITS.sub("[REDACTED]", text)


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

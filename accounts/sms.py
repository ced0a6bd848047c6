"""Sending SMS, behind a small interface so a provider can be plugged in.

settings.SMS_BACKEND names the class. ConsoleSmsSender prints (the demo);
MemorySmsSender keeps messages in ``outbox`` for tests to read.
"""

import json
import sys
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class SmsSender(Protocol):
    def send(self, *, to: str, body: str) -> None:
        """Delivers ``body`` to the E.164 number ``to``; raises on failure."""


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


outbox: list[SmsMessage] = []


class MemorySmsSender:
    def send(self, *, to: str, body: str) -> None:
        outbox.append(SmsMessage(to=to, body=body))


class ConsoleSmsSender:
    """Prints each SMS; with settings.SMS_COPY_FILE (outside production) also
    appends it there as a JSON line, so the demo's partner script and the
    API benchmark can read the code a participant would get."""

    def send(self, *, to: str, body: str) -> None:
        sys.stdout.write(f"[SMS to {to}] {body}\n")
        sys.stdout.flush()
        if settings.SMS_COPY_FILE and not settings.PRODUCTION:
            with open(settings.SMS_COPY_FILE, "a", encoding="utf-8") as copy:
                copy.write(json.dumps({"to": to, "body": body}) + "\n")


def get_sender() -> SmsSender:
    return import_string(settings.SMS_BACKEND)()

"""Sending SMS, behind a small interface so a provider can be plugged in.

settings.SMS_BACKEND names the class. ConsoleSmsSender prints (the demo);
MemorySmsSender keeps messages in ``outbox`` for tests to read.
"""

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
    def send(self, *, to: str, body: str) -> None:
        sys.stdout.write(f"[SMS to {to}] {body}\n")
        sys.stdout.flush()


def get_sender() -> SmsSender:
    return import_string(settings.SMS_BACKEND)()

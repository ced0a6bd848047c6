"""The population registry (Dukcapil) check, behind a small interface.

``RegistryClient.lookup(nik)`` returns the name, birth date and gender the
registry holds, or None. The client used here reads the extract PMO staff
import in admin; a client for Dukcapil's web service can replace it through
settings.KYC_REGISTRY_CLIENT.
"""

import datetime
import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from accounts import crypto


@dataclass(frozen=True)
class RegistryPerson:
    full_name: str
    birth_date: datetime.date
    gender: str  # "M" or "F"


class RegistryClient(Protocol):
    def is_configured(self) -> bool:
        """False when there is nothing to check against."""

    def lookup(self, nik: str) -> RegistryPerson | None: ...


class ImportedExtractRegistry:
    def is_configured(self) -> bool:
        from .models import RegistryImport

        return RegistryImport.objects.filter(status=RegistryImport.Status.READY).exists()

    def lookup(self, nik: str) -> RegistryPerson | None:
        from .models import RegistryImport, RegistryRecord

        record = (
            RegistryRecord.objects.filter(
                nik_index=crypto.nik_index(nik), registry_import__status=RegistryImport.Status.READY
            )
            .order_by("-registry_import__imported_at", "-registry_import_id")
            .only("full_name", "birth_date", "gender")
            .first()
        )
        if record is None:
            return None
        return RegistryPerson(full_name=record.full_name, birth_date=record.birth_date, gender=record.gender)


def get_registry() -> RegistryClient | None:
    path = settings.KYC_REGISTRY_CLIENT
    return import_string(path)() if path else None


def _normal(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    return " ".join(re.sub(r"[^A-Z ]", " ", text).split())


def names_match(entered: str, registered: str) -> bool:
    """Equal but for case, spacing, punctuation, accents and small spelling
    differences inside a word (MUHAMAD / MUHAMMAD, AMINAH / AMINA). Each word
    is compared with its counterpart, so a different name that merely looks
    alike as a whole (ROHMAN / RAHMAT, FAUZI / FAUZAN) does not pass."""
    a, b = _normal(entered), _normal(registered)
    if not a or not b:
        return False
    if a.replace(" ", "") == b.replace(" ", ""):
        return True
    words_a, words_b = a.split(), b.split()
    if len(words_a) != len(words_b):
        return False
    return all(_word_match(x, y) for x, y in zip(words_a, words_b, strict=True))


def _word_match(a: str, b: str) -> bool:
    if a == b:
        return True
    # One letter added, dropped or doubled, in words long enough to carry it.
    if min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 1:
        return False
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.9

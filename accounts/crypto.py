"""Encryption at rest and blind indexes for NIK and KK (UU 27/2022).

Values are encrypted with Fernet (AES-128-CBC with HMAC-SHA256) so a raw row
holds no identity number in clear. Because Fernet is randomised, equality
search goes through a blind index: an HMAC-SHA256 of the normalised number
under a separate key, stored beside the ciphertext.
"""

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt identity field: wrong key or damaged value") from exc


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed hash for exact lookup; ``purpose`` keeps NIK and KK indexes apart."""
    key = settings.BLIND_INDEX_KEY.encode()
    message = f"{purpose}:{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def nik_index(nik: str) -> str:
    return blind_index(nik, purpose="nik")


def kk_index(kk: str) -> str:
    return blind_index(kk, purpose="kk")


def mask(number: str) -> str:
    """First four and last four digits shown, the rest hidden."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]

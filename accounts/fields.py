"""A model field that stores its value encrypted (see accounts.crypto)."""

from django.db import models

from . import crypto


class EncryptedCharField(models.TextField):
    """Text encrypted at rest; decrypted when loaded. Not searchable: pair it
    with a blind index column for lookups."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)

    def get_lookup(self, lookup_name):
        # Ciphertext is randomised: any comparison would silently never match.
        if lookup_name not in {"isnull"}:
            return None
        return super().get_lookup(lookup_name)

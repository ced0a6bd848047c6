"""Password hashing (issue 16: registration day).

Argon2id at OWASP's recommended minimum (Password Storage Cheat Sheet:
19 MiB of memory, 2 iterations, 1 degree of parallelism). Django's default,
PBKDF2-SHA256 at 1,000,000 iterations, costs several times more CPU per
sign-up and log-in (``bench/password_hashing.py`` measures both in one run);
it stays in ``PASSWORD_HASHERS`` to verify the hashes made before, each of
which Django replaces with an Argon2id hash at the person's next log-in.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Django's Argon2 hasher (argon2id, via argon2-cffi) with OWASP's
    parameters; a hash made with other parameters is updated at log-in."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

"""Password hashing with argon2id (OWASP parameters)."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # longer inputs are refused before hashing (CPU exhaustion)

# OWASP's argon2id profile (19 MiB, 2 passes, 1 lane): about 0.16 s per hash on the 2-core
# reference machine. argon2-cffi's default (64 MiB, 3 passes, 4 lanes) took 1.15 s there, which
# turns the login form into a CPU-exhaustion target; the rate limit caps the rest.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the user does not exist, so that the time taken does not tell
# whether a username exists.
_DUMMY_HASH = _hasher.hash("bolo-dummy-password-for-timing")


def hash_password(password: str) -> str:
    """The argon2id encoded hash of ``password`` (salted; safe to store)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"password longer than {MAX_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when ``password`` matches ``password_hash``; False for a mismatch, a missing or a
    malformed hash. Takes about as long whether or not the hash exists."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    if password_hash is None:
        # The dummy check only spends the time a real one would; its result does not matter.
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash at next login)."""
    return _hasher.check_needs_rehash(password_hash)


def check_password_policy(password: str) -> None:
    """Raise ValueError when ``password`` is too short or too long to be accepted."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password may have at most {MAX_PASSWORD_LENGTH} characters")

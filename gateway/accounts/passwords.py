"""Passwords: Argon2id (memory-hard), so a copied database does not give guards' passwords away."""

from __future__ import annotations

import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are RFC 9106's second recommended option: Argon2id, 64 MiB, 3 passes,
# 4 lanes. About 0.2 s on a Raspberry Pi 4, which is fine for a login and costly for a guesser.
_HASHER = PasswordHasher()

MIN_LENGTH = 8
MAX_LENGTH = 128
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,31}$")


def password_refusal(username: str, password: str) -> tuple[str, str] | None:
    """Why a new password is refused and what to choose instead, or None. Length is what matters;
    no composition rules."""
    passphrase = "(a passphrase of a few words)"
    if len(password) < MIN_LENGTH:
        return (
            f"the password needs at least {MIN_LENGTH} characters",
            f"choose a longer password {passphrase}",
        )
    if len(password) > MAX_LENGTH:
        return (
            f"the password may have at most {MAX_LENGTH} characters",
            f"choose a shorter password (a few words, at most {MAX_LENGTH} characters)",
        )
    if password.strip().lower() == username.strip().lower():
        return (
            "the password must not be the user name",
            f"choose a password other than the user name {passphrase}",
        )
    return None


def username_problem(username: str) -> str | None:
    if not USERNAME.match(username):
        return "user names are 2-32 of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
    return None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _HASHER.hash("not a password anyone has")


def burn_time() -> None:
    """Spend what a real check costs, so a login for an unknown user answers no faster."""
    verify_password(_dummy_hash(), "wrong")

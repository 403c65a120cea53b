"""Passwords: Argon2id (memory-hard), so a copied database does not give guards' passwords away."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are RFC 9106's second recommended option: Argon2id, 64 MiB, 3 passes,
# 4 lanes. About 0.2 s on a Raspberry Pi 4, which is fine for a login and costly for a guesser.
_HASHER = PasswordHasher()

MIN_LENGTH = 8
MAX_LENGTH = 128
# Whole names only (fullmatch): `$` would match before a final newline, and "zhang\n" made so
# could never log in (the login strips what is typed), its name lost to the guard.
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,31}")


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


# The actors the gateway writes in the audit trail for itself, not for a person: `gateway` (a lane
# held again after a restart, a clock step put right: runtime/hand_lanes.py, store/redate.py),
# `central` (what the central server's snapshots, deltas and commands change: sync/) and `import`
# (an import not run from the CLI: store/admin.py). An account of such a name would be on record
# as the box or the centre. Accounts made so before this check keep working; only new ones are refused.
RESERVED_ACTORS = frozenset({"gateway", "central", "import"})


def username_problem(username: str) -> str | None:
    if not USERNAME.fullmatch(username):
        return (
            "user names are 2-32 of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit "
            "(a Chinese name goes in the display name)"
        )
    if username.lower() in RESERVED_ACTORS:
        kept = ", ".join(sorted(RESERVED_ACTORS))
        return (
            f"the user name {username!r} is kept for the audit trail's own entries ({kept}: "
            "the gateway itself, the central server, an import); a person's account needs another"
        )
    return None


def typed_username(typed: str) -> str:
    """A user name as typed at a login, read as the account's: a tablet's Chinese keyboard left in
    full-width mode types ｇｕａｒｄ１, its suggestion adds a space after the word. User names are
    ASCII without spaces (USERNAME), so NFKC and trimming cannot turn one into another's."""
    return unicodedata.normalize("NFKC", typed).strip()


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

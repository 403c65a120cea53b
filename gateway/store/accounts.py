"""Accounts, login sessions and API tokens in the store.

Session cookies and API tokens are random strings; only their SHA-256 is stored. They are long
random values, so a fast hash is enough (the memory-hard KDF is for passwords people choose).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from gateway.errors import Conflict, GatewayError, NotFound, Refused
from gateway.store.audit import audit, transaction
from gateway.store.shifts import mark_payments
from gateway.timefmt import CLOCK_ALARM, later, to_db
from gateway.typed import typed_text

Role = Literal["guard", "admin"]
TOKEN_PREFIX = "egw_"
# A new API token, as the admin page (TokenIn) and `gateway token add` both take it. Its name is the
# client's in the audit trail (`token:NAME`): one that names nothing (empty, blanks) is refused. Its
# life is counted in days from now: 3650 (ten years) is far from the dates Python can hold.
TOKEN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
TOKEN_NAME_LENGTH = (2, 40)
TOKEN_NAME_RULE = "2 to 40 letters, digits, '.', '_' or '-', the first a letter or digit"
TOKEN_DAYS = (1, 3650)
# An account's display name (显示名), the name on a lane's label and the audit trail's lines, as the
# store keeps it whoever sends it (the admin page, `gateway user add`): typed or pasted from WeChat,
# its invisible characters and the spaces round it go (typed_text), and it is 40 characters at most.
DISPLAY_NAME_LENGTH = 40


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    display_name: str
    role: Role
    language: str | None
    disabled: bool
    password_hash: str
    created_at: str = ""  # stored UTC text, as to_db writes it
    created_by: str = ""  # who made it: an admin, a token, or `gateway user add`'s cli:USER
    # Stored UTC text; None: never logged in (or not since migration 74 where the trail held none).
    last_login_at: str | None = None

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "language": self.language,
            "disabled": self.disabled,
        }


class AccountChanged(GatewayError):
    """A login's account changed (password, role, disabled) after its password was checked."""

    http_status, http_code = 401, "bad_login"


_ACCOUNT = (
    "SELECT id, username, display_name, role, language, disabled, password_hash, created_at, "
    "created_by, last_login_at FROM accounts"
)


def _account(row: Any) -> Account | None:
    if row is None:
        return None
    aid, username, display_name, role, language, disabled, password_hash, *made = row
    return Account(aid, username, display_name, role, language, bool(disabled), password_hash, *made)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_account(conn: sqlite3.Connection, username: str) -> Account | None:
    return _account(conn.execute(f"{_ACCOUNT} WHERE username = ?", (username,)).fetchone())


def get_account(conn: sqlite3.Connection, account_id: int) -> Account:
    account = _account(conn.execute(f"{_ACCOUNT} WHERE id = ?", (account_id,)).fetchone())
    if account is None:
        raise NotFound(f"no account {account_id}", fix="list accounts on the admin page")
    return account


def list_accounts(conn: sqlite3.Connection) -> list[Account]:
    return [a for a in map(_account, conn.execute(f"{_ACCOUNT} ORDER BY username")) if a]


def count_admins(conn: sqlite3.Connection) -> int:
    return int(
        conn.execute("SELECT count(*) FROM accounts WHERE role = 'admin' AND disabled = 0").fetchone()[0]
    )


def display_name_problem(display_name: str) -> str | None:
    """Why `display_name` cannot be an account's display name, or None."""
    shown = typed_text(display_name)
    if len(shown) <= DISPLAY_NAME_LENGTH:
        return None
    return f"the display name {shown[:12]!r}... has {len(shown)} characters; {DISPLAY_NAME_LENGTH} at most"


def _stored_display_name(display_name: str) -> str:
    problem = display_name_problem(display_name)
    if problem:
        raise Refused(
            problem,
            fix=f"shorten it to {DISPLAY_NAME_LENGTH} characters or fewer, e.g. 张师傅",
            code="display_name_too_long",
            data={"most": DISPLAY_NAME_LENGTH},
        )
    return typed_text(display_name)


def create_account(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    username: str,
    display_name: str,
    role: Role,
    password_hash: str,
    language: str | None = None,
) -> int:
    display_name = _stored_display_name(display_name)
    with transaction(conn):
        if find_account(conn, username) is not None:
            raise Conflict(f"the user name {username!r} is taken", fix="choose another user name")
        cur = conn.execute(
            "INSERT INTO accounts (username, display_name, role, password_hash, language, "
            "created_at, "
            "created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (username, display_name, role, password_hash, language, to_db(at), actor),
        )
        audit(conn, at, actor, "account.create", username, f"role={role}")
    return int(cur.lastrowid or 0)


def update_account(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    account_id: int,
    *,
    role: Role | None = None,
    disabled: bool | None = None,
    display_name: str | None = None,
    password_hash: str | None = None,
    language: str | None = None,
    refused_if_disabled: GatewayError | None = None,
) -> Account:
    """Change an account; disabling it or changing its password or role ends its sessions.
    `refused_if_disabled` is raised, nothing changed, where the account is disabled by then: a
    check made before the change was typed (`gateway user passwd`) is made again here, where
    another process's 停用 cannot come between. A display name is stored as create_account stores it."""
    display_name = None if display_name is None else _stored_display_name(display_name)
    with transaction(conn):
        before = get_account(conn, account_id)
        if refused_if_disabled is not None and before.disabled:
            raise refused_if_disabled
        changes: dict[str, Any] = {}
        if role is not None and role != before.role:
            changes["role"] = role
        if disabled is not None and disabled != before.disabled:
            changes["disabled"] = int(disabled)
        if display_name is not None and display_name != before.display_name:
            changes["display_name"] = display_name
        if language is not None and language != before.language:
            changes["language"] = language
        if password_hash is not None:
            changes["password_hash"] = password_hash
        if not changes:
            return before
        conn.execute(
            f"UPDATE accounts SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
            (*changes.values(), account_id),
        )
        if before.role == "admin" and not before.disabled and count_admins(conn) == 0:
            raise Refused(
                "this is the last admin account",
                fix="make another account admin first, so that someone can still manage",
                code="last_admin",
            )
        if {"role", "disabled", "password_hash"} & changes.keys():
            conn.execute("DELETE FROM sessions WHERE account_id = ?", (account_id,))
        shown = {k: ("(changed)" if k == "password_hash" else v) for k, v in changes.items()}
        if "display_name" in shown:  # the old name kept: the trail's rows show the new one since
            shown["display_name"] = f"{shown['display_name']} (was {before.display_name or '(none)'})"
        audit(
            conn,
            at,
            actor,
            "account.update",
            before.username,
            ", ".join(f"{k.removesuffix('_hash')}={v}" for k, v in shown.items()),
        )
    return get_account(conn, account_id)


def rehash_password(conn: sqlite3.Connection, account_id: int, old_hash: str, new_hash: str) -> str | None:
    """Store a stronger hash of the password just checked against `old_hash`: the same password, so
    no audit row and no session ends. The hash stored afterwards: `new_hash`, or, when the hash
    changed meanwhile, whatever is there now, which is left as it is (a reset made during the login
    must not be undone); None when the account is gone."""
    with transaction(conn):
        conn.execute(
            "UPDATE accounts SET password_hash = ? WHERE id = ? AND password_hash = ?",
            (new_hash, account_id, old_hash),
        )
        row = conn.execute("SELECT password_hash FROM accounts WHERE id = ?", (account_id,)).fetchone()
    return None if row is None else str(row[0])


def create_session(
    conn: sqlite3.Connection, at: datetime, account: Account, hours: float, address: str = ""
) -> tuple[str, str]:
    """A new login: (cookie token, CSRF token). Ended sessions (past their end, or older than
    `hours`) are swept at the same time. Its audit row says the client's address it came from (a
    booth tablet's on the estate's LAN; no personal data), and the account keeps its time.

    AccountChanged when the account's password, role or state is no longer what the login checked:
    the password is checked on another connection, and an admin's change made meanwhile ended only
    the sessions there were then."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    record_login(conn, at, account, hours, digest(token), csrf, address, made_now=True)
    return token, csrf


def record_login(
    conn: sqlite3.Connection,
    at: datetime,
    account: Account,
    hours: float,
    token_hash: str,
    csrf: str,
    address: str = "",
    *,
    session: bool = True,
    made_now: bool = False,
) -> int:
    """A login's rows at `at`, in one transaction (create_session's): its session row, its audit
    row's id returned, the account's last login and the shift mark the login begins. `session`
    False: the audit row and the rest without a session, for a login kept in memory while storage
    took no writes whose session ended before it could be written (runtime/kept_sessions.py).
    AccountChanged as create_session's.

    `made_now`, a login made now (at `at`): the sessions opened more than CLOCK_ALARM after it (on
    a clock ahead, set right since) are swept too. Not for a login written after it waited in
    memory: `at` is past, and a session logged in an hour after it is the next shift's, not one of a clock
    ahead (Review 67 I2: the next shift's guard was logged out); session_account refuses those
    ahead of the clock anyway, and the next login made now sweeps them."""
    with transaction(conn):
        if session:
            stored = _account(conn.execute(f"{_ACCOUNT} WHERE id = ?", (account.id,)).fetchone())
            checked = (account.password_hash, account.role)
            if stored is None or stored.disabled or (stored.password_hash, stored.role) != checked:
                raise AccountChanged(
                    f"the account {account.username!r} changed while the login was checked",
                    fix="log in again (with the new password, if an admin has just set one)",
                )
            swept = (to_db(at), to_db(later(at, -timedelta(hours=hours))))
            conn.execute("DELETE FROM sessions WHERE expires_at <= ? OR created_at <= ?", swept)
            if made_now:
                conn.execute("DELETE FROM sessions WHERE created_at > ?", (to_db(later(at, CLOCK_ALARM)),))
            conn.execute(
                "INSERT INTO sessions (token_hash, account_id, csrf, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (token_hash, account.id, csrf, to_db(at), to_db(later(at, timedelta(hours=hours)))),
            )
        row = audit(
            conn,
            at,
            account.username,
            "session.login",
            account.username,
            f"from {address}" if address else "",
        )
        conn.execute("UPDATE accounts SET last_login_at = ? WHERE id = ?", (to_db(at), account.id))
        mark_payments(conn, row)  # a shift begun at this login holds the payments written after it
    return row


def session_account(
    conn: sqlite3.Connection, token: str, now: datetime, hours: float
) -> tuple[Account, str] | None:
    """The account and CSRF token of a live session cookie, or None.

    A session lives `hours` (`[http] session_hours` as configured now) from its login, and never
    past the end it was given at login: lowering the setting (and restarting) ends sessions opened
    before at the new length; raising it lengthens none of them (their cookies end then too).

    Nor one opened more than CLOCK_ALARM after `now`: on a clock ahead, set right since (a login
    in the hour an installer's typo said 2035 stayed live ten years). The largest step the
    gateway takes without an alarm logs nobody out (docs/guard-app.md, Sessions)."""
    row = conn.execute(
        "SELECT account_id, csrf FROM sessions WHERE token_hash = ? AND expires_at > ? "
        "AND created_at > ? AND created_at <= ?",
        (
            digest(token),
            to_db(now),
            to_db(later(now, -timedelta(hours=hours))),
            to_db(later(now, CLOCK_ALARM)),
        ),
    ).fetchone()
    if row is None:
        return None
    account = _account(conn.execute(f"{_ACCOUNT} WHERE id = ?", (row[0],)).fetchone())
    if account is None or account.disabled:
        return None
    return account, row[1]


def end_session(conn: sqlite3.Connection, at: datetime, token: str, username: str) -> None:
    with transaction(conn):
        conn.execute("DELETE FROM sessions WHERE token_hash = ?", (digest(token),))
        audit(conn, at, username, "session.logout", username)


def token_name_problem(name: str) -> str | None:
    """Why `name` cannot name a new API token, or None."""
    shortest, longest = TOKEN_NAME_LENGTH
    if shortest <= len(name) <= longest and re.fullmatch(TOKEN_NAME_PATTERN, name):
        return None
    return f"a token's name is {TOKEN_NAME_RULE}, not {name!r}"


def token_days_problem(days: int | None) -> str | None:
    """Why a new API token cannot last `days` days (None: until revoked), or None."""
    fewest, most = TOKEN_DAYS
    if days is None or fewest <= days <= most:
        return None
    return f"a token lasts {fewest} to {most} days (ten years at most)"


def create_token(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    name: str,
    role: Role,
    expires_at: datetime | None,
) -> tuple[int, str]:
    """A new API token for a machine client; the token itself is returned once, never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction(conn):
        # Not case-sensitive, as the audit trail's person filter is: `token:NAME` must find one
        # token's rows only, so Property-Tools is no new name after property-tools. A live token
        # is named first (a box may hold two such names, made before names were compared so).
        taken = conn.execute(
            "SELECT name, revoked_at FROM api_tokens WHERE name = ? COLLATE NOCASE "
            "ORDER BY revoked_at IS NOT NULL LIMIT 1",
            (name,),
        ).fetchone()
        if taken is not None and taken[1] is not None:
            # Its name stays taken: the audit trail's `token:NAME` rows must name one token only.
            raise Conflict(
                f"the name {taken[0]!r} belonged to a revoked token; it stays with that token in the audit "
                "trail (in any case of its letters)",
                fix=f"choose a new name for its replacement, e.g. {name[:35]}-{at.year}",
            )
        if taken is not None:
            raise Conflict(f"a token named {taken[0]!r} exists", fix="choose another name or revoke it")
        cur = conn.execute(
            "INSERT INTO api_tokens (name, role, token_hash, created_at, created_by, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                name,
                role,
                digest(token),
                to_db(at),
                actor,
                to_db(expires_at) if expires_at else None,
            ),
        )
        audit(conn, at, actor, "token.create", name, f"role={role}")
    return int(cur.lastrowid or 0), token


def token_role(conn: sqlite3.Connection, token: str, now: datetime) -> tuple[str, Role] | None:
    """(name, role) of a live API token, or None.

    Nor one with an expiry made more than CLOCK_ALARM after `now`: on a clock ahead, set right
    since, its days were counted from the wrong date (a 30-day token made while the clock read
    2035 worked for ten years: Review 67 I3), as session_account refuses such a login. One
    without an expiry has none to be wrong, and works on."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = conn.execute(
        "SELECT name, role FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL "
        "AND (expires_at IS NULL OR (expires_at > ? AND created_at <= ?))",
        (digest(token), to_db(now), to_db(later(now, CLOCK_ALARM))),
    ).fetchone()
    return (row[0], row[1]) if row else None


def token_made_ahead(conn: sqlite3.Connection, token: str, now: datetime) -> tuple[str, str] | None:
    """(name, when made, as stored) of a token token_role refuses for being made on a clock ahead
    of `now` (and not revoked), so that its client is told to get a new one; None otherwise."""
    row = conn.execute(
        "SELECT name, created_at FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL "
        "AND expires_at IS NOT NULL AND created_at > ?",
        (digest(token), to_db(later(now, CLOCK_ALARM))),
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def list_tokens(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    cur = conn.execute(
        "SELECT id, name, role, created_at, created_by, expires_at, revoked_at FROM api_tokens "
        "ORDER BY id DESC"
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]


def revoke_token(conn: sqlite3.Connection, at: datetime, actor: str, token_id: int) -> None:
    """Revoke an API token, once: one revoked already (a retry, or two admins at once) is 409
    `already_done`, as other changes of state sent again, and the audit trail keeps one revoke."""
    with transaction(conn):
        row = conn.execute("SELECT name, revoked_at FROM api_tokens WHERE id = ?", (token_id,)).fetchone()
        if row is None:
            raise NotFound(f"no API token {token_id}", fix="list tokens on the admin page")
        if row[1] is not None:
            raise Conflict(
                f"API token {row[0]!r} was revoked already", fix="nothing to do", code="already_done"
            )
        conn.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ?", (to_db(at), token_id))
        audit(conn, at, actor, "token.revoke", row[0])

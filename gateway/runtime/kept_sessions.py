"""Logins and logouts while storage takes no writes: the session kept in memory, its record waiting.

A login is a session row and its audit row (store/accounts.create_session). On a card the kernel
took off writes (or a full disk, or a database another process holds locked) that write failed,
and the next shift could not log in at all: no 开闸 on the live page, while every resident was
refused storage_failed at the lanes. So a login whose write storage refuses is kept here, in
memory, and its record (store/accounts.record_login) waits with the lanes' openings by hand
(hand_opens.WaitingRecords), written at the login's time once storage takes writes again; the
session then lives on record. A logout goes in turn with those records: one storage refuses ends
the session here at once, its record waiting likewise.

What is kept here goes with the process: a session never written ends at a stop (its guard logs in
again), and the journal's line is its login's only record. A session kept lives `hours` of
monotonic time, whatever NTP does to the wall clock meanwhile. Logins and logouts wait within a
bound of their own (hand_opens.MAX_LOGINS_WAITING): a login's record lost at it ends its session
here (LoggedIn.lost), which was else on no record and lived on in memory alone.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

from gateway.errors import NotFound
from gateway.runtime.hand_opens import SubmitNone, WaitingRecords
from gateway.store.accounts import Account, AccountChanged, digest, end_session, get_account, record_login

# Sessions kept in memory at once: a shift's guards and admins, many times over. A login past it
# fails as before (storage_failed). Their records, and logouts', wait apart from the openings by
# hand (hand_opens.MAX_LOGINS_WAITING): neither pushes the other out (Review 67 H3).
MAX_KEPT = 50


@dataclass(frozen=True, slots=True)
class _Kept:
    account: Account  # as its password was checked
    csrf: str
    until: float  # monotonic


class KeptSessions:
    """The sessions whose login storage refused, by their cookie's hash, and the sessions ended
    (logged out) whose end waits to be written: consulted by the API's login check (api/auth.py)
    after the sessions on record. Used from the HTTP threads and the decision worker alike."""

    def __init__(
        self,
        waiting: WaitingRecords,
        submit: SubmitNone,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._waiting = waiting
        self._submit = submit  # on the decision worker, in turn with decisions
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._kept: dict[str, _Kept] = {}
        self._ended: set[str] = set()

    def keep_login(
        self, account: Account, at: datetime, hours: float, address: str, why: sqlite3.Error
    ) -> tuple[str, str] | None:
        """A new session for `account` (its cookie token and CSRF token), logged in from `address`,
        kept here since storage refused its write (`why`), its record waiting; None when MAX_KEPT
        are kept already."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        token_hash = digest(token)
        with self._lock:
            if len(self._kept) >= MAX_KEPT:
                return None
            self._kept[token_hash] = _Kept(account, csrf, self._monotonic() + hours * 3600)
        self._waiting.keep(LoggedIn(at, account, hours, token_hash, csrf, address, self), why)
        return token, csrf

    def account(self, conn: sqlite3.Connection, token: str) -> tuple[Account, str] | None:
        """The account and CSRF token of a kept session's cookie, as it is now (read on `conn`),
        or None: not kept, past its time, or its account changed since its login (disabled, a new
        password or role: the change ends its sessions, as it ends those on record). Ended for
        good: kept on, the session came back once the account was enabled again (Review 67 H3),
        and its login's record, written later, wrote it on record too."""
        token_hash = digest(token)
        with self._lock:
            kept = self._kept.get(token_hash)
            if kept is not None and self._monotonic() >= kept.until:
                del self._kept[token_hash]
                kept = None
        if kept is None:
            return None
        try:
            now = get_account(conn, kept.account.id)
        except NotFound:
            self.forget(token_hash)
            return None
        checked = (kept.account.password_hash, kept.account.role)
        if now.disabled or (now.password_hash, now.role) != checked:
            self.forget(token_hash)
            return None
        return now, kept.csrf

    def forget(self, token_hash: str) -> None:
        """The kept session ends here: its account changed, or its login's record was lost."""
        with self._lock:
            self._kept.pop(token_hash, None)

    def ended(self, token: str) -> bool:
        """The session of this cookie was ended (a logout) and its end is not on record yet."""
        with self._lock:
            return digest(token) in self._ended

    def end(self, token: str, at: datetime, username: str) -> Future[None]:
        """A logout: the session ends here at once; its record (the session row gone, the audit's
        session.logout) is written in turn with the records that wait, or waits with them. The
        future fails only for a fault that is not storage's."""
        token_hash = digest(token)
        with self._lock:
            self._kept.pop(token_hash, None)
            self._ended.add(token_hash)
        return self._waiting.write_in_turn(LoggedOut(at, token, username, self), self._submit)

    def live(self, token_hash: str) -> bool:
        with self._lock:
            return token_hash in self._kept and token_hash not in self._ended

    def written(self, token_hash: str) -> None:
        """A login or logout on record: the sessions there say the rest."""
        with self._lock:
            self._kept.pop(token_hash, None)
            self._ended.discard(token_hash)


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """A login that waits for storage (hand_opens.Kept): its rows at its own time."""

    at: datetime
    account: Account
    hours: float
    token_hash: str
    csrf: str
    address: str
    sessions: KeptSessions

    @property
    def what(self) -> str:
        return "login"

    def details(self) -> str:
        return f"user={self.account.username!r}"

    def lost(self) -> None:
        """Lost at the bound of those that wait (hand_opens.MAX_LOGINS_WAITING): its session, on no
        record, ends (its guard logs in again), as it would at a stop."""
        self.sessions.forget(self.token_hash)

    def write(self, conn: sqlite3.Connection) -> int:
        """At its own time: with its session while that lives; the login alone where the guard
        logged out meanwhile, or an admin's change to the account ended its sessions."""
        rows = (conn, self.at, self.account, self.hours, self.token_hash, self.csrf, self.address)
        try:
            row = record_login(*rows, session=self.sessions.live(self.token_hash))
        except AccountChanged:
            row = record_login(*rows, session=False)
        self.sessions.written(self.token_hash)
        return row


@dataclass(frozen=True, slots=True)
class LoggedOut:
    """A logout, in turn with the records that wait (hand_opens.Kept)."""

    at: datetime
    token: str  # the cookie, in memory only until written: its hash finds the session row
    username: str
    sessions: KeptSessions

    @property
    def what(self) -> str:
        return "logout"

    def details(self) -> str:
        return f"user={self.username!r}"

    def lost(self) -> None:
        """Lost at the bound of those that wait: the session stays ended here (its cookie refused
        until the gateway stops); one on record lives there to its end (if_never)."""

    def if_never(self) -> str:
        return (
            f"a session of {self.username!r} on record stays live to its end (a restart brings its "
            "cookie back): to end it now, change the account's password or disable it"
        )

    def write(self, conn: sqlite3.Connection) -> None:
        end_session(conn, self.at, self.token, self.username)
        self.sessions.written(digest(self.token))

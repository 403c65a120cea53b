"""Snapshot parts, deltas and commands kept on disk from their arrival until they are done with.

paho acknowledges a QoS 1 message (PUBACK) as soon as its on_message returns; from then on the
broker forgets it. A part or delta waiting behind a snapshot that is being applied, or a command
waiting for the decision worker, would otherwise live only in memory, and a stop, a restart or a
kill would lose it with nothing asking for it again. So each one is written here, on paho's
network thread, before on_message returns, and removed only once the directory has saved,
applied, refused or dropped it, or the command is answered (zeroed on disk, its WAL cut back:
a pushed pass holds clear phone and ID numbers); on start the directory and the
commands take up what is left of theirs, in the order it came. A command whose handling keeps
failing is let go after a few starts (commands.HANDLING_ATTEMPTS): its failures are counted here.

A file of its own, not a table of the staging file: staging a large snapshot holds that file's
write lock for a second or more, and paho's network thread must not wait on it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from gateway.store.private_sqlite import cut_wal, zero_deleted
from gateway.sync.files import open_mending, say_if_not_writable, write_fix

log = logging.getLogger(__name__)

INBOX_NAME = "sync-inbox.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, body BLOB NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0, answer TEXT);
"""


class Inbox:
    """Thread-safe: kept on paho's thread, taken and done on the directory's and the commands'."""

    def __init__(self, path: Path, now: Callable[[], datetime] = datetime.now):
        self._lock = threading.Lock()
        self.path = path
        # Where a damaged inbox was set aside at this start: what it held is lost (service.py).
        self.set_aside: Path | None = None
        self._conn = self._open(path, now)
        self._write_failed = False

    def _open(self, path: Path, now: Callable[[], datetime]) -> sqlite3.Connection:
        """The inbox on disk; a damaged one set aside first. Never raises: one that cannot be
        opened at all is kept in memory, since the lanes never wait for the link."""
        say_if_not_writable(
            path, "what the central server sends waits in memory only, and a restart loses it"
        )
        try:
            conn, self.set_aside = open_mending(
                path,
                _connect,
                now(),
                "the snapshot parts and deltas received and not yet applied (a snapshot is asked for "
                "instead) and the commands received and not yet answered (not done; the central "
                "server may send them again)",
            )
        except (OSError, sqlite3.Error) as exc:
            log.error(
                "%s cannot be opened: %s; what the central server sends waits in memory only, and a "
                "restart loses it (fix: %s, then restart the gateway)",
                INBOX_NAME,
                exc,
                write_fix(exc, path),
            )
            return _connect(":memory:")
        return conn

    def keep(self, kind: str, body: bytes) -> int | None:
        """Its id; None if it could not be written (it then waits in memory only)."""
        try:
            with self._lock:
                cur = self._conn.execute("INSERT INTO inbox (kind, body) VALUES (?, ?)", (kind, body))
        except sqlite3.Error as exc:
            self._failed_write(f"a received {kind} could not be written", "it waits in memory only", exc)
            return None
        self._write_failed = False
        return int(cur.lastrowid or 0)

    def waiting(self, kinds: tuple[str, ...]) -> list[tuple[int, str, bytes]]:
        """What of these kinds arrived and was not done with, oldest first."""
        marks = ", ".join("?" * len(kinds))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT id, kind, body FROM inbox WHERE kind IN ({marks}) ORDER BY id", kinds
            ).fetchall()
        return [(int(i), str(k), bytes(b)) for i, k, b in rows]

    def failed(self, kept: int) -> int:
        """Count one more failure to handle it; how many there have been, 0 if none could be
        counted (the file cannot be written: it is then tried again, as before)."""
        try:
            with self._lock:
                row = self._conn.execute(
                    "UPDATE inbox SET failures = failures + 1 WHERE id = ? RETURNING failures", (kept,)
                ).fetchone()
        except sqlite3.Error as exc:
            self._failed_write("a failure could not be counted", "it is tried again as before", exc)
            return 0
        return int(row[0]) if row else 0

    def hold_answer(self, kept: int, answer: str) -> bool:
        """A command done, its answer kept with it until that answer is on record (commands.py):
        a stop before then finds it here, done, and answers it so; never runs it again. False if it
        could not be written."""
        try:
            with self._lock:
                self._conn.execute("UPDATE inbox SET answer = ? WHERE id = ?", (answer, kept))
        except sqlite3.Error as exc:
            self._failed_write("a command's answer could not be kept", "it waits in memory only", exc)
            return False
        return True

    def answer(self, kept: int) -> str | None:
        """The answer held with a command done (hold_answer), None if there is none."""
        with self._lock:
            row = self._conn.execute("SELECT answer FROM inbox WHERE id = ?", (kept,)).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def done(self, ids: list[int]) -> None:
        if not ids:
            return
        with self._lock:
            try:
                self._conn.executemany("DELETE FROM inbox WHERE id = ?", ((i,) for i in ids))
            except sqlite3.Error as exc:
                # Taken up again at the next start: a delta or snapshot part applied is then
                # ignored, a command answered is not answered again.
                self._failed_write("what was done with could not be removed", "it stays", exc)
                return
            try:
                cut_wal(self._conn)
            except sqlite3.Error as exc:
                log.warning("%s could not be checkpointed: %s (it is tried again next time)", INBOX_NAME, exc)

    def _failed_write(self, what: str, meaning: str, exc: sqlite3.Error) -> None:
        log.log(
            logging.DEBUG if self._write_failed else logging.ERROR,  # once, then quietly
            "%s in %s: %s; %s (fix: %s)",
            what,
            INBOX_NAME,
            exc,
            meaning,
            write_fix(exc, self.path),
        )
        self._write_failed = True

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _connect(path: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # on disk before the broker is acknowledged
        zero_deleted(conn)
        conn.executescript(_SCHEMA)
        if "failures" not in {row[1] for row in conn.execute("PRAGMA table_info(inbox)")}:
            conn.execute("ALTER TABLE inbox ADD COLUMN failures INTEGER NOT NULL DEFAULT 0")
        if "answer" not in {row[1] for row in conn.execute("PRAGMA table_info(inbox)")}:
            conn.execute("ALTER TABLE inbox ADD COLUMN answer TEXT")
    except BaseException:
        conn.close()
        raise
    return conn

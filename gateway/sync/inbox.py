"""Snapshot parts and deltas kept on disk from their arrival until the directory is done with them.

paho acknowledges a QoS 1 message (PUBACK) as soon as its on_message returns; from then on the
broker forgets it. A part or delta waiting behind a snapshot that is being applied would otherwise
live only in memory, and a stop, a restart or a kill would lose it with nothing asking for it
again. So each one is written here, on paho's network thread, before on_message returns, and
removed only once the directory has saved, applied, refused or dropped it; on start the directory
takes up what is left, in the order it came.

A file of its own, not a table of the staging file: staging a large snapshot holds that file's
write lock for a second or more, and paho's network thread must not wait on it.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

INBOX_NAME = "sync-inbox.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, body BLOB NOT NULL);
"""


class Inbox:
    """Thread-safe: kept on paho's thread, taken and done on the directory's."""

    def __init__(self, path: Path):
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")  # on disk before the broker is acknowledged
        self._conn.executescript(_SCHEMA)

    def keep(self, kind: str, body: bytes) -> int:
        with self._lock:
            cur = self._conn.execute("INSERT INTO inbox (kind, body) VALUES (?, ?)", (kind, body))
            return int(cur.lastrowid or 0)

    def waiting(self) -> list[tuple[int, str, bytes]]:
        """What arrived and was not done with, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT id, kind, body FROM inbox ORDER BY id").fetchall()
        return [(int(i), str(k), bytes(b)) for i, k, b in rows]

    def done(self, ids: list[int]) -> None:
        if not ids:
            return
        with self._lock:
            self._conn.executemany("DELETE FROM inbox WHERE id = ?", ((i,) for i in ids))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

"""SQLite files that hold clear phone and ID numbers for a while (the sync inbox, the staging file).

What they delete must not stay readable on disk: deleted rows are zeroed rather than left in free
pages (one more write of each page freed), and the WAL, whose frames still hold the rows as they
were written, is cut back after each deletion.
"""

from __future__ import annotations

import sqlite3


def zero_deleted(conn: sqlite3.Connection) -> None:
    """What this connection deletes from now on is overwritten on disk (secure_delete)."""
    conn.execute("PRAGMA secure_delete=ON")


def cut_wal(conn: sqlite3.Connection) -> None:
    """Copy the WAL into the file and empty it."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

"""The audit trail: who did what by hand (a guard holding a barrier open), append-only."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from gateway.timefmt import to_db


def write_audit(
    conn: sqlite3.Connection, at: datetime, actor: str, action: str, target: str = "", detail: str = ""
) -> None:
    """One row in its own transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
            (to_db(at), actor, action, target, detail),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise

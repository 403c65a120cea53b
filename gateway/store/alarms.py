"""Alarms: raised once per kind and source until cleared, each change recorded and sent upstream."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from gateway.store.database import transaction
from gateway.store.outbox import enqueue
from gateway.timefmt import to_db


def raise_alarm(conn: sqlite3.Connection, kind: str, source: str, message: str, at: datetime) -> bool:
    """True if this raised a new alarm; an alarm already open for the kind and source stays one."""
    with transaction(conn):
        cur = conn.execute(
            "INSERT OR IGNORE INTO alarms (kind, source, message, raised_at) VALUES (?, ?, ?, ?)",
            (kind, source, message, to_db(at)),
        )
        if cur.rowcount:
            _upstream(conn, "raised", kind, source, at, message)
    return bool(cur.rowcount)


def clear_alarm(conn: sqlite3.Connection, kind: str, source: str, at: datetime) -> bool:
    with transaction(conn):
        cur = conn.execute(
            "UPDATE alarms SET cleared_at = ? WHERE kind = ? AND source = ? AND cleared_at IS NULL",
            (to_db(at), kind, source),
        )
        if cur.rowcount:
            _upstream(conn, "cleared", kind, source, at)
    return bool(cur.rowcount)


def _upstream(
    conn: sqlite3.Connection, state: str, kind: str, source: str, at: datetime, message: str = ""
) -> None:
    payload = {"at": at.isoformat(), "state": state, "kind": kind, "source": source, "message": message}
    enqueue(conn, "alarm", payload, at)


def open_alarms(conn: sqlite3.Connection) -> list[dict[str, object]]:
    cur = conn.execute(
        "SELECT id, kind, source, message, raised_at, acknowledged_at, acknowledged_by "
        "FROM alarms WHERE cleared_at IS NULL ORDER BY id DESC"
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]

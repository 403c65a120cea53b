"""Alarms: raised once per kind and source until cleared, each change recorded and sent upstream."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from gateway.store.outbox import enqueue
from gateway.timefmt import to_db


def raise_alarm(conn: sqlite3.Connection, kind: str, source: str, message: str, at: datetime) -> bool:
    """True if this raised a new alarm; an alarm already open for the kind and source stays one."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        cur = conn.execute(
            "INSERT OR IGNORE INTO alarms (kind, source, message, raised_at) VALUES (?, ?, ?, ?)",
            (kind, source, message, to_db(at)),
        )
        if cur.rowcount:
            enqueue(
                conn,
                "alarm",
                {
                    "at": at.isoformat(),
                    "state": "raised",
                    "kind": kind,
                    "source": source,
                    "message": message,
                },
                at,
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return bool(cur.rowcount)


def clear_alarm(conn: sqlite3.Connection, kind: str, source: str, at: datetime) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    try:
        cur = conn.execute(
            "UPDATE alarms SET cleared_at = ? WHERE kind = ? AND source = ? AND cleared_at IS NULL",
            (to_db(at), kind, source),
        )
        if cur.rowcount:
            enqueue(
                conn,
                "alarm",
                {"at": at.isoformat(), "state": "cleared", "kind": kind, "source": source},
                at,
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return bool(cur.rowcount)


def open_alarms(conn: sqlite3.Connection) -> list[dict[str, object]]:
    cur = conn.execute(
        "SELECT id, kind, source, message, raised_at, acknowledged_at, acknowledged_by "
        "FROM alarms WHERE cleared_at IS NULL ORDER BY id DESC"
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]

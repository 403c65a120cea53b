"""Alarms: raised once per kind and source until cleared, each change recorded and sent upstream."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from gateway.errors import Conflict, NotFound
from gateway.store.audit import audit
from gateway.store.database import transaction
from gateway.store.outbox import enqueue
from gateway.timefmt import to_db


def raise_alarm(conn: sqlite3.Connection, kind: str, source: str, message: str, at: datetime) -> bool:
    """True if this raised a new alarm; an alarm already open for the kind and source stays one."""
    with transaction(conn):
        raised = write_alarm(conn, kind, source, message, at)
    return raised


def write_alarm(conn: sqlite3.Connection, kind: str, source: str, message: str, at: datetime) -> bool:
    """raise_alarm inside a transaction the caller owns (the MQTT link's quarantine does)."""
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


# Alarms about something that happened (not a state that lasts): acknowledging them closes them.
EVENT_ALARMS = frozenset({"forced_open", "repeated_unknown_plate"})


def acknowledge_alarm(
    conn: sqlite3.Connection, alarm_id: int, at: datetime, actor: str, note: str = ""
) -> dict[str, object]:
    """The guard has seen it. A device offline stays open until the device is back."""
    with transaction(conn):
        row = conn.execute(
            "SELECT kind, source, acknowledged_at, cleared_at FROM alarms WHERE id = ?", (alarm_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no alarm {alarm_id}", fix="see the open alarms on the alarms page")
        kind, source, acknowledged, cleared = row
        if acknowledged:
            raise Conflict(f"alarm {alarm_id} was acknowledged already", fix="nothing to do")
        closes = kind in EVENT_ALARMS and cleared is None
        conn.execute(
            "UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ?, "
            "cleared_at = CASE WHEN ? THEN ? ELSE cleared_at END WHERE id = ?",
            (to_db(at), actor, closes, to_db(at), alarm_id),
        )
        enqueue(
            conn,
            "alarm",
            {"at": at.isoformat(), "state": "acknowledged", "kind": kind, "source": source, "by": actor},
            at,
        )
        audit(conn, at, actor, "alarm.acknowledge", f"alarm:{alarm_id}", f"{kind} {source} {note}".strip())
    return {"id": alarm_id, "kind": kind, "source": source, "closed": closes or cleared is not None}


def recent_alarms(
    conn: sqlite3.Connection, include_cleared: bool, limit: int = 200
) -> list[dict[str, object]]:
    cur = conn.execute(
        "SELECT id, kind, source, message, raised_at, cleared_at, acknowledged_at, acknowledged_by "
        "FROM alarms WHERE ? OR cleared_at IS NULL ORDER BY id DESC LIMIT ?",
        (include_cleared, limit),
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]

"""Patrol taps: a guard's card at a patrol checkpoint, recorded and queued upstream together."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from gateway.store.database import begin_immediate
from gateway.store.outbox import enqueue
from gateway.timefmt import to_db


def record_tap(
    conn: sqlite3.Connection, tap_id: str, at: datetime, checkpoint: str, lane: str, card: str
) -> None:
    """One transaction: the tap and its outbox row."""
    begin_immediate(conn)
    try:
        conn.execute(
            "INSERT INTO patrol_taps (tap_id, at, checkpoint, lane, card) VALUES (?, ?, ?, ?, ?)",
            (tap_id, to_db(at), checkpoint, lane, card),
        )
        enqueue(
            conn,
            "patrol",
            {"at": at.isoformat(), "checkpoint": checkpoint, "lane": lane, "card": card},
            at,
            tap_id,
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise

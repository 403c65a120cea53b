"""Deleting records past their retention, in small batches on the worker (a lane never waits long).

Access records go only once the central server has confirmed them (their outbox row's sent_at) and
the retention period since has passed: a record never delivered is never deleted here.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from gateway.store.database import transaction
from gateway.timefmt import to_db

BATCH = 2000

_DELIVERED = """
SELECT a.id, a.event_id FROM access_log a JOIN outbox o ON o.event_id = a.event_id
WHERE o.sent_at IS NOT NULL AND o.sent_at < :cutoff AND a.at < :cutoff
ORDER BY a.id LIMIT :batch
"""


def prune_access_records(conn: sqlite3.Connection, delivered_before: datetime, batch: int = BATCH) -> int:
    """One batch of access records (with their outbox rows) delivered upstream before the cutoff."""
    cutoff = to_db(delivered_before)
    with transaction(conn):
        rows = conn.execute(_DELIVERED, {"cutoff": cutoff, "batch": batch}).fetchall()
        if rows:
            conn.executemany("DELETE FROM access_log WHERE id = ?", [(r[0],) for r in rows])
            conn.executemany("DELETE FROM outbox WHERE event_id = ?", [(r[1],) for r in rows])
            conn.executemany("DELETE FROM plate_corrections WHERE event_id = ?", [(r[1],) for r in rows])
        # Other upstream messages (alarms, payments, reports) once delivered need no local copy.
        conn.execute(
            "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE sent_at IS NOT NULL "
            "AND sent_at < ? AND topic != 'access' LIMIT ?)",
            (cutoff, batch),
        )
    return len(rows)


def prune_closed_stays(conn: sqlite3.Connection, closed_before: datetime, batch: int = BATCH) -> int:
    """Stays closed before the cutoff (charges and payments keep their own copy of plate and amounts)."""
    with transaction(conn):
        ids = conn.execute(
            "SELECT id FROM stays WHERE exited_at IS NOT NULL AND exited_at < ? LIMIT ?",
            (to_db(closed_before), batch),
        ).fetchall()
        conn.executemany("DELETE FROM validations WHERE stay_id = ?", ids)
        conn.executemany("DELETE FROM stays WHERE id = ?", ids)
    return len(ids)


def prune_visitors(conn: sqlite3.Connection, ended_before: datetime, batch: int = BATCH) -> int:
    """Visitor and contractor passes (name, masked numbers and their hashes) ended before the cutoff;
    their QR and plate credentials go with them."""
    cutoff = to_db(ended_before)
    with transaction(conn):
        ids = conn.execute(
            "SELECT id FROM passes WHERE min(valid_to, coalesce(checked_out_at, valid_to)) < ? LIMIT ?",
            (cutoff, batch),
        ).fetchall()
        conn.executemany("DELETE FROM passes WHERE id = ?", ids)
    return len(ids)


def prune_reports(conn: sqlite3.Connection, before_day: str) -> int:
    with transaction(conn):
        return conn.execute("DELETE FROM daily_reports WHERE day < ?", (before_day,)).rowcount

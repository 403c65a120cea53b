"""A device back online whose fault waits to clear (schema migration 53: device_returns).

A device that goes off and comes back again and again (a loose cable, a PoE port that drops, a
camera that reboots) is one fault, from its first going off: its device_offline alarm clears only
once it has stayed online `[alarms] clear_after_s`. Until then the alarm stays open with the time
it came back beside it; gone again meanwhile, that time goes and the alarm is still the one raised
first, so that its repair deadline counts from then and the centre gets one raise and one clear,
not two records a flap.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import datetime, timedelta

from gateway.store.alarms import DEVICE_ALARMS, end_alarm
from gateway.store.database import transaction
from gateway.timefmt import from_db, to_db

_OPEN_FAULT = "SELECT id FROM alarms WHERE kind = 'device_offline' AND source = ? AND cleared_at IS NULL"


def mark_back(conn: sqlite3.Connection, source: str, at: datetime) -> bool:
    """The device is online again at `at`: its open fault waits to clear (True), from the first
    time it came back if it is already waiting. False when it has no open fault."""
    with transaction(conn):
        row = conn.execute(_OPEN_FAULT, (source,)).fetchone()
        if row is None:
            return False
        conn.execute(
            "INSERT OR IGNORE INTO device_returns (alarm_id, back_at) VALUES (?, ?)", (row[0], to_db(at))
        )
    return True


def gone_again(conn: sqlite3.Connection, source: str) -> None:
    """The device is offline again (inside the caller's transaction): its fault waits no more."""
    conn.execute(f"DELETE FROM device_returns WHERE alarm_id IN ({_OPEN_FAULT})", (source,))


def waiting_returns(conn: sqlite3.Connection) -> dict[str, datetime]:
    """The devices whose fault waits to clear, with when each came back."""
    rows = conn.execute(
        "SELECT a.source, r.back_at FROM device_returns r JOIN alarms a ON a.id = r.alarm_id "
        "WHERE a.cleared_at IS NULL"
    )
    return {source: at for source, back in rows if (at := from_db(back)) is not None}


def clear_returned(
    conn: sqlite3.Connection, now: datetime, after: timedelta, keep: Collection[str] = ()
) -> list[str]:
    """Clear the faults of the devices online since `after` before `now`, dated when each came back
    (its repair time: the deadline was met or missed then), and their repair_overdue with them; the
    outbox rows are dated `now`. A time back after `now` (written on a clock since set back) counts
    from `now`, so that the wait is not years. Not the devices in `keep` (a change of theirs waits
    in memory for storage). Returns the devices cleared."""
    with transaction(conn):
        conn.execute("UPDATE device_returns SET back_at = ? WHERE back_at > ?", (to_db(now), to_db(now)))
        waiting = waiting_returns(conn).items()
        due = [(source, at) for source, at in waiting if now - at >= after and source not in keep]
        for source, at in due:
            for kind in DEVICE_ALARMS:  # its fault, and the deadline it set (met or moot)
                # not before it was raised: a repair_overdue the repairs step found as it came back
                end_alarm(conn, kind, source, _not_before_raised(conn, kind, source, at), queued_at=now)
    return sorted(source for source, _ in due)


def _not_before_raised(conn: sqlite3.Connection, kind: str, source: str, at: datetime) -> datetime:
    """`at`, or when the open alarm was raised if later (compared as stored: text order is time
    order, whatever zone a row was written in)."""
    row = conn.execute(
        "SELECT raised_at FROM alarms WHERE kind = ? AND source = ? AND cleared_at IS NULL AND raised_at > ?",
        (kind, source, to_db(at)),
    ).fetchone()
    raised = None if row is None else from_db(row[0])
    return at if raised is None or raised.tzinfo is None else raised

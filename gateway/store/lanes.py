"""Lane modes: a lane closed, or held open, by a guard or the central server stays so across
restarts."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from gateway.timefmt import to_db

LANE_MODES = ("normal", "open", "closed")


def set_lane_mode(conn: sqlite3.Connection, lane: str, mode: str, at: datetime, actor: str) -> None:
    """Keep a lane's mode; normal removes the row. The caller owns the transaction."""
    if mode not in LANE_MODES:
        raise ValueError(f"unknown lane mode {mode!r}; use one of {LANE_MODES}")
    if mode == "normal":
        conn.execute("DELETE FROM lane_modes WHERE lane = ?", (lane,))
        return
    conn.execute(
        "INSERT INTO lane_modes (lane, mode, set_at, set_by) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (lane) DO UPDATE SET mode = excluded.mode, set_at = excluded.set_at, "
        "set_by = excluded.set_by",
        (lane, mode, to_db(at), actor),
    )


@dataclass(frozen=True, slots=True)
class ModeOnRecord:
    mode: str  # closed, or open (held open)
    by: str
    since: datetime


def modes_on_record(conn: sqlite3.Connection) -> dict[str, ModeOnRecord]:
    """Lanes closed or held open on record, whether or not the site config still has them."""
    rows = conn.execute("SELECT lane, mode, set_by, set_at FROM lane_modes")
    return {lane: ModeOnRecord(mode, by, datetime.fromisoformat(at)) for lane, mode, by, at in rows}


def forget_hold(conn: sqlite3.Connection, lane: str) -> None:
    """The lane is no longer held open (a closed lane stays closed). The caller owns the transaction."""
    conn.execute("DELETE FROM lane_modes WHERE lane = ? AND mode = 'open'", (lane,))


def openings_since(conn: sqlite3.Connection, since: datetime) -> dict[str, datetime]:
    """The last time since `since` that something told each lane's barrier to open: a decision that
    let someone through, or a guard's or the central server's command. Read at start, so that a
    barrier still up for an opening just before a restart is not taken for forced open. Only the
    last 200 decisions and 1,000 audit rows are looked at: a start reads a few pages, not seconds
    of a rush (the few seconds of `open_grace_s` hold fewer than that at any gate)."""
    rows = conn.execute(
        "SELECT lane, max(at) FROM (SELECT lane, at FROM access_log "
        "WHERE id > (SELECT coalesce(max(id), 0) - 200 FROM access_log) AND at >= :since AND admitted = 1 "
        "UNION ALL SELECT target, at FROM audit WHERE id > (SELECT coalesce(max(id), 0) - 1000 FROM audit) "
        "AND at >= :since AND action IN ('lane.open', 'lane.hold', 'lane.release')) GROUP BY lane",
        {"since": to_db(since)},
    )
    return {lane: datetime.fromisoformat(at) for lane, at in rows}

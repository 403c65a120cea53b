"""Lane modes: a lane closed by a guard or the central server stays closed across restarts."""

from __future__ import annotations

import sqlite3
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


def lane_modes(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT lane, mode FROM lane_modes WHERE mode = 'closed'"))

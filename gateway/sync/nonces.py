"""The ids of remote commands used once, and how they are forgotten once their commands expire.

Each accepted command's id is kept in command_nonces until its command has expired; then it is
forgotten, and a marker row keeps the latest expiry forgotten, so that a command expiring no later
is refused as a replay even after the clock steps back.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from gateway.timefmt import to_db

# A command_nonces row that no command id can be (ids hold no space): the latest expiry among the
# ids forgotten, so that a command expiring no later is still refused after the clock steps back.
FORGOTTEN_UP_TO = "forgotten up to"


def forgotten_by(conn: sqlite3.Connection, keep: datetime) -> bool:
    """Whether a command whose id would be kept until `keep` may have been forgotten already."""
    row = conn.execute("SELECT expires_at FROM command_nonces WHERE id = ?", (FORGOTTEN_UP_TO,)).fetchone()
    return row is not None and to_db(keep) <= row[0]


def why_forgotten(cid: str) -> str:
    """Why a command whose id may have been forgotten is refused as a replay."""
    return (
        f"command {cid} expires no later than commands whose ids were since forgotten: it may have "
        "been received before, so it is not run (the gateway's clock was stepped back, or it came "
        "late; fix: send a new command)"
    )


def forget_used_ids(conn: sqlite3.Connection, before: datetime) -> None:
    """Forget the ids of commands expired before `before` (by this box's clock), within a
    transaction. The latest expiry forgotten is kept: a command that expires no later is refused
    as a replay even if NTP then steps the clock back behind it. It is a command's own expiry, set
    by the central server, so a clock once set far ahead cannot refuse commands for months after."""
    cut = to_db(before)
    (latest,) = conn.execute(
        "SELECT max(expires_at) FROM command_nonces WHERE expires_at < ? AND id != ?", (cut, FORGOTTEN_UP_TO)
    ).fetchone()
    if latest is None:
        return
    conn.execute(
        "INSERT INTO command_nonces (id, expires_at) VALUES (?, ?) "
        "ON CONFLICT (id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
        (FORGOTTEN_UP_TO, latest),
    )
    conn.execute("DELETE FROM command_nonces WHERE expires_at < ? AND id != ?", (cut, FORGOTTEN_UP_TO))

"""The daily reports to rebuild because NTP's step re-dated rows they counted (a booth payment taken
on the stale Saturday a Pi booted on is Monday's now, and Monday's report counts it too).

Kept in the store (table config_seen, one key `report_rebuild:<day>` each), in the transaction that
re-dates the rows (gateway/store/redate.py), and forgotten in the one that stores the day's report
built again (gateway/parking/report.py store_report) or deletes it (retention): a power cut between
the re-dating and the rebuild leaves the rebuild to the next run. Kept in memory, it was lost, and
the backfill builds only the days that have no report, so the money stayed in two reports."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import date, datetime

from gateway.timefmt import to_db

# ISO days sort as text: the keys of the days before one are those below its key.
_KEY = "report_rebuild:"


def keep_rebuilds(conn: sqlite3.Connection, days: Iterable[date], at: datetime) -> None:
    """Mark the days' reports to be rebuilt, in the caller's transaction (one marked already stays)."""
    conn.executemany(
        "INSERT OR IGNORE INTO config_seen (key, value, first_seen) VALUES (?, '', ?)",
        [(_KEY + day.isoformat(), to_db(at)) for day in days],
    )


def reports_to_rebuild(conn: sqlite3.Connection) -> list[date]:
    """The days whose report is kept and waits to be rebuilt, oldest first: one retention deleted
    is never built again."""
    rows = conn.execute(
        "SELECT r.day FROM daily_reports r JOIN config_seen c ON c.key = ? || r.day ORDER BY r.day", (_KEY,)
    )
    return [date.fromisoformat(day) for (day,) in rows]


def forget_rebuild(conn: sqlite3.Connection, day: str) -> None:
    """The day's report is stored as its rows are now (in the caller's transaction)."""
    conn.execute("DELETE FROM config_seen WHERE key = ?", (_KEY + day,))


def forget_rebuilds_before(conn: sqlite3.Connection, day: str) -> None:
    """Retention deleted the reports before `day`: a day deleted is never built again."""
    conn.execute("DELETE FROM config_seen WHERE key >= ? AND key < ?", (_KEY, _KEY + day))

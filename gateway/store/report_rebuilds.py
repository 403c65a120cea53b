"""The daily reports to rebuild because NTP's step re-dated rows they counted (a booth payment taken
on the stale Saturday a Pi booted on is Monday's now, and Monday's report counts it too).

Kept in the store (table config_seen, one key `report_rebuild:<day>` each), in the transaction that
re-dates the rows (gateway/store/redate.py), and forgotten in the one that stores the day's report
built again (gateway/parking/report.py store_report) or deletes it (retention): a power cut between
the re-dating and the rebuild leaves the rebuild to the next run. Kept in memory, it was lost, and
the backfill builds only the days that have no report, so the money stayed in two reports.

A mark is forgotten only by a report whose rows were read after it was made: a report built by hand
reads its rows, then waits its turn on the decision worker to store them, and a re-dating may
commit in between (on the same worker). Stored, that report still counts the rows on their old
dates; had it taken the mark with it, the money stayed in two reports. So each marking renews the
mark (its value, a count), the builder reads the mark before its rows (rebuild_mark), and the store
forgets the mark only if it is still the one read (forget_rebuild)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import date, datetime

from gateway.timefmt import to_db

# ISO days sort as text: the keys of the days before one are those below its key.
_KEY = "report_rebuild:"


def keep_rebuilds(conn: sqlite3.Connection, days: Iterable[date], at: datetime) -> None:
    """Mark the days' reports to be rebuilt, in the caller's transaction. A day marked already is
    marked anew (its count goes up, first_seen stays): a report read before this re-dating must
    not forget it."""
    conn.executemany(
        "INSERT INTO config_seen (key, value, first_seen) VALUES (?, '1', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        [(_KEY + day.isoformat(), to_db(at)) for day in days],
    )


def reports_to_rebuild(conn: sqlite3.Connection) -> list[date]:
    """The days whose report is kept and waits to be rebuilt, oldest first: one retention deleted
    is never built again."""
    rows = conn.execute(
        "SELECT r.day FROM daily_reports r JOIN config_seen c ON c.key = ? || r.day ORDER BY r.day", (_KEY,)
    )
    return [date.fromisoformat(day) for (day,) in rows]


def rebuild_mark(conn: sqlite3.Connection, day: date) -> str | None:
    """The day's mark as it is now (None: none), read before the report's rows: the report stored
    forgets this mark, and no later one (forget_rebuild)."""
    row = conn.execute("SELECT value FROM config_seen WHERE key = ?", (_KEY + day.isoformat(),)).fetchone()
    return None if row is None else str(row[0])


def forget_rebuild(conn: sqlite3.Connection, day: str, mark: str | None) -> None:
    """The day's report is stored, its rows read after `mark` (rebuild_mark; None: there was none),
    in the caller's transaction: that mark is forgotten. One a re-dating made or renewed since
    stays, and the next reports step builds the day again."""
    conn.execute("DELETE FROM config_seen WHERE key = ? AND value = ?", (_KEY + day, mark))


def forget_rebuilds_before(conn: sqlite3.Connection, day: str) -> None:
    """Retention deleted the reports before `day`: a day deleted is never built again."""
    conn.execute("DELETE FROM config_seen WHERE key >= ? AND key < ?", (_KEY, _KEY + day))

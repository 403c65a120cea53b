"""The daily reports to rebuild because NTP's step re-dated rows they counted (a booth payment taken
on the stale Saturday a Pi booted on is Monday's now, and Monday's report counts it too).

Kept in the store (table config_seen, one key `report_rebuild:<day>` each), in the transaction that
re-dates the rows (gateway/store/redate.py), and forgotten in the one that stores the day's report
built again (gateway/parking/report.py store_report) or deletes it (retention): a power cut between
the re-dating and the rebuild leaves the rebuild to the next run. Kept in memory, it was lost, and
the backfill builds only the days that have no report, so the money stayed in two reports.

A mark is forgotten only by a report whose rows were read after every re-dating so far: a report
built by hand reads its rows, then waits its turn on the decision worker to store them, and a
re-dating may commit in between (on the same worker). Stored, that report still counts the rows on
their old dates, and the re-dating could not mark it (a day with no report kept yet is marked by
none: the report stored is). So each re-dating counts itself (`redatings`, a count kept with the
marks), the builder reads the count before its rows, and the store forgets the day's mark only if
the count is still the one read; else it marks the day, and the next reports step builds it again.

A stay's end moved on a day already reported marks that day's report too, counted as a re-dating
(rebuild_reports_holding): a guard's plate correction that closes the entry's stay where its car
left with no entry record, reopens one (a missed exit given back, or its own close undone by a
correction of that correction) or closes one again (gateway/store/corrections.py), and an admin's
close ending a stay at an exit corrected to its plate earlier (gateway/parking/desk_stays.py). The
report sent counted the stay closed (`temporary_stays_closed`, by its end) or open as it stood; the
day it now ended on is that report's, so no later report counts it, and the centre, told by a
`stay` record that it ended then, held no report that counted it.

A running clock's step marks the reports built on a clock ahead of it (rebuild_built_ahead, with
its clock_stepped alarm): the report of a day built the morning NTP's bad answer put the clock a
day ahead counted half of it, and the backfill builds only the days that have no report.

A payment's method corrected (gateway/store/payment_method.py: cash tapped as QR) marks nothing: the
kept report of its day has the amount moved (gateway/parking/report.py move_method_in_kept_reports),
and a report being built counts the revenue by method again as it is stored (store_report)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import date, datetime

from gateway.timefmt import to_db

# ISO days sort as text: the keys of the days before one are those below its key.
_KEY = "report_rebuild:"
# The re-datings committed so far (a count): not under _KEY, so no day's mark.
_REDATINGS = "report_redatings"


def keep_rebuilds(conn: sqlite3.Connection, days: Iterable[date], at: datetime) -> None:
    """Mark the days' reports to be rebuilt (one marked already stays), and count the re-dating, in
    its transaction: a report whose rows were read before it is not stored as final (store_report)."""
    _mark(conn, days, at)
    conn.execute(
        "INSERT INTO config_seen (key, value, first_seen) VALUES (?, '1', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        (_REDATINGS, to_db(at)),
    )


def _mark(conn: sqlite3.Connection, days: Iterable[date], at: datetime) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO config_seen (key, value, first_seen) VALUES (?, '', ?)",
        [(_KEY + day.isoformat(), to_db(at)) for day in days],
    )


def rebuild_reports_holding(
    conn: sqlite3.Connection, moments: Iterable[datetime], at: datetime
) -> list[date]:
    """A stay's end moved from or to each of `moments`: the reports kept whose period holds one of
    them are marked to be rebuilt (and sent again), as a re-dating marks them (keep_rebuilds, in the
    caller's transaction; a report read before it is not stored as final). Returns the days marked."""
    moments = list(moments)
    if not moments:
        return []
    rows = conn.execute("SELECT day, period_start, period_end FROM daily_reports")
    days = [
        date.fromisoformat(day)
        for day, start, end in rows
        if any(datetime.fromisoformat(start) <= m < datetime.fromisoformat(end) for m in moments)
    ]
    keep_rebuilds(conn, days, at)
    return days


def rebuild_built_ahead(conn: sqlite3.Connection, now: datetime) -> list[date]:
    """The clock stepped to `now`: the reports kept that were built after it were built on a clock
    ahead (a bad NTP server's day ahead, set right), maybe before their day really ended, with the
    rest of the day in no report. Each is marked to be rebuilt (keep_rebuilds, in the caller's
    transaction), once its day has ended on the clock as it is (DailyReports._rebuild_stale): the
    rebuild is sent again, and the newest `report` of a day holds upstream. Returns the days marked."""
    rows = conn.execute("SELECT day, built_at FROM daily_reports")
    days = [date.fromisoformat(day) for day, built in rows if datetime.fromisoformat(built) > now]
    if days:
        keep_rebuilds(conn, days, now)
    return days


def reports_to_rebuild(conn: sqlite3.Connection) -> list[date]:
    """The days whose report is kept and waits to be rebuilt, oldest first: one retention deleted
    is never built again."""
    rows = conn.execute(
        "SELECT r.day FROM daily_reports r JOIN config_seen c ON c.key = ? || r.day ORDER BY r.day", (_KEY,)
    )
    return [date.fromisoformat(day) for (day,) in rows]


def redatings(conn: sqlite3.Connection) -> int:
    """The re-datings committed so far, read before a report's rows (store_report's `read_after`)."""
    row = conn.execute(
        "SELECT CAST(value AS INTEGER) FROM config_seen WHERE key = ?", (_REDATINGS,)
    ).fetchone()
    return 0 if row is None else int(row[0])


def stored_rebuild(conn: sqlite3.Connection, day: date, read_after: int, at: datetime) -> None:
    """The day's report is stored, its rows read after `read_after` re-datings (redatings), in the
    caller's transaction: its mark is forgotten if none has committed since; else the day is marked,
    as the rows it counts may be on their old dates, and the next reports step builds it again."""
    if redatings(conn) == read_after:
        conn.execute("DELETE FROM config_seen WHERE key = ?", (_KEY + day.isoformat(),))
    else:
        _mark(conn, [day], at)


def forget_rebuilds_before(conn: sqlite3.Connection, day: str) -> None:
    """Retention deleted the reports before `day`: a day deleted is never built again."""
    conn.execute("DELETE FROM config_seen WHERE key >= ? AND key < ?", (_KEY, _KEY + day))

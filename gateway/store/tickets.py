"""The tickets of cars with no plate (gateway/core/tickets.py) as the store has them: the next one to
give at an entrance, and those of the cars recorded inside."""

from __future__ import annotations

import sqlite3
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from gateway.core.tickets import PREFIX, day_prefix, number_of, ticket
from gateway.timefmt import to_db

# The day's tickets given so far: each entrance decision on one is on record, admitted or not (a
# refused car keeps its number: the guard may have written it down already).
_GIVEN_TODAY = """
SELECT value FROM access_log
WHERE at >= :start AND at < :end AND kind = 'plate' AND value >= :lo AND value < :hi
"""
# And a car with that day's ticket still inside from a year before (nobody closed its stay).
_INSIDE_OF_DAY = "SELECT plate FROM stays WHERE exited_at IS NULL AND plate >= :lo AND plate < :hi"
# '.' follows '-': every ticket lies between the prefix and the prefix with its dash as a dot.
_INSIDE = """
SELECT id, plate, entered_at, zone, class FROM stays
WHERE exited_at IS NULL AND plate >= :lo AND plate < :hi
ORDER BY entered_at DESC, id DESC
"""
_INSIDE_ON = "SELECT 1 FROM stays WHERE exited_at IS NULL AND plate = ? LIMIT 1"


def _after(prefix: str) -> str:
    return prefix[:-1] + "."


def next_ticket(conn: sqlite3.Connection, at: datetime) -> str:
    """The ticket to give a car with no plate at `at` (in the site's time): one past the highest of
    that day's. Called in the entrance decision's transaction, so two guards tapping 无牌车 at once
    get two numbers."""
    day = at.date()
    start = datetime.combine(day, time(0), at.tzinfo)
    prefix = day_prefix(day)
    span = {"lo": prefix, "hi": _after(prefix)}
    today = {"start": to_db(start), "end": to_db(start + timedelta(days=1))}
    given = conn.execute(_GIVEN_TODAY, {**span, **today})
    inside = conn.execute(_INSIDE_OF_DAY, span)
    highest = max((number_of(row[0]) for row in [*given, *inside]), default=0)
    return ticket(day, highest + 1)


def tickets_inside(conn: sqlite3.Connection, tz: tzinfo) -> list[dict[str, Any]]:
    """The cars with no plate recorded inside, newest first: their ticket, stay, entry time (in
    the site's time `tz`), zone and class."""
    rows = conn.execute(_INSIDE, {"lo": PREFIX, "hi": _after(PREFIX)}).fetchall()
    return [
        {
            "ticket": plate,
            "stay_id": stay_id,
            "entered_at": datetime.fromisoformat(entered).astimezone(tz).isoformat(timespec="seconds"),
            "zone": zone,
            "class": vclass,
        }
        for stay_id, plate, entered, zone, vclass in rows
    ]


def ticket_inside(conn: sqlite3.Connection, value: str) -> bool:
    return conn.execute(_INSIDE_ON, (value,)).fetchone() is not None

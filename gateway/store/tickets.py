"""The tickets of cars with no plate (gateway/core/tickets.py) as the store has them: the next one to
give at an entrance, and those of the cars recorded inside."""

from __future__ import annotations

import sqlite3
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from gateway.core.tickets import PREFIX, day_prefix, number_of, ticket
from gateway.timefmt import from_db, to_db

# The tickets of a month-day given on that day of a year: each entrance decision on one is on record,
# admitted or not (a refused car keeps its number: the guard may have written it down already).
# Through the index on `at`, one day of each year the access log keeps (no index on `value`).
_GIVEN_ON_DAY = """
SELECT value FROM access_log
WHERE at >= :start AND at < :end AND kind = 'plate' AND value >= :lo AND value < :hi
"""
# And the stays that came in that day on one: a car with no plate an admin recorded inside on
# a ticket of the day it came in (gateway/parking/inside.py), which no access record names then.
# Through the index on entered_at (stays_entered).
_ENTERED_ON_DAY = """
SELECT plate FROM stays WHERE entered_at >= :start AND entered_at < :end AND plate >= :lo AND plate < :hi
"""
_FIRST_RECORD = "SELECT min(at) FROM access_log"
# And a car with that month-day's ticket still inside from a year before (nobody closed its stay).
_INSIDE_OF_DAY = "SELECT plate FROM stays WHERE exited_at IS NULL AND plate >= :lo AND plate < :hi"
# And a charge still owed on one (a car let out by hand unpaid): charges are never deleted, so this
# holds after retention has deleted the ticket's records (charges_unsettled_plate is its index).
_OWED_OF_DAY = "SELECT plate FROM charges WHERE settled_at IS NULL AND plate >= :lo AND plate < :hi"
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
    that month-day's on record, in any year (a ticket has no year). A ticket is so never given
    again while a record names it or a charge is owed on it: a charge carried on a ticket (its car
    let out by hand unpaid) would be asked of the car given it next, whose plate it then is.
    Called in the entrance decision's transaction, so two guards tapping 无牌车 at once get two
    numbers, and an admin recording cars with no plate found inside gets one each (the ticket of
    the day each came in: gateway/parking/inside.py)."""
    day = at.date()
    prefix = day_prefix(day)
    span = {"lo": prefix, "hi": _after(prefix)}
    found = [row[0] for row in conn.execute(_INSIDE_OF_DAY, span)]
    found += [row[0] for row in conn.execute(_OWED_OF_DAY, span)]
    first = from_db(conn.execute(_FIRST_RECORD).fetchone()[0])
    for year in range(min(first.year if first else day.year, day.year), day.year + 1):
        try:
            start = datetime.combine(day.replace(year=year), time(0), at.tzinfo)
        except ValueError:
            continue  # 29 February, in a year without one
        given = {"start": to_db(start), "end": to_db(start + timedelta(days=1))}
        found += [row[0] for row in conn.execute(_GIVEN_ON_DAY, {**span, **given})]
        found += [row[0] for row in conn.execute(_ENTERED_ON_DAY, {**span, **given})]
    return ticket(day, max(map(number_of, found), default=0) + 1)


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

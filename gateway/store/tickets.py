"""The tickets of cars with no plate (gateway/core/tickets.py) as the store has them: the next one to
give at an entrance, and those of the cars recorded inside, which a ticket refused names."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, tzinfo
from typing import Any

from gateway.core.model import SAME_PASSAGE
from gateway.core.tickets import PREFIX, day_prefix, number_of, ticket
from gateway.errors import NotFound
from gateway.store.neighbour_rows import not_neighbours_sql
from gateway.timefmt import elapsed, from_db

# What every ticket begins with, written out as the partial indexes of tickets say it
# (access_log_tickets and stays_tickets, gateway/store/schema.py): SQLite uses a partial index only
# for a query that states its WHERE terms word for word. Not a range on the column: stated as one,
# SQLite walked the index from it, every ticket of every day, rather than the month-day's (:lo, :hi).
_A_TICKET = "substr({column}, 1, 3) = '无牌-'"
# The tickets of a month-day on record, whatever the record's date: each entrance decision on one,
# admitted or not (a refused car keeps its number: the guard may have written it down already), and
# every later record naming it, kept as long as it is (an exit after midnight, dated the next day,
# outlives the entry when it was delivered to the centre later, or never: gateway/store/retention.py).
# Through the index of the tickets in the log (access_log_tickets): a day's records on a busy
# estate, or the log's million, are never read while the lane waits.
_GIVEN_OF_DAY = f"""
SELECT value FROM access_log
WHERE kind = 'plate' AND {_A_TICKET.format(column="value")} AND value >= :lo AND value < :hi
"""
# And every stay kept on one, open or closed: a car with no plate an admin recorded inside
# (gateway/parking/inside.py), which no access record names, or one whose records are gone before
# its stay. Through the index of the stays on tickets (stays_tickets).
_STAYED_OF_DAY = f"""
SELECT plate FROM stays WHERE {_A_TICKET.format(column="plate")} AND plate >= :lo AND plate < :hi
"""
# And a charge still owed on one (a car let out by hand unpaid): charges are never deleted, so this
# holds after retention has deleted the ticket's records (charges_unsettled_plate is its index).
_OWED_OF_DAY = "SELECT plate FROM charges WHERE settled_at IS NULL AND plate >= :lo AND plate < :hi"
# And one a correction to 无牌车 gave a record the camera misread (gateway/api/corrections.py), kept
# when its stay has moved on to the plate the driver came back with. Corrections are few: read whole.
_CORRECTED_OF_DAY = "SELECT plate FROM plate_corrections WHERE plate >= :lo AND plate < :hi"
# The ticket a record stands for: the one it was decided on, else the one a correction gave it.
_DECIDED_ON = f"SELECT value FROM access_log WHERE event_id = ? AND {_A_TICKET.format(column='value')}"
_GIVEN_BY_CORRECTION = f"""
SELECT plate FROM plate_corrections WHERE event_id = ? AND {_A_TICKET.format(column="plate")}
ORDER BY id LIMIT 1
"""
# '.' follows '-': every ticket lies between the prefix and the prefix with its dash as a dot.
_INSIDE = """
SELECT id, plate, entered_at, zone, class FROM stays
WHERE exited_at IS NULL AND plate >= :lo AND plate < :hi
ORDER BY entered_at DESC, id DESC
"""
_INSIDE_ON = "SELECT 1 FROM stays WHERE exited_at IS NULL AND plate = ? LIMIT 1"
# The lane's records after the one a tablet showed last (its event id; "", the page having shown
# none there, or one the log does not have: all of the lane's), newest first. A few at most: more, and it
# was no moment ago (_A_FEW). Not the car of the exit beside read by the entrance camera as it left
# (neighbour_lane): no car at this barrier, and taken for one, the second guard's 无牌车 for the car
# the first had just given a ticket was a second ticket and stay (Review 62j).
_A_FEW = 4
_SINCE_SHOWN = f"""
SELECT kind, value, admitted, at FROM access_log INDEXED BY access_log_lane
WHERE lane = :lane AND id > coalesce((SELECT id FROM access_log WHERE event_id = :shown), 0)
  AND {not_neighbours_sql()}
ORDER BY id DESC LIMIT {_A_FEW + 1}
"""


def _after(prefix: str) -> str:
    return prefix[:-1] + "."


def next_ticket(conn: sqlite3.Connection, at: datetime) -> str:
    """The ticket to give a car with no plate at `at` (in the site's time): one past the highest of
    that month-day's that any access record, correction or stay kept names, whatever its date and
    year (a ticket has no year). A ticket is so never given again while a record names it or a
    charge is owed on it: a charge carried on a ticket (its car let out by hand unpaid) would be asked of the
    car given it next, whose plate it then is.
    Called in the entrance decision's transaction, so two guards tapping 无牌车 at once get two
    numbers, and an admin recording cars with no plate found inside gets one each (the ticket of
    the day each came in: gateway/parking/inside.py)."""
    day = at.date()
    prefix = day_prefix(day)
    span = {"lo": prefix, "hi": _after(prefix)}
    found = [row[0] for row in conn.execute(_GIVEN_OF_DAY, span)]
    found += [row[0] for row in conn.execute(_STAYED_OF_DAY, span)]
    found += [row[0] for row in conn.execute(_OWED_OF_DAY, span)]
    found += [row[0] for row in conn.execute(_CORRECTED_OF_DAY, span)]
    return ticket(day, max(map(number_of, found), default=0) + 1)


def ticket_let_in_since(conn: sqlite3.Connection, lane: str, shown: str, at: datetime) -> str | None:
    """The ticket of the car with no plate the entrance `lane` let in since record `shown`, the
    lane's newest a guard's tablet has shown him, when 无牌车 tapped there at `at` is that car: two
    guards in the booth tapped it for one car within a moment, neither tablet showing the other's
    ticket yet (review 60j). Every record since names that ticket (the other tablet's tap, and
    maybe a third's, answered `again`), the newest let it in within SAME_PASSAGE. None for a new
    car: the guard had seen the last car's ticket before he tapped (a convoy of cars with no plate
    through one lane), or the lane decided another car since, or it was longer ago."""
    rows = conn.execute(_SINCE_SHOWN, {"lane": lane, "shown": shown}).fetchall()
    if not 0 < len(rows) <= _A_FEW or not all(r[0] == "plate" and r[1] == rows[0][1] for r in rows):
        return None
    _, value, admitted, when = rows[0]
    stamp = from_db(when)
    if not (admitted and value.startswith(PREFIX)) or stamp is None:
        return None
    return str(value) if abs(elapsed(stamp, at)) <= SAME_PASSAGE else None


def record_ticket(conn: sqlite3.Connection, event_id: str) -> str | None:
    """The ticket of the car of access record `event_id`: the one it was decided on, or the one a
    correction to 无牌车 gave it (the camera read a plate off a car that has none); None if neither.
    A car keeps its ticket: corrected to 无牌车 again, or back from the plate typed in between, it
    is that ticket, never a second one."""
    for sql in (_DECIDED_ON, _GIVEN_BY_CORRECTION):
        row = conn.execute(sql, (event_id,)).fetchone()
        if row is not None:
            return str(row[0])
    return None


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


def tickets_named(conn: sqlite3.Connection, first: str = "check the ticket") -> str:
    """The fix of a ticket refused at an exit or the booth: `first`, then the tickets of the cars
    with no plate inside now, for the guard to find the one the driver holds. The error carries
    them too (tickets_data), for the pages to say in the guard's language."""
    inside = tickets_data(conn)["tickets"]
    if not inside:
        return f"{first}: no car with no plate is recorded inside now"
    return f"{first}: inside now {', '.join(inside)}"


def tickets_data(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The data of a ticket refused at an exit or the booth (GatewayError.data): the tickets of the
    cars with no plate inside now, newest first, which the pages name (app.js errorText)."""
    return {"tickets": [t["ticket"] for t in tickets_inside(conn, UTC)]}  # the numbers only: any zone


def no_such_ticket(conn: sqlite3.Connection, text: str) -> NotFound:
    """404 `unknown_ticket` for a ticket typed wrong (无牌—0303, its counter left out; 0303-1): no
    ticket, and no plate either, so never told to type a plate the car does not have. The fix
    names the tickets inside, and so does its data."""
    said = f"{text.strip()!r} is no ticket (无牌-0303-07, or its number 0303-07), nor a plate (皖A12345)"
    return NotFound(said, fix=tickets_named(conn), code="unknown_ticket", data=tickets_data(conn))

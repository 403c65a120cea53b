"""Which stored passes are still in use, as the door judges them (core/windows.py Validity).

A pass's night counts for the day it began: a night crew's pass for 1-2 Nov with hours 22:00-06:00
lets the crew in until 06:00 on 3 Nov, six hours past its stored end (valid_to, the midnight after
its last day). A query comparing the stored end with now had the pass over at midnight while the
door still opened to it: a later visit's pass took the crew's plate then (its car refused in its
last night), and a pass checked out did not hand the plate back to it. A night runs less than a day,
so a query reads the passes whose stored end is after ends_after(now), and in_use keeps those the
door's rule says are not over.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from gateway.core.windows import Validity, stored_windows
from gateway.timefmt import from_db, later, to_db

Row = TypeVar("Row")
# How far past its stored end a pass's last night may run (its hours end before the next midnight).
_LAST_NIGHT = timedelta(days=1)


def ends_after(now: datetime) -> str:
    """The stored end (valid_to, as the store keeps times) that a pass still in use at `now` ends
    after: a query's bound, for in_use to keep the passes the door's rule says are in use."""
    return to_db(later(now, -_LAST_NIGHT))


def stored_validity(valid_from: str | None, valid_to: str | None, hours: str) -> Validity:
    """A stored pass's (or credential's) dates and hours, as the door judges them."""
    return Validity(from_db(valid_from), from_db(valid_to), stored_windows(hours))


def in_use(
    rows: Iterable[Row], now: datetime, validity: Callable[[Row], Validity], *, begun: bool = False
) -> list[Row]:
    """Of `rows` (read with valid_to > ends_after(now)), in their order, those not over at `now`, a
    last night still running included; `begun`: and begun (a night before its first day is not)."""
    if begun:
        return [r for r in rows if validity(r).covers(now)]
    return [r for r in rows if not validity(r).expired(now)]


def current_pass(conn: sqlite3.Connection, pass_id: int | None, at: datetime) -> Validity | None:
    """The dates and hours of pass `pass_id` where it is not over at `at` (not checked out, its
    last night not over), begun or not (a pass booked for later holds its plate): the one rule for
    whether a pass still holds its plate, a visit registered at the booth (passes.py) and a car
    re-registered onto the plate (registry_vehicles.py) alike."""
    rows = conn.execute(
        "SELECT valid_from, valid_to, hours FROM passes "
        "WHERE id = ? AND checked_out_at IS NULL AND valid_to > ?",
        (pass_id, ends_after(at)),
    ).fetchall()
    current = in_use(rows, at, lambda row: stored_validity(*row))
    return stored_validity(*current[0]) if current else None

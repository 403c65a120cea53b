"""Rows dated on a wrong clock, moved once NTP sets it right (a Pi has no real-time clock: it boots on
fake-hwclock's stale time): the alarms raised and the stays begun on the old clock, so that their
age, a repair deadline, the report's downtime and a car's fee are true. Each function owns its
transaction (the operations thread's re-dating step, Operations._follow_clock)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from gateway.store.database import transaction
from gateway.timefmt import from_db, to_db


def written_on_old_clock(at: datetime, step: timedelta, now: datetime) -> bool:
    """Whether `at` was written on a clock that was set right by `step` at `now` (a Pi's boot
    clock, until NTP): before the old clock's `now - step` when it was behind, after `now` when
    it was ahead."""
    return at <= now - step if step > timedelta(0) else at > now


def redate_alarms(conn: sqlite3.Connection, from_id: int, step: timedelta, now: datetime) -> int:
    """Move by `step` the times of alarms from id `from_id` on that were written on a clock since
    set right by `step` (written_on_old_clock). Returns how many alarms changed."""
    moved_rows = 0
    with transaction(conn):
        # This boot's alarms, and older ones cleared or acknowledged "before" they were raised:
        # that can only be the old clock, after a fault from before a power cut came back.
        rows = conn.execute(
            "SELECT id, raised_at, cleared_at, acknowledged_at FROM alarms WHERE id >= ? "
            "OR cleared_at < raised_at OR acknowledged_at < raised_at",
            (from_id,),
        ).fetchall()
        for alarm_id, *stored in rows:
            moved = _moved(stored, step, now, partial(_alarm_moves, alarm_id >= from_id, from_db(stored[0])))
            if moved != stored:
                moved_rows += 1
                conn.execute(
                    "UPDATE alarms SET raised_at = ?, cleared_at = ?, acknowledged_at = ? WHERE id = ?",
                    (*moved, alarm_id),
                )
    return moved_rows


def _alarm_moves(this_boot: bool, raised: datetime | None, column: int, at: datetime) -> bool:
    """All the times of an alarm of this boot; of an older one, only a clearing or acknowledgement
    dated before it was raised."""
    return this_boot or (column > 0 and raised is not None and at < raised)


# What is dated on a stay's clock and moves with it: (table, the column naming the stay, its times).
_STAY_TIMES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("stays", "id", ("entered_at", "billed_until")),
    ("payments", "stay_id", ("at", "fee_until")),  # paid ahead at the booth: grace and fee run from it
    ("validations", "stay_id", ("at",)),
)


def redate_stays(conn: sqlite3.Connection, from_id: int, step: timedelta, now: datetime) -> int:
    """The cars inside on stays from id `from_id` on (this boot's) whose entry was dated on a
    clock since set right by `step`: their entry and billing start move with it, so that they pay
    for their real stay, and so do the payments and the host's validation made during the stay on
    that clock (a fee paid ahead at the booth still covers the car). The access log keeps the entry
    as the gate recorded it (append-only). Returns how many stays changed."""
    moved = 0
    with transaction(conn):
        stays = conn.execute(
            "SELECT id FROM stays WHERE id >= ? AND exited_at IS NULL", (from_id,)
        ).fetchall()
        for (stay_id,) in stays:
            moved += any([_redate_rows(conn, *times, stay_id, step, now) for times in _STAY_TIMES])
    return moved


def _redate_rows(
    conn: sqlite3.Connection,
    table: str,
    of_stay: str,
    columns: tuple[str, ...],
    stay_id: int,
    step: timedelta,
    now: datetime,
) -> bool:
    """Move the times of `table`'s rows for the stay that were written on the old clock by `step`;
    those written since the clock was set right stay as they are."""
    changed = False
    rows = conn.execute(f"SELECT rowid, {', '.join(columns)} FROM {table} WHERE {of_stay} = ?", (stay_id,))
    for rowid, *stored in rows.fetchall():
        new = _moved(stored, step, now)
        if new != stored:
            changed = True
            sets = ", ".join(f"{column} = ?" for column in columns)
            conn.execute(f"UPDATE {table} SET {sets} WHERE rowid = ?", (*new, rowid))
    return changed


def _moved(
    stored: list[str | None],
    step: timedelta,
    now: datetime,
    also: Callable[[int, datetime], bool] = lambda column, at: True,
) -> list[str | None]:
    """Stored times, those written on the old clock (and for which `also(column, time)` holds)
    moved by `step`; the others, and NULLs, as they are."""
    times = [from_db(t) for t in stored]
    return [
        to_db(at + step) if at is not None and written_on_old_clock(at, step, now) and also(i, at) else t
        for i, (at, t) in enumerate(zip(times, stored, strict=True))
    ]

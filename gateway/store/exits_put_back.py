"""An exit whose barrier did not open, put back: the stay it closed open again, its charge undone, and the
exit (and its repeats) kept as put back (exits_put_back), also one that closed no stay but took a day's fee.

Like gateway/store/parking.py, every function here runs inside a transaction its caller owns.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from gateway.core.model import AGAIN
from gateway.store.charge_rows import _spent_on_carried, charge_owed_sql, void_charge
from gateway.store.flags_sql import has_flag_sql, lacks_flag_sql
from gateway.store.stay_rows import open_stay
from gateway.timefmt import to_db

# The stay an exit's decision closed (gateway/store/record.py names it as the stay's exit_event),
# and that exit's own charge (settle_exit), for a car whose barrier did not open (put_back).
_CLOSED_BY_EXIT = "SELECT id, subject, plate, class FROM stays WHERE exit_event = ? AND closed_by = 'exit'"
_OPEN_AGAIN = "UPDATE stays SET exited_at = NULL, exit_event = NULL, closed_by = NULL WHERE id = ?"
# The slot the stay was on, where no other car holds it now: the exit handed it to the slot's
# second car (settle's handover), and that car keeps it (docs/parking.md, *Let out by hand*).
_SLOT_STILL_ITS = """
SELECT s.slot_id FROM stays s WHERE s.id = :id AND NOT EXISTS (
    SELECT 1 FROM stays o WHERE o.slot_id = s.slot_id AND o.exited_at IS NULL AND o.id <> s.id)
"""
_OFF_ITS_SLOT = "UPDATE stays SET slot_id = NULL WHERE id = ?"
# The exit, kept as the attempt (schema migration 49): a guard's opening by hand of its lane lets the
# car out as one refused there (gateway/store/holds.py), and the daily report counts it as no exit.
_EXIT_PUT_BACK = "INSERT INTO exits_put_back (event_id, stay_id) VALUES (?, ?)"
_EXIT_CHARGE = """
SELECT id, plate FROM charges WHERE event_id = ? AND stay_id = ? AND kind = 'exit' AND voided_at IS NULL
"""
# The day's fee an exit that closed no stay charged its car with no entry record (settle_exit's
# `no_entry` charge, written at the decision's moment: on the charges' time index), paid there.
_PAID_WITH_NO_STAY = """
SELECT c.subject, c.plate, c.class FROM charges c INDEXED BY charges_at
WHERE c.at = :at AND c.event_id = :event AND c.stay_id IS NULL AND c.kind = 'no_entry'
  AND c.voided_at IS NULL AND EXISTS (SELECT 1 FROM payments p WHERE p.charge_id = c.id)
"""
# The exit a repeat (flag again) repeats, where that exit is kept put back: the car's last exit let
# out before it (by record) that is no repeat, with none let out since whose barrier opened (each
# since kept put back too), on the log's index of exits; with the stay it closed and was put back on
# (None: it closed none). The moment of one that closed no stay is its charge's (_PAID_WITH_NO_STAY).
_EXIT_REPEATED_PUT_BACK = f"""
SELECT a.event_id, a.at, x.stay_id FROM access_log r
JOIN access_log a INDEXED BY access_log_exits ON a.car = r.car AND a.at <= r.at AND a.id < r.id
JOIN exits_put_back x ON x.event_id = a.event_id
WHERE r.event_id = :event AND {has_flag_sql("r.flags", AGAIN)}
  AND a.admitted = 1 AND a.direction = 'exit' AND a.lane_type = 'vehicle'
  AND {lacks_flag_sql("a.flags", AGAIN)}
  AND NOT EXISTS (SELECT 1 FROM access_log l INDEXED BY access_log_exits
                  WHERE l.car = r.car AND l.at >= a.at AND l.at <= r.at AND l.id > a.id AND l.id < r.id
                    AND l.admitted = 1 AND l.direction = 'exit' AND l.lane_type = 'vehicle'
                    AND NOT EXISTS (SELECT 1 FROM exits_put_back y WHERE y.event_id = l.event_id))
ORDER BY a.at DESC, a.id DESC LIMIT 1
"""
_LINKED_TO = "SELECT id FROM payments WHERE charge_id = ? ORDER BY id"
# The charges carried from a missed exit that the exit settled (_settle_carried, at its moment):
# paid with the money taken then, they stay settled.
_SETTLED_AT_EXIT = f"""
SELECT coalesce(sum({charge_owed_sql()}), 0) FROM charges c
WHERE c.subject = ? AND c.settled_at = ? AND c.kind = 'reentry' AND c.voided_at IS NULL
"""


@dataclass(frozen=True, slots=True)
class PutBack:
    """A stay open again: its car was let out on record at a barrier that did not open."""

    stay_id: int | None  # None: the exit closed no stay (a day's fee paid, kept: _paid_exit_waited_on)
    subject: str
    plate: str | None
    vehicle_class: str
    voided: int | None  # the exit's charge, undone (None: it wrote none)
    slot_id: int | None = None  # the slot it is back on (None: in the shared spaces)


def put_back(
    conn: sqlite3.Connection, event_id: str, at: datetime, tz: tzinfo, repeats: Sequence[str] = ()
) -> PutBack | None:
    """The stay the exit decision `event_id` closed, open again: its car never left (no relay of
    the exit took the pulse). The exit's charge is undone and sent upstream voided, and what was
    paid for it (at the lane, or ahead at the booth) goes back to the stay, as paid ahead: the car
    leaves within the grace period of that payment free, later it pays the rest (book.fee_end).
    What of that money paid charges carried from before that the exit settled is kept on the
    payments (_spent_on_carried): those stay settled, and are not asked again. The exit is kept as
    put back (exits_put_back): its record, admitted, reads as a passage, and a guard's opening by
    hand of the lane found no car at the barrier, letting out a car whose stay then stayed open
    for good, and the daily report counted the car's exit twice. A decision that closed no stay
    but took a day's fee for a car with no entry record is kept so too, that fee standing
    (_paid_exit_waited_on). None where the decision closed no stay and took no such fee, or the
    car has a stay open again since. Its slot, handed at that exit to the slot's
    second car (settle's handover), stays with that car (_back_on_its_slot_if_free). `repeats`:
    the decisions of the exit's passage that repeated it (flag again) before a relay answered,
    none of whose pulses was taken either: kept as put back with the exit (_keep_put_back)."""
    row = conn.execute(_CLOSED_BY_EXIT, (event_id,)).fetchone()
    if row is None:
        return _paid_exit_waited_on(conn, event_id, at, repeats)
    if open_stay(conn, row[1]) is not None:
        return None
    stay_id, subject, plate, vehicle_class = row
    conn.execute(_OPEN_AGAIN, (stay_id,))
    slot_id = _back_on_its_slot_if_free(conn, stay_id)
    _keep_put_back(conn, (event_id, *repeats), stay_id)
    charge = conn.execute(_EXIT_CHARGE, (event_id, stay_id)).fetchone()
    if charge is None:
        return PutBack(stay_id, subject, plate, vehicle_class, None, slot_id)
    charge_id, charge_plate = charge
    payment_ids = tuple(int(r[0]) for r in conn.execute(_LINKED_TO, (charge_id,)).fetchall())
    if payment_ids:
        settled_then = conn.execute(_SETTLED_AT_EXIT, (subject, to_db(at))).fetchone()[0]
        _spent_on_carried(conn, payment_ids, int(settled_then))
    void_charge(conn, (charge_id, "exit", charge_plate, stay_id), event_id, at.astimezone(tz))
    return PutBack(stay_id, subject, plate, vehicle_class, charge_id, slot_id)


def _keep_put_back(conn: sqlite3.Connection, event_ids: Sequence[str], stay_id: int | None) -> None:
    """The decisions `event_ids` of one passage at a barrier that did not open (its exit, and the
    repeats of it that joined the passage before a relay answered: ExitPassages.repeated), each
    kept as put back with the stay the exit closed (or none: a day's fee paid, kept). Each is
    read so on its own record (gateway/store/holds.py _put_back_sql, gateway/parking/desk_barrier.py
    _PAID_EXIT_WAITED_ON): a repeat not kept read as the car let out on a barrier that opened, so
    the guard's opening by hand found no car at the barrier, and a car with no entry record was
    taken for gone on what it paid. A repeat whose own pulse a relay took is no part of it: the
    car drove out on it."""
    conn.executemany(_EXIT_PUT_BACK, [(event_id, stay_id) for event_id in event_ids])


def _paid_exit_waited_on(
    conn: sqlite3.Connection, event_id: str, at: datetime, repeats: Sequence[str] = ()
) -> PutBack | None:
    """The exit decision `event_id` at `at` closed no stay: a car with no entry record that paid the
    day's fee there (exit_without_entry = "charge"), still at the shut arm. Kept as put back with no
    stay (exits_put_back, stay_id NULL), its fee and payment standing as they are: the car leaves
    on that exit, let out again on it when it is read again, nothing charged (ParkingDesk.
    left_settled), or by the guard's opening by hand (the car refused there a moment ago: holds.py
    refused_at_lane), and the daily report counts that exit as its one passage. Not kept, the car
    read again once the relay worked was asked the day's fee again, and paid it twice. So is a
    repeat of such an exit (flag again: the car read again at the shut arm, let out again on what
    it paid) whose pulse no relay took either (_EXIT_REPEATED_PUT_BACK): the car has still not
    left on it; and the repeats `repeats` of the exit that joined its passage (put_back). None for
    any other exit that closed no stay (let out free: decided afresh, it is let out free again)."""
    repeated = conn.execute(_EXIT_REPEATED_PUT_BACK, {"event": event_id}).fetchone()
    if repeated is not None and repeated[2] is not None:
        _repeat_of_stay_put_back(conn, (event_id, *repeats), int(repeated[2]))
        return None
    paid_on, paid_at = (repeated[0], repeated[1]) if repeated is not None else (event_id, to_db(at))
    row = conn.execute(_PAID_WITH_NO_STAY, {"at": paid_at, "event": paid_on}).fetchone()
    if row is None or open_stay(conn, row[0]) is not None:
        return None
    subject, plate, vehicle_class = row
    _keep_put_back(conn, (event_id, *repeats), None)
    return PutBack(None, subject, plate, vehicle_class, None)


def _repeat_of_stay_put_back(conn: sqlite3.Connection, event_ids: Sequence[str], stay_id: int) -> None:
    """A repeat (flag again) of an exit put back on its stay, whose own pulse no relay took either,
    judged after the exit's passage was put back (the exit and the repeat decided together, the
    relay failing at once): kept put back with that stay while it is open, nothing said again (the
    stay was reopened, audited and sent up with the exit). Not kept, it read as the car let out on
    a barrier that opened: the guard's 开闸 found no car, and the car that drove out under it stayed
    inside on record."""
    if conn.execute("SELECT 1 FROM stays WHERE id = ? AND exited_at IS NULL", (stay_id,)).fetchone():
        _keep_put_back(conn, event_ids, stay_id)


def _back_on_its_slot_if_free(conn: sqlite3.Connection, stay_id: int) -> int | None:
    """The slot the stay `stay_id`, open again, is on: its own, unless another car holds it now
    (the exit handed it to the slot's second car, which keeps it). Then the car is in the shared
    spaces, as off_slots_not_theirs moves a car whose slot was handed on, and keeps its billing (a
    resident's car on its own slot still leaves free). Left on the slot, two cars held it, and the
    occupancy counted a shared space free that one of them took: a full car park let a stranger in."""
    row = conn.execute(_SLOT_STILL_ITS, {"id": stay_id}).fetchone()
    if row is None:
        conn.execute(_OFF_ITS_SLOT, (stay_id,))
        return None
    return None if row[0] is None else int(row[0])

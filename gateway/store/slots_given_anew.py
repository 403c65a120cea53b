"""Cars parked on slots a snapshot, delta or import gives their cars anew: the first of its two passes
(parked_as_listed) and the SQL its callers build on (SET_ASIDE, WANTED_BY_ITS_OLD_CAR, HELD_BESIDE).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from gateway.store.slot_handover import _SLOT_TAKEN, off_slots_not_theirs

# The pairs a change's first pass sets aside (parked_as_listed's `going`), as SQL on the
# slot_vehicles row `sv` of a car the change takes off its slot: those of a car inside, and every
# one of a slot a car is parked on (that car may be moved off it).
SET_ASIDE = """(EXISTS (SELECT 1 FROM stays t WHERE t.vehicle_id = sv.vehicle_id AND t.exited_at IS NULL)
    OR EXISTS (SELECT 1 FROM stays t WHERE t.slot_id = sv.slot_id AND t.exited_at IS NULL))"""
_PUT_BACK = "INSERT OR IGNORE INTO slot_vehicles (slot_id, vehicle_id) VALUES (?, ?)"
_PARKED_ON = """SELECT slot_id, vehicle_id FROM stays
    WHERE exited_at IS NULL AND slot_id IN (SELECT value FROM json_each(?))"""
# Whether the car of the slot_vehicles row `n` needs n's slot, of the zone `{zone}`: arriving, it
# parks on it or on none. It has no other slot in the zone, or none that no other car is on while
# the change gives it a slot it is not on yet ({moving_in}: SQL on `n`, true where a row further on
# lists the car): R1's second car B, listed on B001 (A parked there) and B003, which the change
# gives a neighbour and R1 B002 a row further on, needs B003 till B002 is in (B003 handed to the
# neighbour's car at once, B was refused slot_occupied). A car whose household loses the slot, with
# none to come, does not: held for it, the car moving onto the slot stayed on its old one, and its
# household's second car came in free on the new one (two cars free, one slot before and after).
_NEEDS_ITS_SLOT = """(NOT EXISTS (SELECT 1 FROM slot_vehicles o JOIN slots os ON os.id = o.slot_id
        WHERE o.vehicle_id = n.vehicle_id AND o.slot_id != n.slot_id AND os.zone = {zone})
    OR (NOT EXISTS (SELECT 1 FROM slot_vehicles o JOIN slots os ON os.id = o.slot_id
            WHERE o.vehicle_id = n.vehicle_id AND o.slot_id != n.slot_id AND os.zone = {zone}
              AND NOT EXISTS (SELECT 1 FROM stays t WHERE t.exited_at IS NULL AND t.slot_id = o.slot_id
                  AND t.vehicle_id != n.vehicle_id))
        AND {moving_in}))"""
# The (slot, car) pairs of the cars parked on the slots `?` (json) and the free slots of their zone
# that also list them, where such a slot lists a car outside that needs it (_NEEDS_ITS_SLOT). Read
# before the change's pairs are set aside, so that a car listed beside the parked one on the slot
# it leaves (its household's second car) has that slot still, and is not one of them.
_HELD_FOR_ANOTHER = f"""SELECT sv.slot_id, p.vehicle_id FROM stays p
    JOIN slot_vehicles sv ON sv.vehicle_id = p.vehicle_id AND sv.slot_id != p.slot_id
    JOIN slots s ON s.id = sv.slot_id AND s.zone = p.zone
    WHERE p.exited_at IS NULL AND p.slot_id IN (SELECT value FROM json_each(?))
      AND NOT EXISTS (SELECT 1 FROM stays t WHERE t.exited_at IS NULL AND t.slot_id = sv.slot_id)
      AND EXISTS (SELECT 1 FROM slot_vehicles n JOIN vehicles v ON v.id = n.vehicle_id
          WHERE n.slot_id = sv.slot_id AND v.class = 'car'
            AND NOT EXISTS (SELECT 1 FROM stays t WHERE t.exited_at IS NULL AND t.vehicle_id = n.vehicle_id)
            AND {_NEEDS_ITS_SLOT.format(zone="s.zone", moving_in="{moving_in}")})"""
# Whether the slot `sl` lists a car outside that the change takes off it ({{taken_off}}: SQL on its
# slot_vehicles row `n`, true where the change's row for the slot does not list it) and that needs
# it still (_NEEDS_ITS_SLOT, with {{moving_in}}): arriving, it parks on `sl` (as it was) or on none.
# Such a slot is not handed meanwhile to a car the change gives it that pays in the shared spaces:
# R2's only car on B002, which the change gives R5's Y and R2 B003 further on, was refused
# slot_occupied till B003 was in. Y is handed it in the step that writes B003 or in the second pass.
WANTED_BY_ITS_OLD_CAR = f"""EXISTS (SELECT 1 FROM slot_vehicles n JOIN vehicles v ON v.id = n.vehicle_id
    WHERE n.slot_id = sl.id AND v.class = 'car'
      AND NOT EXISTS (SELECT 1 FROM stays t WHERE t.exited_at IS NULL AND t.vehicle_id = n.vehicle_id)
      AND ({{taken_off}}) AND {_NEEDS_ITS_SLOT.format(zone="sl.zone", moving_in="{moving_in}")})"""
# The cars parked on a slot that a free slot also lists beside one of the cars `{cars}` (SQL for
# their ids, those a change's rows give): as (car, the slot it is on). One held on its old slot for
# that car (_HELD_FOR_ANOTHER) is placed anew in the step that gives the car its new slot, not left
# there till the second pass (its household's second car meanwhile free on the slot held).
HELD_BESIDE = """SELECT t.vehicle_id, t.slot_id FROM slot_vehicles c
        JOIN slot_vehicles h ON h.slot_id = c.slot_id AND h.vehicle_id != c.vehicle_id
        JOIN stays t ON t.vehicle_id = h.vehicle_id AND t.exited_at IS NULL
            AND t.slot_id IS NOT NULL AND t.slot_id != c.slot_id
        WHERE c.vehicle_id IN ({cars})
          AND NOT EXISTS (SELECT 1 FROM stays u WHERE u.exited_at IS NULL AND u.slot_id = c.slot_id)"""
# A car the slot lists that needs it (_NEEDS_ITS_SLOT): arriving, it parks on this one or on none.
_NEEDS_IT = f"""SELECT 1 FROM slot_vehicles n JOIN vehicles v ON v.id = n.vehicle_id
    JOIN slots s ON s.id = n.slot_id
    WHERE n.slot_id = ? AND v.class = 'car'
      AND {_NEEDS_ITS_SLOT.format(zone="s.zone", moving_in="{moving_in}")}"""
_BACK_ON = "UPDATE stays SET slot_id = ? WHERE exited_at IS NULL AND vehicle_id = ? AND slot_id IS NULL"


@contextmanager
def parked_as_listed(
    conn: sqlite3.Connection, at: datetime, going: list[tuple[int, int]], moving_in: str
) -> Iterator[None]:
    """The first of two passes over slots a snapshot, delta or import gives their cars anew (the
    second takes off each slot the cars it no longer lists), around the block in which the caller
    hands its free slots on. The cars parked are placed as the change has them now: one parked on a
    slot the change takes it off (`going`: the (slot, car) pairs that it takes off, SET_ASIDE)
    moves off it, onto a slot that lists it and no car is on, or, where a car the slot lists needs
    it (_NEEDS_IT), into the shared spaces (it still leaves free); else it stays on it till the
    second pass, as it was. Left on its slot, the car made the slot's new car its second car
    (refused, or paying); left on B001 while B101 was sent for it, B101 went to the household's
    second car paying in the shared spaces (one slot, two cars, neither paying). A free slot that
    lists it is not handed to it while another car outside needs that slot (_HELD_FOR_ANOTHER: its
    household's only car, or its second car whose other slot its first car is on, moved to a slot
    further on): it stays on its old slot (or waits in the shared spaces) till that car's new slot
    is in (HELD_BESIDE) or the second pass. `moving_in`: SQL on the slot_vehicles row `n`, true
    where the change gives its car a slot of n's zone that does not list it yet (_NEEDS_ITS_SLOT).

    The pairs are set aside meanwhile, so that no slot is handed to a car the change takes off it,
    and put back for the second pass (a car arriving until then parks on its old slot as before),
    but those of a slot its parked car has left: its other cars the change takes off it were its
    second cars, and left on it they came in free on the slot their household's car had just left,
    while that car parked free on its new slot or in the shared spaces (one slot, two cars free, for
    the whole stay). The car that left loses its own pair on it too, also while it waits in the
    shared spaces (its stay still leaves free): the slot is another car's from this step, and kept
    on it, the waiting car was handed it back at that car's exit, or came back onto it, free, after
    going out, and the car the slot was written for was refused slot_occupied at it."""
    moved: list[tuple[int, int]] = []
    aside = list(going)
    if going:
        slots = json.dumps(sorted({slot_id for slot_id, _ in going}))
        pairs = set(going)
        moved = [pair for pair in conn.execute(_PARKED_ON, (slots,)).fetchall() if pair in pairs]
        aside += _held_for_another(conn, slots, {car for _, car in moved}, pairs, moving_in)
    conn.executemany("DELETE FROM slot_vehicles WHERE slot_id = ? AND vehicle_id = ?", aside)
    if going:
        off_slots_not_theirs(conn, at, "SELECT value FROM json_each(?)", (slots,))
    yield
    left = {slot_id for slot_id, car in moved if not _back_on_its_slot(conn, slot_id, car, moving_in)}
    conn.executemany(_PUT_BACK, [pair for pair in aside if pair[0] not in left])


def _held_for_another(
    conn: sqlite3.Connection, slots: str, cars: set[int], going: set[tuple[int, int]], moving_in: str
) -> list[tuple[int, int]]:
    """The pairs of `cars` (parked on `slots`, moved off them) on a free slot that a car outside
    needs (_HELD_FOR_ANOTHER), set aside with `going` so that the slot is not handed to them this
    step: R2's only car on B002, which the change gives R1 and moves R2 to B003 further on, was
    refused slot_occupied at B002 (R1's car parked on B001 moved onto it at once) till B003 was in."""
    rows = conn.execute(_HELD_FOR_ANOTHER.format(moving_in=moving_in), (slots,)).fetchall()
    return [pair for pair in rows if pair[1] in cars and pair not in going]


def _back_on_its_slot(conn: sqlite3.Connection, slot_id: int, car: int, moving_in: str) -> bool:
    """Whether `car`, moved off `slot_id` by parked_as_listed, goes back onto it: it found no other
    slot, and no car took the slot or needs it. Kept in the shared spaces for nothing, it left the
    slot to its household's second car, which then came in on no slot (or on the slot, free)."""
    if conn.execute(_SLOT_TAKEN, (slot_id,)).fetchone():
        return False
    if conn.execute(_NEEDS_IT.format(moving_in=moving_in), (slot_id,)).fetchone():
        return False
    return conn.execute(_BACK_ON, (slot_id, car)).rowcount > 0

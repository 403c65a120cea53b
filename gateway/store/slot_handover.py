"""Slot handovers (一位多车): a slot its car has left handed to another car of it parked in the shared spaces,
and cars moved off slots that no longer list them.

Like gateway/store/parking.py, every function here runs inside a transaction its caller owns.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from gateway.core.decide import REGISTRATION_FLAGS
from gateway.core.windows import Validity, stored_windows
from gateway.store.outbox import enqueue
from gateway.store.stay_rows import decided_with
from gateway.timefmt import from_db, later, to_db

# How far a handover may be stamped before the entry of the car it hands the slot and still be
# taken as made as that car came in. The first car's exit can be stamped before the second car's
# entry yet decided after it: two camera threads stamp their readings and then queue them (tenths
# of a second), and a guard's opening by hand closes the first car's stay, at the moment it was
# pressed, only once its record is written (HAND_OPEN_WAIT_S, 2 s, or the database's 10 s busy
# timeout) and the relays have answered (a Modbus bus's answer_within_s: a few seconds). Half a
# minute covers those. A gap wider than that is a clock behind the entry (a Pi booted on
# fake-hwclock's stale time, minutes to an hour behind): the second car's stay cannot be timed and
# is held for a day's fee (UNTIMED), as before; taken as "on the slot as it came in", a car that
# was a second car for an hour left free.
HANDED_OVER_LATE = timedelta(seconds=30)
# A stay handed a slot: billing stops now unless it stopped before (a renewal: billed_until_cause),
# and the first handover's moment is kept for the daily report (a car never billed: none). A
# handover stamped at most HANDED_OVER_LATE before the car's entry is at its entry (`:late`, the
# handover's time plus that): billing stopped "before" it began reads as a clock behind the entry,
# charged a day, as renewals._RENEWED clamps a renewal. Stamped earlier still, it is left so.
_HANDED_AT = "CASE WHEN entered_at > :at AND entered_at <= :late THEN entered_at ELSE :at END"
_HANDED_OVER = f"""
UPDATE stays SET slot_id = :slot,
    billed_until = CASE WHEN billing = 'slot' THEN billed_until
        ELSE coalesce(billed_until, {_HANDED_AT}) END,
    handed_over_at = CASE WHEN billing = 'slot' THEN handed_over_at
        ELSE coalesce(handed_over_at, {_HANDED_AT}) END
WHERE id = :id
"""
# A car that pays for none of its stay from now on: it came in free on a slot (billing 'slot'), or
# was handed one (handed_over_at: its billing stopped then, and a slot taken from it does not start
# it again). A car still paying in the shared spaces is not one.
_PAYS_NOTHING = "(s.billing = 'slot' OR s.handed_over_at IS NOT NULL)"
# A car of the slot let in outside its registration (not begun, or ended: decide.py
# _unregistered_now) came in as an unregistered car, and leaves as the temporary car it came in as,
# paying its stay, even once its registration has begun (docs/parking.md, *No slot / unregistered*).
# It is no car of the slot for this stay: handed the slot, its billing stopped, it parked free on it,
# and the slot's registered car coming back was made its second car and paid (review 60l). Told by
# its entry's decision: a month that began overnight counts from the car's next entry, as a month
# sold to a car already parked does (*Monthly*). A car that came in registered is also asked again
# at the handover (_registered_at): one whose registration has ended since (its household moved
# out) is no car of the slot either (review 62d).
_CAME_IN_UNREGISTERED = decided_with(REGISTRATION_FLAGS.values(), "s")
# The car of a slot parked in the shared spaces, moved onto the slot when its car leaves (fixed
# slots are car slots: a motorcycle listed on the slot stays in its own spaces). One that pays
# nothing goes first, then the one waiting longest: handed to a paying second car, the slot stopped
# its billing, and the free car parked on beside it (one slot, two cars, neither paying).
# `:free_only`: only a car that pays nothing. Of the candidates in that order the first still
# registered at the handover is taken (_registered_at: whole days and night hours are not SQL).
# Read from the slot's few cars to their open stays (CROSS JOIN keeps that order, INDEXED BY the
# open stays by car): left to itself, SQLite read every car in the zone's shared spaces
# (stays_open_shared) for each slot, and a delta handing 5,000 slots on while their cars were
# parked held the decision worker for seconds (review 59f).
_HANDOVER_CANDIDATE = f"""
SELECT s.id, s.subject, s.plate, s.vehicle_id FROM slots sl
CROSS JOIN slot_vehicles sv ON sv.slot_id = sl.id
CROSS JOIN stays s INDEXED BY stays_open_vehicle ON s.vehicle_id = sv.vehicle_id
WHERE sl.id = :slot AND s.exited_at IS NULL AND s.slot_id IS NULL AND s.zone = sl.zone AND s.class = 'car'
  AND (:free_only = 0 OR {_PAYS_NOTHING}) AND NOT {_CAME_IN_UNREGISTERED}
ORDER BY {_PAYS_NOTHING} DESC, s.entered_at, s.id
"""
# A car's registration (its plate credential's dates and hours) and its resident's (a lease), as
# lookup.py reads them for the entry decision.
_CAR_REGISTRATION = """
SELECT c.valid_from, c.valid_to, c.hours FROM credentials c
WHERE c.kind = 'plate' AND c.vehicle_id = :car ORDER BY c.blocked DESC, c.id LIMIT 1
"""
_RESIDENT_OF_CAR = """
SELECT r.valid_from, r.valid_to FROM vehicles v JOIN residents r ON r.id = v.resident_id WHERE v.id = :car
"""


def _registered_at(conn: sqlite3.Connection, vehicle_id: int, at: datetime) -> bool:
    """Whether the car and its resident are both registered at `at`, by the rule its entry is
    decided by (decide.py _outside_registration: Validity, whole days and night hours). A car
    outside it now would come in as a stranger (registration_expired): handed the slot of a
    household that moved out, its billing stopped and it parked free from then on (review 62d)."""
    car = conn.execute(_CAR_REGISTRATION, {"car": vehicle_id}).fetchone() or (None, None, "")
    resident = conn.execute(_RESIDENT_OF_CAR, {"car": vehicle_id}).fetchone() or (None, None)
    validities = (
        Validity(from_db(car[0]), from_db(car[1]), stored_windows(car[2])),
        Validity(from_db(resident[0]), from_db(resident[1])),
    )
    return all(v.covers(at) for v in validities)


# The slot the stay closed by the exit `:event` (at `:at` or later) was on, free now, with a car of
# it parked in the shared spaces (_HANDOVER_CANDIDATE).
_SLOT_LEFT_TO_HAND_ON = """
SELECT s.slot_id FROM stays s
WHERE s.exited_at >= :at AND s.exit_event = :event AND s.closed_by = 'exit' AND s.slot_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM stays o WHERE o.exited_at IS NULL AND o.slot_id = s.slot_id)
  AND EXISTS (SELECT 1 FROM stays w JOIN slot_vehicles sv ON sv.vehicle_id = w.vehicle_id
              WHERE sv.slot_id = s.slot_id AND w.exited_at IS NULL AND w.slot_id IS NULL AND w.class = 'car')
"""


def slot_left_to_hand_on(conn: sqlite3.Connection, event_id: str, at: datetime) -> int | None:
    """The slot the car let out by the exit `event_id` at `at` left, where a car of it came in
    while that exit's barrier had not confirmed yet: counted as its slot's second car then (the
    leaving car might be put back on it: CarsLeaving), and, the barrier confirmed, to
    be handed the slot (handover) as if it had come in just after the exit. None where there is
    none (the exit handed the slot at once, or no car of it came in meanwhile)."""
    row = conn.execute(_SLOT_LEFT_TO_HAND_ON, {"event": event_id, "at": to_db(at)}).fetchone()
    return None if row is None else int(row[0])


def handover(
    conn: sqlite3.Connection,
    slot_id: int,
    at: datetime,
    cause: str,
    *,
    free_only: bool = False,
    entered_within: timedelta = HANDED_OVER_LATE,
) -> int | None:
    """一位多车: the car on the slot has gone; another car of the slot still inside moves onto it now.

    Its billing stops at this moment (at its entry, where this moment is at most HANDED_OVER_LATE
    before it), unless it stopped before (a renewal while parked, which keeps its moment); it pays
    for the time before at its exit. Returns its stay id. The daily report counts the handover by
    handed_over_at, the first one's moment (schema migration 28), also for a car renewed before
    it. A car that came in free on a slot (billing "slot") and was moved off it since (struck off,
    its slot handed on) is put back on one: never billed, it has no billing to stop, and the report
    counts none (no second car was involved). Such a car, or one handed a slot before, is put on
    before a car paying, even one that came in before it: handed to the paying one, the slot stopped its
    billing and left the free one parked beside it for nothing (review 57c). A car of the slot
    that came in outside its registration is never handed it: it came in as an unregistered car,
    and pays its stay as one (_CAME_IN_UNREGISTERED); nor is one whose registration, or its
    resident's, is over at `at` (a household moved out: _registered_at).
    `free_only`: only such a car, or one handed a slot before (its billing stopped then, and kept
    stopped: it is the slot's car), is put back (a slot an admin adds again is new to a paying car).
    `entered_within`: a car that came in at most that long after `at` is handed the slot at its
    entry (_HANDED_AT); an admin's close at the exit a car was seen leaving on, found later
    (ParkingDesk.close_stay), hands it so to a car that came in since.
    """
    candidates = conn.execute(_HANDOVER_CANDIDATE, {"slot": slot_id, "free_only": int(free_only)}).fetchall()
    row = next((c for c in candidates if _registered_at(conn, c[3], at)), None)
    if row is None:
        return None
    stay_id, subject, plate, _ = row
    moment = {"at": to_db(at), "late": to_db(later(at, entered_within))}
    conn.execute(_HANDED_OVER, {"slot": slot_id, **moment, "id": stay_id})
    enqueue(
        conn,
        "stay",
        {
            "at": at.isoformat(),
            "change": "handover",
            "stay_id": stay_id,
            "plate": plate,
            "slot_id": slot_id,
            "cause": cause,
        },
        at,
    )
    return int(stay_id)


_SLOTS_OF_THE_CAR = """
SELECT sv.slot_id FROM slot_vehicles sv JOIN stays s ON s.vehicle_id = sv.vehicle_id WHERE s.id = ?
"""
_SLOT_TAKEN = "SELECT 1 FROM stays WHERE exited_at IS NULL AND slot_id = ?"
# The open stays on the slots `{slots}` (SQL for their ids) of cars those slots no longer list.
_ON_A_SLOT_NOT_THEIRS = """
SELECT id, slot_id FROM stays WHERE exited_at IS NULL AND slot_id IN ({slots}) AND NOT EXISTS (
    SELECT 1 FROM slot_vehicles sv WHERE sv.slot_id = stays.slot_id AND sv.vehicle_id = stays.vehicle_id)
"""


def off_slots_not_theirs(
    conn: sqlite3.Connection,
    at: datetime,
    slots: str,
    params: Sequence[Any] | Mapping[str, Any],
    *,
    cause: str = "reassigned",
) -> None:
    """Slots deleted or handed to other cars (an admin, the central server, an import) while a car
    they no longer list is parked on one: that car is still in the garage, so it takes one of the
    zone's shared spaces now (or the zone would take one car too many), and leaves as it came in
    (its stay keeps its billing: a resident's car on its own slot leaves free). Left on the slot,
    it made the slot's new car a second car that pays or is refused until it left. A car of the
    slot already parked in the shared spaces moves onto it at once, as at an exit (handover).
    `slots`: SQL for the slots' ids, with `params`; `cause` the handovers' (a plate correction's
    stay moved off a slot it was handed: `correction`).

    All the cars are moved off first, and then each slot left free, and each slot that now lists a
    car moved off, takes its car: two neighbours' slots swapped (in one step, or in two steps of a
    snapshot) put each car on its new slot, where one handed over before the other car had left it.
    A car that pays nothing (one moved off, or handed a slot before) is put on before one paying
    (handover): B001 renumbered B101 for the same two cars, B101 went to the household's second car
    waiting longest, paying, which stopped its billing, and the car moved off B001 parked free
    beside it (one slot, two cars, neither paying)."""
    moved = conn.execute(_ON_A_SLOT_NOT_THEIRS.format(slots=slots), params).fetchall()
    freed = {slot_id for _, slot_id in moved}
    for stay_id, _ in moved:
        conn.execute("UPDATE stays SET slot_id = NULL WHERE id = ?", (stay_id,))
        freed.update(slot for (slot,) in conn.execute(_SLOTS_OF_THE_CAR, (stay_id,)))
    for slot_id in sorted(freed):
        if conn.execute(_SLOT_TAKEN, (slot_id,)).fetchone() is None:
            handover(conn, slot_id, at, cause)

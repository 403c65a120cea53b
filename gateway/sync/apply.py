"""Applying a staged snapshot or delta to the live tables, on the decision worker, in SQL only.

The staging file is attached for the length of one step and detached after it: a BEGIN IMMEDIATE
on a connection with an attached database takes that database's write lock too, and decisions
must never wait on the staging file.

A delta is applied in one transaction. A snapshot is applied in steps of a few hundred rows, each
its own short transaction, so that a decision never waits longer than one step. sync_state records
how many rows are in, in the same transaction as the step: a restart carries on from there (roll
forward), and applied_version changes only with the last step. While the steps run, a lane sees
each entry either as it was or as the snapshot has it; never a half-written entry, and never a
snapshot left half applied.

Upserts leave a row alone when nothing in it changed, so a daily full resync writes only what moved.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.errors import Conflict
from gateway.privacy import mask_card, mask_name
from gateway.store.audit import audit
from gateway.store.database import begin_immediate
from gateway.store.outbox import enqueue
from gateway.store.parking import (
    HELD_BESIDE,
    SET_ASIDE,
    WANTED_BY_ITS_OLD_CAR,
    off_slots_not_theirs,
    parked_as_listed,
)
from gateway.store.passes import reopen
from gateway.store.registry import (
    audit_block,
    onto_free_slots,
    onto_slots_of_registered,
    re_registered,
    slots_handed_on,
)
from gateway.store.renewals import renewed_while_parked
from gateway.sync.errors import DownlinkRejected
from gateway.timefmt import to_db

log = logging.getLogger(__name__)
R = "n >= :lo AND n < :hi"


def _kept_block(stored: str) -> str:
    """The entry's block, or the one `stored` selects where the entry leaves `blocked` out (NULL
    staged): a block the booth set on a stolen car or a lost card holds through a renewal that
    knows nothing of it, until the centre's entry says `blocked` (a CSV import does the same)."""
    return f"coalesce(s.blocked, ({stored}), 0)"


_RESIDENT_COLS = "building, unit, room, name, valid_from, valid_to, blocked"
# A name that is the stored one masked (张** for 张三丰) is the booth's `registry` record echoed by
# the centre, which was told no more: the name stored stays. Taken, the name the admin typed was
# gone for good and a guard's lookup by it found nobody. Python (mask_name) only for names with a *.
_KEPT_NAME = """CASE WHEN s.name GLOB '*[*]*' THEN coalesce(
    (SELECT name FROM residents WHERE ref = s.ref AND mask_name(name) = s.name), s.name)
    ELSE s.name END"""
_RESIDENT_VALUES = f"s.building, s.unit, s.room, {_KEPT_NAME}, s.valid_from, s.valid_to, " + _kept_block(
    "SELECT blocked FROM residents WHERE ref = s.ref"
)
_RESIDENTS = [
    f"""INSERT INTO residents (ref, {_RESIDENT_COLS}, phone_masked, phone_hash)
    SELECT s.ref, {_RESIDENT_VALUES}, s.phone_masked, s.phone_hash FROM staging.s_residents s
    WHERE s.{R} AND s.phone_given = 1
    ON CONFLICT (ref) DO UPDATE SET building = excluded.building, unit = excluded.unit,
        room = excluded.room, name = excluded.name, valid_from = excluded.valid_from,
        valid_to = excluded.valid_to, blocked = excluded.blocked,
        phone_masked = excluded.phone_masked, phone_hash = excluded.phone_hash
    WHERE (residents.building, residents.unit, residents.room, residents.name,
           residents.phone_masked, residents.phone_hash, residents.blocked)
          IS NOT (excluded.building, excluded.unit, excluded.room, excluded.name,
                  excluded.phone_masked, excluded.phone_hash, excluded.blocked)
       OR residents.valid_from IS NOT excluded.valid_from
       OR residents.valid_to IS NOT excluded.valid_to""",
    # Without a phone in the entry the phone already stored stays (as with a CSV import).
    f"""INSERT INTO residents (ref, {_RESIDENT_COLS})
    SELECT s.ref, {_RESIDENT_VALUES} FROM staging.s_residents s WHERE s.{R} AND s.phone_given = 0
    ON CONFLICT (ref) DO UPDATE SET building = excluded.building, unit = excluded.unit,
        room = excluded.room, name = excluded.name, valid_from = excluded.valid_from,
        valid_to = excluded.valid_to, blocked = excluded.blocked
    WHERE (residents.building, residents.unit, residents.room, residents.name, residents.blocked)
          IS NOT (excluded.building, excluded.unit, excluded.room, excluded.name, excluded.blocked)
       OR residents.valid_from IS NOT excluded.valid_from
       OR residents.valid_to IS NOT excluded.valid_to""",
]
_CREDENTIAL_UPSERT = """
    ON CONFLICT (kind, value) DO UPDATE SET resident_id = excluded.resident_id,
        pass_id = excluded.pass_id, vehicle_id = excluded.vehicle_id,
        valid_from = excluded.valid_from, valid_to = excluded.valid_to, hours = excluded.hours,
        blocked = excluded.blocked
    WHERE credentials.resident_id IS NOT excluded.resident_id
       OR credentials.pass_id IS NOT excluded.pass_id
       OR credentials.vehicle_id IS NOT excluded.vehicle_id
       OR credentials.valid_from IS NOT excluded.valid_from
       OR credentials.valid_to IS NOT excluded.valid_to
       OR credentials.hours IS NOT excluded.hours OR credentials.blocked IS NOT excluded.blocked"""
# The range's cars the centre re-registered under a new plate (`previous_plate`): (old, new).
_RE_REGISTERED = f"""SELECT s.previous_plate, s.plate FROM staging.s_vehicles s
    WHERE s.{R} AND s.previous_plate IS NOT NULL ORDER BY s.n"""
_VEHICLES = [
    f"""INSERT INTO vehicles (plate, class, resident_id, monthly_until)
    SELECT s.plate, s.class, r.id, s.monthly_until
    FROM staging.s_vehicles s JOIN residents r ON r.ref = s.resident_ref WHERE s.{R}
    ON CONFLICT (plate) DO UPDATE SET class = excluded.class, resident_id = excluded.resident_id,
        monthly_until = excluded.monthly_until
    WHERE vehicles.class IS NOT excluded.class OR vehicles.resident_id IS NOT excluded.resident_id
       OR vehicles.monthly_until IS NOT excluded.monthly_until""",
    f"""INSERT INTO credentials (kind, value, resident_id, pass_id, vehicle_id, valid_from,
                                valid_to,                                 hours, blocked)
    SELECT 'plate', s.plate, v.resident_id, NULL, v.id, s.valid_from, s.valid_to, '',
        {_kept_block("SELECT blocked FROM credentials WHERE kind = 'plate' AND value = s.plate")}
    FROM staging.s_vehicles s JOIN vehicles v ON v.plate = s.plate WHERE s.{R}
    {_CREDENTIAL_UPSERT}""",
]
_CARDS = [
    f"""INSERT INTO credentials (kind, value, resident_id, pass_id, vehicle_id, valid_from,
                                valid_to,                                 hours, blocked)
    SELECT 'card', s.card, r.id, NULL, v.id, s.valid_from, s.valid_to, s.hours,
        {_kept_block("SELECT blocked FROM credentials WHERE kind = 'card' AND value = s.card")}
    FROM staging.s_cards s JOIN residents r ON r.ref = s.resident_ref
    LEFT JOIN vehicles v ON v.plate = s.plate WHERE s.{R}
    {_CREDENTIAL_UPSERT}""",
]
_VEHICLES_IN_RANGE = f"SELECT v.id FROM staging.s_vehicles s JOIN vehicles v ON v.plate = s.plate WHERE s.{R}"
_CARS_OF_RESIDENTS_IN_RANGE = f"""SELECT v.id FROM staging.s_residents s
    JOIN residents r ON r.ref = s.ref JOIN vehicles v ON v.resident_id = r.id WHERE s.{R}"""
_SLOTS_IN_RANGE = f"""SELECT sl.id FROM staging.s_slots s
    JOIN slots sl ON sl.zone = s.zone AND sl.number = s.number WHERE s.{R}"""
# A slot's cars are given in two passes over the slots: first every car a slot now lists is added
# to it, then (phase "slot_cars_unlisted", next) each car it no longer lists is taken off it.
# Between two steps of a snapshot a car moved from one slot to another is on its old slot, its new
# one or both, never on none: taken off its old slot in one step and added to the new one in a
# later step, it was refused no_slot (or let in paying) in between. On both for a moment, it parks
# on one of them, free, as it would before or after; each slot still holds one car. The cars parked
# are placed as the rows have them in the first pass (_CARS_GOING), so that a slot's new car is
# not its second car meanwhile; a slot its parked car leaves loses its other cars the rows take off
# it then too, so that the household's second car is not free on it meanwhile.
_SLOTS = [
    f"""INSERT INTO slots (zone, number, resident_id)
    SELECT s.zone, s.number, r.id
    FROM staging.s_slots s LEFT JOIN residents r ON r.ref = s.resident_ref
    WHERE s.{R}
    ON CONFLICT (zone, number) DO UPDATE SET resident_id = excluded.resident_id
    WHERE slots.resident_id IS NOT excluded.resident_id""",
    f"""INSERT OR IGNORE INTO slot_vehicles (slot_id, vehicle_id)
    SELECT sl.id, v.id FROM staging.s_slots s
    JOIN staging.s_slot_plates p ON p.slot_n = s.n
    JOIN slots sl ON sl.zone = s.zone AND sl.number = s.number
    JOIN vehicles v ON v.plate = p.plate WHERE s.{R}""",
]
# The first pass's `going` (gateway.store.parking.parked_as_listed): the (slot, car) pairs that
# the change takes off (of cars inside, or on a slot a car is parked on: SET_ASIDE), among the
# slots whose cars the range's rows may move: the range's own (the cars their rows no longer
# list), and those (`near`) that a car parked on one of them, or parked elsewhere and listed by a
# row of the range, is parked on or listed by, or that a car held on its old slot (HELD_BESIDE)
# is parked on or listed by: placed anew in the step the car it was held for gets its new slot.
# B001 given
# up and B101 sent for its cars: R1's car parked on B001 goes onto B101 now, and neither slot is
# handed meanwhile to R1's second car, paying in the shared spaces (nor to a car the change takes
# off it). A slot of `near` has its row looked up by its number: they are the few of cars inside.
_CARS_OF_THE_RANGE = f"""SELECT v.id FROM staging.s_slots s
    JOIN staging.s_slot_plates p ON p.slot_n = s.n JOIN vehicles v ON v.plate = p.plate WHERE s.{R}"""
# Whether the change takes the car of the slot_vehicles row `{row}` off its slot `sl`: it withdraws
# the slot, or the slot's row (in any range) does not list the car.
_TAKEN_OFF = """(EXISTS (SELECT 1 FROM staging.s_deletes d
            WHERE d.kind = 'slot' AND d.k1 = sl.zone AND d.k2 = sl.number)
        OR EXISTS (SELECT 1 FROM staging.s_slots o WHERE o.zone = sl.zone AND o.number = sl.number
            AND NOT EXISTS (SELECT 1 FROM staging.s_slot_plates q JOIN vehicles x ON x.plate = q.plate
                WHERE q.slot_n = o.n AND x.id = {row}.vehicle_id)))"""
_CARS_GOING = f"""WITH span AS ({_SLOTS_IN_RANGE}),
    moving AS (
        SELECT t.vehicle_id, t.slot_id FROM stays t
        WHERE t.exited_at IS NULL AND t.slot_id IN (SELECT id FROM span)
        UNION
        SELECT t.vehicle_id, t.slot_id FROM staging.s_slots s
        JOIN staging.s_slot_plates p ON p.slot_n = s.n JOIN vehicles v ON v.plate = p.plate
        JOIN stays t ON t.vehicle_id = v.id AND t.exited_at IS NULL AND t.slot_id IS NOT NULL
        WHERE s.{R}
        UNION
        {HELD_BESIDE.format(cars=_CARS_OF_THE_RANGE)}),
    near AS (
        SELECT slot_id FROM moving
        UNION SELECT sv.slot_id FROM slot_vehicles sv JOIN moving m ON m.vehicle_id = sv.vehicle_id
        EXCEPT SELECT id FROM span)
    SELECT sv.slot_id, sv.vehicle_id FROM staging.s_slots s
    JOIN slots sl ON sl.zone = s.zone AND sl.number = s.number
    JOIN slot_vehicles sv ON sv.slot_id = sl.id
    WHERE s.{R} AND {SET_ASIDE} AND NOT EXISTS (
        SELECT 1 FROM staging.s_slot_plates p JOIN vehicles v ON v.plate = p.plate
        WHERE p.slot_n = s.n AND v.id = sv.vehicle_id)
    UNION
    SELECT sv.slot_id, sv.vehicle_id FROM near JOIN slots sl ON sl.id = near.slot_id
    JOIN slot_vehicles sv ON sv.slot_id = sl.id
    WHERE {SET_ASIDE} AND {_TAKEN_OFF.format(row="sv")}"""
# The slots the first pass hands to a car of theirs waiting in the shared spaces (onto_free_slots):
# the range's own, and those its cars leave (a slot the car a later row moves here had), but not one
# a car outside that the change takes off it still needs (WANTED_BY_ITS_OLD_CAR): it is handed in
# the step that writes that car's new slot (its old one is among those its cars leave then), or
# in the second pass (_SLOTS_IN_RANGE), once the car is off it.
# Whether the change gives the car of the slot_vehicles row `n` a slot of n's zone that does not
# list it yet (a row further on): a car moving there (gateway.store.slots_given_anew._NEEDS_ITS_SLOT).
_MOVING_IN = """EXISTS (SELECT 1 FROM staging.s_slot_plates q JOIN vehicles x ON x.plate = q.plate
        JOIN staging.s_slots o ON o.n = q.slot_n JOIN slots z ON z.id = n.slot_id
        WHERE x.id = n.vehicle_id AND o.zone = z.zone AND NOT EXISTS (
            SELECT 1 FROM slots ws JOIN slot_vehicles w ON w.slot_id = ws.id
            WHERE ws.zone = o.zone AND ws.number = o.number AND w.vehicle_id = x.id))"""
_SLOTS_TO_HAND = f"""SELECT sl.id FROM slots sl
    WHERE sl.id IN ({_SLOTS_IN_RANGE}
        UNION SELECT sv.slot_id FROM slot_vehicles sv WHERE sv.vehicle_id IN ({_CARS_OF_THE_RANGE}))
      AND NOT {WANTED_BY_ITS_OLD_CAR.format(taken_off=_TAKEN_OFF.format(row="n"), moving_in=_MOVING_IN)}"""
_SLOT_CARS_UNLISTED = [
    f"""DELETE FROM slot_vehicles WHERE (slot_id, vehicle_id) IN (
        SELECT sv.slot_id, sv.vehicle_id FROM staging.s_slots s
        JOIN slots sl ON sl.zone = s.zone AND sl.number = s.number
        JOIN slot_vehicles sv ON sv.slot_id = sl.id
        WHERE s.{R} AND NOT EXISTS (
            SELECT 1 FROM staging.s_slot_plates p JOIN vehicles v ON v.plate = p.plate
            WHERE p.slot_n = s.n AND v.id = sv.vehicle_id))""",
]
_PASS_COLS = (
    "kind, name, phone_masked, phone_hash, id_masked, id_hash, host_building, host_unit, "
    "company, destination, reason, passengers, plate, valid_from, valid_to, hours, "
    "registered_fields, blocked"
)
_PASSES = [
    # A staging file from before a column was added (a restart finishing its apply) has it NULL.
    f"""INSERT INTO passes (ref, {_PASS_COLS}, created_at, created_by, vehicle_class, id_kind)
    SELECT ref, {_PASS_COLS}, :now, 'central', coalesce(vehicle_class, 'car'),
        coalesce(id_kind, 'resident_id')
    FROM staging.s_passes WHERE {R}
    ON CONFLICT (ref) WHERE ref IS NOT NULL DO UPDATE SET
        {", ".join(f"{c} = excluded.{c}" for c in [*_PASS_COLS.split(", "), "vehicle_class", "id_kind"])}""",
    # The pass's credentials the snapshot no longer names go; those it names keep their block: a
    # snapshot says which credentials a pass has, not that the booth blocked one (a lost printout).
    # So does one it takes from another pass or a resident (a plate the guard blocked on a booth
    # pass, sent again on the centre's new pass for that car: lifted, it let the car in, with no
    # unblock on the audit trail). They take the pass's window (a plate handed back by the booth
    # carried the one it had then).
    f"""DELETE FROM credentials WHERE pass_id IN (
        SELECT p.id FROM staging.s_passes s JOIN passes p ON p.ref = s.ref WHERE s.{R})
    AND NOT EXISTS (
        SELECT 1 FROM staging.s_passes s JOIN staging.s_pass_credentials c ON c.pass_n = s.n
        JOIN passes p ON p.ref = s.ref
        WHERE p.id = credentials.pass_id AND c.kind = credentials.kind AND c.value = credentials.value)""",
    f"""INSERT INTO credentials (kind, value, resident_id, pass_id, vehicle_id, valid_from,
                                valid_to,                                 hours, blocked)
    SELECT c.kind, c.value, NULL, p.id, NULL, NULL, NULL, '', 0
    FROM staging.s_passes s JOIN staging.s_pass_credentials c ON c.pass_n = s.n
    JOIN passes p ON p.ref = s.ref WHERE s.{R}
    ON CONFLICT (kind, value) DO UPDATE SET resident_id = NULL, pass_id = excluded.pass_id,
        vehicle_id = NULL, valid_from = NULL, valid_to = NULL, hours = ''
    WHERE credentials.pass_id IS NOT excluded.pass_id OR credentials.valid_from IS NOT NULL
       OR credentials.valid_to IS NOT NULL OR credentials.hours != ''""",
]
# The range's passes the booth ended (checked out) that the centre extends knowing it: the entry's
# end later than the one stored, and the pass's `checked_out` record gone up (sent; a sent row is
# pruned only once sent, where the link is up). The owner's complaint settled, the office extended
# the permit, and the pass is open again (Review 66 E3: stored with its new end, it stayed checked
# out, its QR refused as expired). An entry made before the centre could know of the check-out (its
# record still queued), one that shortens the window, moves its first day or its hours, or one
# sent again unchanged (a daily snapshot) leaves it ended: until Review K any change reopened it,
# the crew's QR admitting again while the centre's last word was `checked_out`. Times compared as
# instants, however written.
_REOPENED = f"""SELECT p.id FROM staging.s_passes s JOIN passes p ON p.ref = s.ref
    WHERE s.{R} AND p.checked_out_at IS NOT NULL AND julianday(s.valid_to) > julianday(p.valid_to)
      AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.topic = 'pass'
        AND json_extract(o.payload, '$.pass.id') = p.id
        AND json_extract(o.payload, '$.op') = 'checked_out' AND o.sent_at IS NULL)"""
_D = f"SELECT k1 FROM staging.s_deletes WHERE {R} AND kind = "
_SLOTS_DELETED = f"""SELECT sl.id FROM staging.s_deletes d
    JOIN slots sl ON sl.zone = d.k1 AND sl.number = d.k2 WHERE d.{R} AND d.kind = 'slot'"""
_DELETES = [
    # Where a withdrawn pass's holder was last seen goes with it: no reader knows its QR any more,
    # and one left "inside" would be counted a person on foot for ever (as retention does). The
    # subject is gateway.store.lookup.holder_subject's, spelled in SQL.
    f"""DELETE FROM presence WHERE subject IN (
        SELECT kind || ':' || id FROM passes WHERE ref IN ({_D}'pass'))""",
    f"DELETE FROM passes WHERE ref IN ({_D}'pass')",
    # A car parked on a withdrawn slot moves off it after (_slots_withdrawn).
    f"DELETE FROM slots WHERE id IN ({_SLOTS_DELETED})",
    # A card or plate the same snapshot or delta gave to a pass is the pass's now: it stays.
    f"DELETE FROM credentials WHERE kind = 'card' AND pass_id IS NULL AND value IN ({_D}'card')",
    f"DELETE FROM credentials WHERE kind = 'plate' AND pass_id IS NULL AND value IN ({_D}'vehicle')",
    f"DELETE FROM vehicles WHERE plate IN ({_D}'vehicle')",
    # A withdrawn resident's presence likewise (holder_subject('resident', id)).
    f"""DELETE FROM presence WHERE subject IN (
        SELECT 'resident:' || id FROM residents WHERE ref IN ({_D}'resident'))""",
    f"DELETE FROM residents WHERE ref IN ({_D}'resident')",
]
# The cars the range's deletes strike off: each named, and each of a resident withdrawn (they go
# with the resident).
_CARS_DELETED = f"""SELECT id FROM vehicles WHERE plate IN ({_D}'vehicle')
    OR resident_id IN (SELECT id FROM residents WHERE ref IN ({_D}'resident'))"""
# Phase -> (what is blocked, the entries of the range that set or lift a block the store has
# otherwise: (key, blocked)). Each goes on the audit trail as the centre's, as an import's does.
_BLOCKS_SAID = {
    "residents": (
        "resident",
        f"""SELECT s.ref, s.blocked FROM staging.s_residents s JOIN residents r ON r.ref = s.ref
        WHERE s.{R} AND s.blocked != r.blocked""",
    ),
    "vehicles": (
        "plate",
        f"""SELECT s.plate, s.blocked FROM staging.s_vehicles s
        JOIN credentials c ON c.kind = 'plate' AND c.value = s.plate
        WHERE s.{R} AND s.blocked != c.blocked""",
    ),
    "cards": (
        "card",
        f"""SELECT s.card, s.blocked FROM staging.s_cards s
        JOIN credentials c ON c.kind = 'card' AND c.value = s.card
        WHERE s.{R} AND s.blocked != c.blocked""",
    ),
}
# Table in the staging file -> the statements that copy a range of its rows in. In this order:
# who a row points at is always there before it, and every slot has its cars as the change has them
# before a slot is withdrawn or a car struck off hands its slot on. (A snapshot half applied by an
# older release, without the second pass over the slots, carries on from its position: each phase
# up to it is redone or was done, and each redone is idempotent.)
PHASES: list[tuple[str, str, list[str]]] = [
    ("residents", "s_residents", _RESIDENTS),
    ("vehicles", "s_vehicles", _VEHICLES),
    ("cards", "s_cards", _CARDS),
    ("slots", "s_slots", _SLOTS),
    ("slot_cars_unlisted", "s_slots", _SLOT_CARS_UNLISTED),
    ("passes", "s_passes", _PASSES),
    ("deletes", "s_deletes", _DELETES),
]
# A phase that goes over another's rows again -> that phase (the staging counts name the tables).
_ROWS_OF = {"slot_cars_unlisted": "slots"}


class StaleApply(Exception):
    """The store is not at the version this apply expects (already applied, or moved on)."""


def _rows(counts: dict[str, int], phase: str) -> int:
    return counts.get(_ROWS_OF.get(phase, phase), 0)


def total_rows(counts: dict[str, int]) -> int:
    return sum(_rows(counts, name) for name, _, _ in PHASES)


def _span(counts: dict[str, int], done: int, rows: int) -> tuple[int, int, int]:
    """(phase, lo, hi): the next at most `rows` rows from position `done`, within one phase."""
    start = 0
    for i, (name, _, _) in enumerate(PHASES):
        n = _rows(counts, name)
        if done < start + n:
            lo = done - start
            return i, lo, min(n, lo + rows)
        start += n
    return len(PHASES), 0, 0


def run_rows(
    conn: sqlite3.Connection, phase: int, lo: int, hi: int, now: datetime, *, delta: int | None = None
) -> None:
    """Copy rows lo..hi of one phase in, inside the caller's transaction (staging attached);
    `delta`: the version of the delta they are of (None: a snapshot's step)."""
    name = PHASES[phase][0]
    params = {"lo": lo, "hi": hi, "now": to_db(now)}
    if name in _BLOCKS_SAID:
        what, said = _BLOCKS_SAID[name]
        for key, blocked in conn.execute(said, params).fetchall():
            audit_block(conn, now, "central", what, key, bool(blocked), "by central")
    # A car struck off hands its slots on, as a slot sent again without it does.
    struck_off = slots_handed_on(conn, now, _CARS_DELETED, params) if name == "deletes" else nullcontext()
    withdrawn = _slots_withdrawn(conn, now, params) if name == "deletes" else nullcontext()
    if name == "residents":
        conn.create_function("mask_name", 1, mask_name, deterministic=True)  # for _KEPT_NAME
    if name == "vehicles":  # first, so that the entry then updates the car under its new plate
        _re_register(conn, now, params, delta)
    reopened = conn.execute(_REOPENED, params).fetchall() if name == "passes" else []
    with withdrawn, struck_off:
        for sql in PHASES[phase][2]:
            conn.execute(sql, params)
    for (pass_id,) in reopened:
        reopen(conn, pass_id, now, "central")
    if name == "residents":  # a lease renewed: a slot that passed over its car (lapsed) is handed now
        onto_slots_of_registered(conn, now, _CARS_OF_RESIDENTS_IN_RANGE, params)
    if name == "vehicles":  # a renewal of a car parked paying since its period ran out
        renewed_while_parked(conn, now, _VEHICLES_IN_RANGE, params)
        onto_slots_of_registered(conn, now, _VEHICLES_IN_RANGE, params)
    if name == "slots":  # the cars parked placed as the rows have them; one waiting in the shared spaces
        with parked_as_listed(conn, now, conn.execute(_CARS_GOING, params).fetchall(), _MOVING_IN):
            onto_free_slots(conn, now, _SLOTS_TO_HAND, params)
    if name == "slot_cars_unlisted":  # a slot handed on: the car parked there that it no longer lists
        off_slots_not_theirs(conn, now, _SLOTS_IN_RANGE, params)
        onto_free_slots(conn, now, _SLOTS_IN_RANGE, params)  # one held for its old car (_SLOTS_TO_HAND)


def _re_register(
    conn: sqlite3.Connection, now: datetime, params: dict[str, object], delta: int | None
) -> None:
    """The range's cars the centre re-registered under a new plate, moved onto it (re_registered).
    One whose new plate was taken after staging checked it (a guard's pass registered with it
    meanwhile, still in use; an admin's car) refuses a delta whole, nothing of it applied: applied,
    its entry added the new plate as another car, the car's stay under its old plate stayed open
    for good, and the delta was reported in. A snapshot's step, which cannot be refused alone,
    applies the entry as one without `previous_plate` (its old plate, no longer listed, goes)."""
    for old, new in conn.execute(_RE_REGISTERED, params).fetchall():
        try:
            re_registered(conn, now, "central", old, new)
        except Conflict as exc:
            problem = f"vehicle {new}: previous_plate {old}: {exc.message} (fix: {exc.fix})"
            if delta is not None:
                raise DownlinkRejected(
                    "invalid",
                    f"delta {delta} refused, nothing of it applied",
                    version=delta,
                    problems=[problem],
                ) from exc
            log.warning("not re-registered, applied as a new car: %s", problem)


@contextmanager
def _slots_withdrawn(conn: sqlite3.Connection, now: datetime, params: dict[str, object]) -> Iterator[None]:
    """The slots the range's deletes withdraw, deleted inside the block: a car parked on one is
    still in the garage, so it moves off it as at an admin's delete (store/registry_vehicles.py
    delete_slot): onto a slot that lists it, where one is free (a slot renumbered, B001 withdrawn
    and B101 sent for the same cars), or to the shared spaces. Left in the shared spaces beside a
    slot of its own, the slot read free and the household's second car came in free onto it."""
    slots = [slot_id for (slot_id,) in conn.execute(_SLOTS_DELETED, params)]
    yield
    if slots:
        off_slots_not_theirs(conn, now, "SELECT value FROM json_each(?)", (json.dumps(slots),))


class Attached:
    """The staging file attached to the worker's connection for one step, never longer."""

    def __init__(self, conn: sqlite3.Connection, staging: Path):
        self.conn = conn
        self.staging = staging

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("ATTACH DATABASE ? AS staging", (str(self.staging),))
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.execute("DETACH DATABASE staging")


def apply_delta(
    conn: sqlite3.Connection,
    staging: Path,
    version: int,
    base: int,
    counts: dict[str, int],
    now: datetime,
) -> None:
    """All of the delta in one transaction, only if the store is exactly at `base`."""
    with Attached(conn, staging):
        begin_immediate(conn)
        try:
            applied = conn.execute("SELECT applied_version, applying_version FROM sync_state").fetchone()
            if applied != (base, None):
                raise StaleApply(f"delta {version} is based on {base}, the store is at {applied[0]}")
            for phase, (name, _, _) in enumerate(PHASES):
                if _rows(counts, name):
                    run_rows(conn, phase, 0, _rows(counts, name), now, delta=version)
            _finish(conn, "delta", version, counts, now)
            conn.execute("COMMIT")
        except BaseException:
            _roll_back(conn)
            raise


def apply_snapshot_steps(
    conn: sqlite3.Connection,
    staging: Path,
    version: int,
    counts: dict[str, int],
    done: int,
    rows: int,
    now: datetime,
    more: Callable[[], bool],
    size: Callable[[int, float], int],
    *,
    again: bool = False,
    first_rows: int | None = None,
) -> tuple[int, int, list[float]]:
    """Steps of a snapshot from position `done`, each its own short transaction, for as long as
    `more()` says nothing waits for the worker. Returns (position, rows for the next step, the
    milliseconds each step took); `size(rows, ms)` sizes each next step. `again`: the snapshot
    asked for came at the version the store is at (the centre changed nothing since), and is
    applied over it; any other snapshot at or below the store's version is stale. `first_rows`:
    the rows of the first step of each kind (None: the size carries on from the kind before).

    The staging file stays attached for this one call (nothing else writes it meanwhile).
    """
    steps: list[float] = []
    with Attached(conn, staging):
        level = int(conn.execute("PRAGMA synchronous").fetchone()[0])
        try:
            while True:
                began = time.perf_counter()
                phase = _span(counts, done, rows)[0]
                done = _step(conn, version, counts, done, rows, now, level, again)
                took = (time.perf_counter() - began) * 1000
                steps.append(took)
                rows = size(rows, took)
                if first_rows is not None and _span(counts, done, 1)[0] != phase:
                    # A kind's rows cost their own: a slot's several times a card's, and a size
                    # grown on the cards held the lanes 110 ms in the first slots step (review
                    # 67 F2).
                    rows = first_rows
                if done >= total_rows(counts) or not more():
                    return done, rows, steps
        finally:
            conn.execute(f"PRAGMA synchronous={level}")


def _step(
    conn: sqlite3.Connection,
    version: int,
    counts: dict[str, int],
    done: int,
    rows: int,
    now: datetime,
    level: int,
    again: bool = False,
) -> int:
    """The next `rows` rows from position `done`, with the progress marker, in one transaction.

    Steps before the last commit without waiting for the disk (synchronous=NORMAL): WAL keeps
    each one whole, and a power cut loses at most the last steps together with their marker, so
    a restart redoes them. The last step, which says the version is in, waits for the disk.
    """
    total = total_rows(counts)
    phase, lo, hi = _span(counts, done, rows)
    new_done = done + (hi - lo)
    last = new_done >= total
    conn.execute(f"PRAGMA synchronous={level if last else 1}")
    begin_immediate(conn)
    try:
        applied, applying, at = conn.execute(
            "SELECT applied_version, applying_version, applying_done FROM sync_state"
        ).fetchone()
        if done == 0:  # a newer snapshot supersedes one left unfinished
            if applied > version or (applied == version and not again):
                raise StaleApply(f"snapshot {version}: the store is already at {applied}")
        elif applying != version or at != done:
            raise StaleApply(f"snapshot {version} at row {done}: the store says {applying} at row {at}")
        if hi > lo:
            run_rows(conn, phase, lo, hi, now)
        if last:
            _finish(conn, "snapshot", version, counts, now)
        else:
            conn.execute(
                "UPDATE sync_state SET applying_version = ?, applying_done = ?, applying_total = ?",
                (version, new_done, total),
            )
        conn.execute("COMMIT")
    except BaseException:
        _roll_back(conn)
        raise
    return new_done


def _roll_back(conn: sqlite3.Connection) -> None:
    """A step's or a delta's transaction undone, if it is still open: a disk filled up mid-snapshot
    ends it at the COMMIT, and a ROLLBACK then raised "no transaction is active" in place of the
    full disk, which the directory's fix is worded by (as gateway.store.database.transaction)."""
    if conn.in_transaction:
        with suppress(sqlite3.Error):  # uncommitted, none of it is in the database anyway
            conn.execute("ROLLBACK")


def _finish(conn: sqlite3.Connection, kind: str, version: int, counts: dict[str, int], now: datetime) -> None:
    conn.execute(
        "UPDATE sync_state SET applied_version = ?, applied_at = ?, applying_version = NULL, "
        "applying_done = 0, applying_total = 0",
        (version, to_db(now)),
    )
    if kind == "snapshot":  # the one owed, if any (directory.py _give_up), is in
        conn.execute("UPDATE sync_state SET snapshot_owed_at = NULL")
    told = _deletes_told(conn, kind, version)
    detail = {**counts, **_masked(told)} if told else counts
    audit(conn, now, "central", f"sync.apply_{kind}", str(version), json.dumps(detail, ensure_ascii=False))
    if counts.get("masked_phones"):
        log.warning(
            "%s %d: %d resident entries gave their phone masked (138****8000): not taken as a number, "
            "the phone stored kept (none for a resident new here); the centre should send the clear "
            "number or leave phone out (docs/mqtt.md, Snapshot)",
            kind,
            version,
            counts["masked_phones"],
        )
    enqueue(
        conn,
        "sync_applied",
        {"at": now.isoformat(), "kind": kind, "version": version, "counts": counts, **told},
        now,
    )


def _deletes_told(conn: sqlite3.Connection, kind: str, version: int) -> dict[str, Any]:
    """What the staging file says of a delta's card deletes besides the counts (staging.py
    Staged.told): the cards struck off in another form than sent (`held_as`), those a delete
    that struck nothing off may mean (`not_held`) and those, left held, a delete that struck a
    card off may mean too (`still_held`); the held cards of a number no reader gives taken again
    (`never_read`). Until Review 63v the record and the audit row said
    `deletes: 1` only, whichever card went."""
    try:
        row = conn.execute(
            "SELECT told FROM staging.meta WHERE id = 1 AND kind = ? AND version = ?", (kind, version)
        ).fetchone()
    except sqlite3.OperationalError:  # no staging file attached, or one from before its `told`
        return {}
    return dict(json.loads(row[0])) if row is not None and row[0] else {}


def _masked(told: dict[str, Any]) -> dict[str, Any]:
    """`told` as the audit trail keeps card numbers: masked (the record upstream names them as
    the centre sent and holds them)."""

    def cards(named: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**card, "card": mask_card(card["card"])} for card in named]

    def delete(sent: dict[str, Any]) -> dict[str, Any]:
        return {
            key: mask_card(value) if key == "card" else cards(value) if isinstance(value, list) else value
            for key, value in sent.items()
        }

    return {key: [delete(sent) for sent in deletes] for key, deletes in told.items()}

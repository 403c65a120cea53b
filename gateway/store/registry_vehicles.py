"""Vehicles and the slots they park on: a car added, corrected, renewed or deleted, a slot added or
deleted, and the cars parked on slots handed on when the register changes under them.

Apart from residents (registry_residents.py), whose deletion hands on their cars' slots through
slots_handed_on here; the central server's changes and a CSV import use these too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from gateway.errors import Conflict, NotFound, Refused
from gateway.privacy import mask_name
from gateway.store.audit import audit, transaction
from gateway.store.parking import handover, off_slots_not_theirs
from gateway.store.pass_in_use import current_pass
from gateway.store.registry_base import (
    _changed,
    _db,
    _plate_of,
    _ref,
    _resident_exists,
    _sendable,
)
from gateway.store.renewals import renewed_while_parked
from gateway.timefmt import from_db, last_day


def add_vehicle(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    plate: str,
    resident_id: int,
    vehicle_class: str,
    monthly_until: datetime | None,
) -> int:
    with transaction(conn):
        _resident_exists(conn, resident_id)
        if conn.execute("SELECT 1 FROM vehicles WHERE plate = ?", (plate,)).fetchone():
            raise Conflict(
                f"{plate} is registered already",
                fix="look it up and change that vehicle (PATCH /api/vehicles/{id}), e.g. to renew it",
            )
        cur = conn.execute(
            "INSERT INTO vehicles (plate, class, resident_id, monthly_until) VALUES (?, ?, ?, ?)",
            (plate, vehicle_class, resident_id, _db(monthly_until)),
        )
        vid = int(cur.lastrowid or 0)
        # A plate that came on a visitor pass now belongs to the resident's car.
        conn.execute("DELETE FROM credentials WHERE kind = 'plate' AND value = ?", (plate,))
        conn.execute(
            "INSERT INTO credentials (kind, value, resident_id, vehicle_id) VALUES ('plate', ?, ?, ?)",
            (plate, resident_id, vid),
        )
        # Added again while parked (an office renewing by delete and add): its stay names it now.
        renewed_while_parked(conn, at, ":vid", {"vid": vid})
        owner = _ref(conn, resident_id)
        entry = {"plate": plate, "resident": owner, "class": vehicle_class, "monthly_until": monthly_until}
        _changed(conn, at, actor, "add", "vehicle", vid, plate, **_sendable(entry, at))
    return vid


def update_vehicle(
    conn: sqlite3.Connection, at: datetime, actor: str, vid: int, changes: dict[str, Any]
) -> None:
    """Change a vehicle's `class`, paid-up `monthly_until` (a renewal) or `plate` (one typed wrong,
    _correct_plate) in place: it keeps its cards, slot, block and stay, which deleting and adding it
    again would not.

    `monthly_until` None ends the period at `at`: a car parked pays at its exit for the time after
    it, and enters next as a temporary car (`monthly_expired`), as when a period runs out. NULL, as
    an import's empty cell or the central server clear it, would be a car that was never monthly:
    it would enter next as `policy.no_slot` says (a car parked then pays from then on either way,
    schema migration 17). A renewal of a car parked paying since its period ran out stops its
    billing now (renewals.py)."""
    with transaction(conn):
        row = conn.execute("SELECT plate, monthly_until, class FROM vehicles WHERE id = ?", (vid,)).fetchone()
        if row is None:
            raise NotFound(f"no vehicle {vid}", fix="search for the plate on the lookup page")
        ended = "monthly_until" in changes and changes["monthly_until"] is None
        if ended and row[1] is not None:
            changes = {
                **changes,
                "monthly_until": min(datetime.fromisoformat(row[1]), at),
            }  # an ended one stays ended
        plate = changes.get("plate", row[0])
        stored = {"class": row[2], "monthly_until": from_db(row[1])}
        # A value the vehicle has already changes nothing: else an empty change audited and sent
        # upstream (a car's class sent as it is, a period renewed to the day it ends already).
        changes = {k: v for k, v in changes.items() if k != "plate" and v != stored[k]}
        if plate == row[0] and not changes:
            raise Refused(
                f"nothing to change: vehicle {plate} has these values already",
                fix="type the plate as it is on the car, or send a class or monthly period other than "
                "the stored one (the lookup page shows them)",
                code="nothing_to_change",
            )
        label, corrected = row[0], {}
        if plate != row[0]:
            _correct_plate(conn, vid, row[0], plate, at)
            label, corrected = f"{row[0]} corrected to {plate}", {"new_plate": plate}
        if "monthly_until" in changes:
            label += _period_changed(stored["monthly_until"], changes["monthly_until"], ended, at)
        values = {**changes, **{k: _db(changes[k]) for k in ("monthly_until",) if k in changes}}
        if values:
            conn.execute(
                f"UPDATE vehicles SET {', '.join(f'{c} = ?' for c in values)} WHERE id = ?",
                (*values.values(), vid),
            )
        if "monthly_until" in changes:
            renewed_while_parked(conn, at, ":vid", {"vid": vid})
        sent = {**_sendable(changes, at), **corrected}
        _changed(conn, at, actor, "update", "vehicle", vid, label, plate=row[0], **sent)


def _period_changed(was: datetime | None, now: datetime | None, ended: bool, at: datetime) -> str:
    """A renewal's audit words: the period's last day before and after, in the site's zone (`at`'s),
    "none" for no period, " (ended)" for one ended now: " monthly 2025-03-31 -> 2026-04-07". Without
    them a renewal read as a class change, and which month was sold was nowhere on the audit page
    (gateway/web/audit_words.py words it)."""

    def day(end: datetime | None) -> str:
        return "none" if end is None else last_day(end, at.tzinfo).isoformat()

    return f" monthly {day(was)} -> {day(now)}{' (ended)' if ended else ''}"


def _correct_plate(conn: sqlite3.Connection, vid: int, old: str, new: str, at: datetime) -> None:
    """Vehicle `vid`'s plate typed wrong (`old`) corrected to the one on the car (`new`). What is
    keyed by the car (vehicle:N: its open stay, booth payments not yet applied, charges still owed;
    its cards, slot and block) stays the car's; what names the plate says `new`. Deleting the car
    and adding it again left its stay under the old plate, open for good (it counted inside and
    held a shared space), and the car read as `new` at the exit was one with no entry record.

    The stays and money take the new plate before the credential does: the schema's trigger on the
    credential's value (migration 10) then finds the car parked under `new` and keeps all of it the
    car's (and a stranger's stay under `new`, the same car come in unrecognised, becomes the car's,
    as for a plate registered while parked).

    A pass over or checked out by `at` whose plate was `new` (the new car let in as a visitor
    before it was registered) lets it go, its block kept, as a vehicle entry or import taking the
    plate over does: _plate_is_free refuses only a pass still in use."""
    _plate_is_free(conn, vid, new, at)
    passed_on = conn.execute(
        "SELECT blocked FROM credentials WHERE kind = 'plate' AND value = ? AND pass_id IS NOT NULL", (new,)
    ).fetchone()
    conn.execute("DELETE FROM credentials WHERE kind = 'plate' AND value = ? AND pass_id IS NOT NULL", (new,))
    subject = f"vehicle:{vid}"
    for table, still_open in (
        ("stays", "exited_at IS NULL"),
        ("payments", "charge_id IS NULL"),
        ("charges", "settled_at IS NULL"),
    ):
        conn.execute(
            f"UPDATE {table} SET plate = ? WHERE subject = ? AND plate = ? AND {still_open}",
            (new, subject, old),
        )
    kept_block = "max(blocked, ?)" if passed_on else "blocked"
    conn.execute(
        f"UPDATE credentials SET value = ?, blocked = {kept_block} WHERE kind = 'plate' AND value = ?",
        (new, *(passed_on or ()), old),
    )
    conn.execute("UPDATE vehicles SET plate = ? WHERE id = ?", (new, vid))


def re_registered(conn: sqlite3.Connection, at: datetime, actor: str, old: str, new: str) -> bool:
    """The car registered as `old` re-registered by the central server under `new` (a vehicle
    entry's `previous_plate`, sync/apply.py), inside the caller's transaction: corrected in place
    (_correct_plate), keeping its stay, money owed, cards, slot and block, and audited as an admin's
    correction is. The centre is not told of its own change. False, changing nothing, where no car
    is registered as `old` (a snapshot sent again after it, a step of one redone). Raises Conflict,
    changing nothing, where `new` is another car's, a resident's or a pass's still in use: the
    caller refuses a delta for it, and a snapshot's entry then updates the car under `new`."""
    row = conn.execute("SELECT id FROM vehicles WHERE plate = ?", (old,)).fetchone()
    if row is None:
        return False
    _correct_plate(conn, row[0], old, new, at)
    audit(conn, at, actor, "vehicle.update", f"vehicle:{row[0]}", f"{old} corrected to {new}")
    return True


def _plate_is_free(conn: sqlite3.Connection, vid: int, plate: str, at: datetime) -> None:
    """Refuse a correction to a plate registered to another vehicle, to a resident or to a pass
    still in use at `at` (current_pass, the door's rule): that is another car, or this one
    registered twice, which the admin must sort out first. A pass over or checked out is no
    holder: its plate stays with it only until retention deletes it, and refused, the centre's
    re-registration of a car onto the plate its driver came in on as a visitor last week could
    not be done at all (the pass is the booth's, the centre cannot delete it)."""
    other = conn.execute("SELECT id FROM vehicles WHERE plate = ? AND id != ?", (plate, vid)).fetchone()
    if other is not None:
        raise Conflict(
            f"{plate} is the plate of vehicle {other[0]}",
            fix=f"check the plate on the car; if vehicle {other[0]} is this car registered twice, "
            f"delete it (DELETE /api/vehicles/{other[0]}) and correct this one again",
        )
    held = conn.execute(
        "SELECT id, pass_id, resident_id FROM credentials "
        "WHERE kind = 'plate' AND value = ? AND vehicle_id IS NOT ?",
        (plate, vid),
    ).fetchone()
    if held is None:
        return
    if held[1] is not None:
        current = current_pass(conn, held[1], at)
        if current is None:
            return
        until = cast(datetime, current.ends(at.tzinfo)).isoformat(timespec="seconds")  # a pass ends
        raise Conflict(
            f"{plate} is on pass {held[1]}, in use until {until}",
            fix="check the plate on the car; once that visit is over, check the pass out at the "
            "booth (or wait until it ends) and correct this one again",
        )
    raise Conflict(
        f"{plate} is the plate of resident {held[2]}",
        fix=f"check the plate on the car; if that registration was this car, delete its plate "
        f"(DELETE /api/credentials/{held[0]}) and correct this one again",
    )


def delete_vehicle(conn: sqlite3.Connection, at: datetime, actor: str, vid: int) -> None:
    with transaction(conn):
        plate = _plate_of(conn, vid)
        if plate is None:
            raise NotFound(f"no vehicle {vid}", fix="search for the plate on the lookup page")
        with slots_handed_on(conn, at, "?", (vid,)):
            conn.execute("DELETE FROM credentials WHERE kind = 'plate' AND value = ?", (plate,))
            conn.execute("DELETE FROM vehicles WHERE id = ?", (vid,))
        _changed(conn, at, actor, "delete", "vehicle", vid, plate, plate=plate)


def add_slot(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    zone: str,
    number: str,
    resident_id: int | None,
    plates: list[str],
) -> int:
    """Add slot `zone`/`number` for `resident_id` and the cars `plates`, or give it to them where
    it is in the store with no owner (_given_to). One another resident holds is refused (409)
    naming that resident: it is theirs until deleted from their page."""
    plates = list(dict.fromkeys(plates))  # a plate listed twice uses the slot once
    with transaction(conn):
        if resident_id is not None:
            _resident_exists(conn, resident_id)
        held = conn.execute(
            "SELECT id, resident_id FROM slots WHERE zone = ? AND number = ?", (zone, number)
        ).fetchone()
        if held is not None and held[1] is None and resident_id is not None:
            _given_to(conn, at, actor, held[0], zone, number, resident_id, plates)
            return int(held[0])
        if held is not None:
            raise _slot_taken(conn, held[0], held[1], f"{zone}/{number}")
        cur = conn.execute(
            "INSERT INTO slots (zone, number, resident_id) VALUES (?, ?, ?)",
            (zone, number, resident_id),
        )
        sid = int(cur.lastrowid or 0)
        for plate in plates:
            vid = _vehicle_id(conn, plate)
            conn.execute("INSERT INTO slot_vehicles (slot_id, vehicle_id) VALUES (?, ?)", (sid, vid))
        owner = None if resident_id is None else _ref(conn, resident_id)
        entry = {"zone": zone, "number": number, "resident": owner, "plates": plates}
        _changed(conn, at, actor, "add", "slot", sid, f"{zone}/{number}", **entry)
        # A slot changed the only way the API offers (deleted, then added again) while its car is
        # parked: that car was moved into the shared spaces with the old slot, free as it came in.
        # Left there, the new slot read free and its other car came in on it free too. It is put
        # back on it (after the slot's own record, which the upstream handover names), as an import
        # or the central server does; a paying car of the slot waiting in the shared spaces pays
        # for its stay (the slot is new to it).
        handover(conn, sid, at, "reassigned", free_only=True)
    return sid


def _given_to(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    sid: int,
    zone: str,
    number: str,
    resident_id: int,
    plates: list[str],
) -> None:
    """Slot `sid`, in the store with no owner, given to `resident_id` with the cars `plates` (each once, and
    those only), keeping its id and history. A slot loses its owner when its resident is deleted
    (schema: slots.resident_id ON DELETE SET NULL): a household moved out leaves its slot to the
    flat's next owner. Refused "exists" before, with no page listing the slot to delete it from,
    the new owner could not be given it at the booth, and the zone counted it a fixed slot of
    nobody's for good; an import or the central server gave it so already (sync/apply.py _SLOTS).

    The cars parked are placed as theirs are (apply.py's second pass): a car on the slot that it no
    longer lists (another household's, that shared it) moves to the shared spaces, still inside,
    and a car it now lists parked there moves onto it, as at a handover (its billing stops now)."""
    ids = [_vehicle_id(conn, plate) for plate in plates]
    conn.execute("UPDATE slots SET resident_id = ? WHERE id = ?", (resident_id, sid))
    conn.execute(
        "DELETE FROM slot_vehicles WHERE slot_id = ? AND vehicle_id NOT IN (SELECT value FROM json_each(?))",
        (sid, json.dumps(ids)),
    )
    conn.executemany(
        "INSERT OR IGNORE INTO slot_vehicles (slot_id, vehicle_id) VALUES (?, ?)", [(sid, v) for v in ids]
    )
    owner = _ref(conn, resident_id)
    # An upsert carrying every field an add has, as an import's slot row: the centre takes the row
    # as given, whether it still lists the slot (without owner) or dropped it with the resident.
    entry = {"zone": zone, "number": number, "resident": owner, "plates": plates}
    _changed(conn, at, actor, "upsert", "slot", sid, f"{zone}/{number} given to {owner}", **entry)
    off_slots_not_theirs(conn, at, "?", (sid,))
    onto_free_slots(conn, at, "?", (sid,))


def _vehicle_id(conn: sqlite3.Connection, plate: str) -> int:
    row = conn.execute("SELECT id FROM vehicles WHERE plate = ?", (plate,)).fetchone()
    if row is None:
        raise NotFound(f"no vehicle {plate}", fix="add the vehicle first")
    return int(row[0])


def _slot_taken(conn: sqlite3.Connection, sid: int, owner: int | None, slot: str) -> Conflict:
    """The refusal of a slot in the store already: whose it is (ref, name masked, flat) and its id,
    so that the admin can find it to delete it; "delete it first" alone sent him looking for a slot
    that a resident deleted since left on no page."""
    if owner is None:
        return Conflict(
            f"slot {slot} exists (#{sid}), with no owner",
            fix=f"name the resident to give it to, or delete it (DELETE /api/slots/{sid})",
            data={"slot": slot, "slot_id": sid},
        )
    ref, name, building, unit, room = conn.execute(
        "SELECT ref, name, building, unit, room FROM residents WHERE id = ?", (owner,)
    ).fetchone()
    flat = " ".join(part for part in (building, unit, room) if part)
    return Conflict(
        f"slot {slot} (#{sid}) is resident {ref}'s ({mask_name(name)}, {flat})",
        fix=f"to give it to someone else, delete it on {ref}'s page first (look up {ref}; "
        f"or DELETE /api/slots/{sid}), then add it for the new owner",
        data={"slot": slot, "slot_id": sid, "owner_ref": ref, "owner": mask_name(name), "flat": flat},
    )


def delete_slot(conn: sqlite3.Connection, at: datetime, actor: str, sid: int) -> None:
    with transaction(conn):
        row = conn.execute("SELECT zone, number FROM slots WHERE id = ?", (sid,)).fetchone()
        if row is None:
            raise NotFound(f"no slot {sid}", fix="search for the resident on the lookup page")
        # A car parked on it takes a shared space (refusing would leave the admin nothing to do).
        conn.execute("DELETE FROM slots WHERE id = ?", (sid,))
        off_slots_not_theirs(conn, at, "?", (sid,))
        _changed(conn, at, actor, "delete", "slot", sid, f"{row[0]}/{row[1]}", zone=row[0], number=row[1])


# The slots listing any of the cars `{cars}` (SQL for their ids).
_SLOTS_OF_CARS = "SELECT DISTINCT slot_id FROM slot_vehicles WHERE vehicle_id IN ({cars})"


@contextmanager
def slots_handed_on(
    conn: sqlite3.Connection, at: datetime, cars: str, params: Sequence[Any] | Mapping[str, Any]
) -> Iterator[None]:
    """Cars struck off the register inside the block (deleted, alone or with their resident, by
    an admin or the central server): each slot that listed one is handed on as a slot sent again
    without it is (off_slots_not_theirs). The car parked on it moves to the shared spaces and the
    slot's other car waiting there moves onto it; left on the slot, the struck-off car kept the
    slot's other car paying by the hour until it left. A car's slot_vehicles rows go with it, so
    its slots are read first. `cars`: SQL for the vehicles' ids, with `params`."""
    slots = [slot_id for (slot_id,) in conn.execute(_SLOTS_OF_CARS.format(cars=cars), params)]
    yield
    if slots:
        off_slots_not_theirs(conn, at, "SELECT value FROM json_each(?)", (json.dumps(slots),))


# Of the slots `{slots}` (SQL for their ids), those no car is parked on that list a car parked in
# the shared spaces. Read from those cars (a few hundred at most), not slot by slot: an import's
# step names thousands of slots.
_FREE_WITH_A_CAR_WAITING = """SELECT DISTINCT sv.slot_id FROM stays s
    JOIN slot_vehicles sv ON sv.vehicle_id = s.vehicle_id
    WHERE s.exited_at IS NULL AND s.slot_id IS NULL AND sv.slot_id IN ({slots})
      AND NOT EXISTS (SELECT 1 FROM stays t WHERE t.exited_at IS NULL AND t.slot_id = sv.slot_id)
    ORDER BY sv.slot_id"""


def onto_free_slots(
    conn: sqlite3.Connection, at: datetime, slots: str, params: Sequence[Any] | Mapping[str, Any]
) -> None:
    """Each of the slots `slots` (SQL for their ids, with `params`) sent or imported again that no
    car is on takes a car it lists that is parked in the shared spaces, as at a handover: a car
    struck off while on its slot (and moved off it) that comes back on the slot, a car the slot now
    lists, a slot moved out of a zone renamed. Left in the shared spaces, it held one of them, and
    the slot showed free, until it left. A car that pays nothing (moved off a slot) goes first
    (handover): handed to the paying second car that came in before it, the slot made that car
    free too."""
    for (slot_id,) in conn.execute(_FREE_WITH_A_CAR_WAITING.format(slots=slots), params).fetchall():
        handover(conn, slot_id, at, "reassigned")


def onto_slots_of_registered(
    conn: sqlite3.Connection, at: datetime, cars: str, params: Sequence[Any] | Mapping[str, Any]
) -> None:
    """The cars `cars` (SQL for their ids, with `params`) whose registration, or their resident's,
    was just written (an admin's edit of a lease, the central server's resident or vehicle entry,
    an import's row): each slot of theirs that no car is on takes a car of it parked in the shared
    spaces that is registered now (onto_free_slots, handover). A handover passes over a car whose
    registration had lapsed when its slot freed (a lease renewed a day late); renewed since, it is
    a registered car of a free slot, and nothing else hands it on: it paid by the hour till it left,
    its slot standing empty beside it (review 62f)."""
    onto_free_slots(conn, at, _SLOTS_OF_CARS.format(cars=cars), params)

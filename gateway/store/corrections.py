"""A guard's correction of a plate the lane misread, written beside the access record it corrects.

The access record stays as it was decided (it is append-only, and it is what the lane did). The
correction says which plate the car really carried: the guard pages show it, `gateway
export-plates` labels the plate crop with it, and a temporary car's stay that was opened under
the misread plate moves onto the real one, so that the car is found when it leaves and pays for
its stay. Each correction is audited and goes upstream as a `plate_correction` record.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from gateway.core import Holder
from gateway.errors import NotFound, Refused
from gateway.store.audit import audit, transaction
from gateway.store.lookup import plate_holder, stay_open
from gateway.store.outbox import enqueue
from gateway.timefmt import to_db

_LATEST = "SELECT plate FROM latest_plate_corrections WHERE event_id = ?"
_EVENT = "SELECT lane, kind, value, flags FROM access_log WHERE event_id = ?"
_ENTRY_STAY = "SELECT id, subject FROM stays WHERE entry_event = ? AND exited_at IS NULL"


@dataclass(frozen=True, slots=True)
class Correction:
    event_id: str
    lane: str
    read: str  # what the lane read
    previous: str  # the plate before this correction: the one decided on, or an earlier correction
    plate: str  # the plate the car carries, as the guard typed it
    holder: Holder | None  # who that plate is registered to, if anyone
    stay_moved: bool  # a temporary car's open stay now stands under the corrected plate


def lane_reading(value: str, flags: str) -> str:
    """What the lane read: the logged plate, unless a look-alike match noted its own reading."""
    return next((f[len("read:") :] for f in flags.split(",") if f.startswith("read:")), value)


def correct_plate(
    conn: sqlite3.Connection, event_id: str, plate: str, actor: str, at: datetime
) -> Correction:
    """Record that the car of plate event `event_id` carried `plate` (checked by the caller)."""
    with transaction(conn):
        row = conn.execute(_EVENT, (event_id,)).fetchone()
        if row is None:
            raise NotFound(
                f"no access record {event_id}",
                fix="correct a plate from the live page; records older than the retention period are gone",
            )
        lane, kind, value, flags = row
        if kind != "plate":
            raise Refused(
                f"record {event_id} is a {kind}, not a plate", fix="only plate readings can be corrected"
            )
        read = lane_reading(value, flags)
        latest = conn.execute(_LATEST, (event_id,)).fetchone()
        # The record stands under the plate decided on (a look-alike's match, not the camera's own
        # reading), or its latest correction: a stranger taken for a resident is corrected to
        # what the camera read, which is then the plate on the car.
        previous = latest[0] if latest else value
        if plate == previous:
            raise Refused(
                f"{plate} is already the plate of this record",
                fix="type the plate as it is on the car (the reading is filled in: change what is wrong)",
                code="same_plate",
            )
        holder = plate_holder(conn, plate)
        stay_moved = _move_stay(conn, event_id, plate, holder)
        conn.execute(
            "INSERT INTO plate_corrections (event_id, plate, previous, at, actor) VALUES (?, ?, ?, ?, ?)",
            (event_id, plate, previous, to_db(at), actor),
        )
        was = f", was {previous}" if previous != read else ""
        detail = f"{lane}: read {read}{was}, is {plate}" + (", stay moved" if stay_moved else "")
        audit(conn, at, actor, "plates.correct", event_id, detail)
        enqueue(
            conn,
            "plate_correction",
            {
                "at": at.isoformat(),
                "access_event_id": event_id,
                "lane": lane,
                "read": read,
                "previous": previous,
                "plate": plate,
                "actor": actor,
                "stay_moved": stay_moved,
            },
            at,
        )
    return Correction(event_id, lane, read, previous, plate, holder, stay_moved)


def _move_stay(conn: sqlite3.Connection, event_id: str, plate: str, holder: Holder | None) -> bool:
    """A stay opened under an unknown plate (a temporary car) moves onto the corrected plate when
    that plate is unknown too and not inside already. A registered car's stay is the decision
    core's business (its slot, its billing), so it is left as decided; so is any other."""
    if holder is not None:
        return False
    row = conn.execute(_ENTRY_STAY, (event_id,)).fetchone()
    if row is None or not row[1].startswith("plate:") or stay_open(conn, f"plate:{plate}"):
        return False
    conn.execute("UPDATE stays SET subject = ?, plate = ? WHERE id = ?", (f"plate:{plate}", plate, row[0]))
    return True

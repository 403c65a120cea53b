"""Occupancy per zone and vehicle class, counted from the stays table (so it survives restarts)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from gateway.core.tickets import is_ticket

CLASSES = ("car", "motorcycle", "bicycle")

# `FROM {STAYS_LEAVING}`: the stays `t` of ids `:leaving` (JSON) that exits closed whose barrier has
# not confirmed yet: a barrier that stays down puts each car back on its stay (store/parking.py
# put_back). Looked up by id from the few ids, whatever the site's history; "[]" finds none. Not one
# whose car has a stay open (recorded inside by hand after its put-back failed, as the gateway's log
# says to): put_back leaves such a stay closed, and the car, counted by its open stay, was counted
# twice (2 cars in 2 shared spaces read 3, the next stranger refused zone_full for a free space).
STAYS_LEAVING = """json_each(:leaving) j JOIN stays t
    ON t.id = j.value AND t.exited_at IS NOT NULL AND t.closed_by = 'exit'
    AND NOT EXISTS (SELECT 1 FROM stays o WHERE o.exited_at IS NULL AND o.subject = t.subject)"""
# Where a put-back would put each: on its own slot, unless another car holds it now (the exit handed
# it to the slot's second car: store/parking.py _back_on_its_slot_if_free), else in the shared spaces.
_LEAVING = f"""
SELECT t.zone, t.class, t.subject, t.slot_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM stays o
    WHERE o.exited_at IS NULL AND o.slot_id = t.slot_id) AS on_slot
FROM {STAYS_LEAVING}
"""
_INSIDE = """
SELECT zone, class, count(*), count(slot_id) FROM stays WHERE exited_at IS NULL GROUP BY zone, class
"""
# `parts`: pieces of the plate, as a guard searches (粤B12 finds 粤B12345), a stay found by any of
# them (030301 is a ticket's number and a piece of 使030301 alike); NULL for every stay.
# The open stays are read on their own index and the few hundred sorted: left to itself, SQLite
# walked stays_entered newest first for the order, every stay kept, open or closed, and stopped early
# only once :limit cars matched, so a plate search, a plate or zone filter, or a car park with fewer
# cars inside than :limit read a year's closed stays at each refresh of the occupancy page.
_OPEN = """
SELECT s.id, s.plate, s.class, s.zone, s.billing, s.entered_at, s.billed_until, sl.number,
       s.vehicle_id IS NOT NULL, s.recorded_by
FROM stays s INDEXED BY stays_open_subject LEFT JOIN slots sl ON sl.id = s.slot_id
WHERE s.exited_at IS NULL AND (:plate IS NULL OR s.plate = :plate) AND (:zone IS NULL OR s.zone = :zone)
  AND (:parts IS NULL OR EXISTS (SELECT 1 FROM json_each(:parts) WHERE instr(s.plate, value) > 0))
ORDER BY s.entered_at DESC LIMIT :limit
"""
_OPEN_COUNT = """
SELECT count(*) FROM stays
WHERE exited_at IS NULL
  AND (:parts IS NULL OR EXISTS (SELECT 1 FROM json_each(:parts) WHERE instr(plate, value) > 0))
"""


class CarLeaving(NamedTuple):
    """A car let out whose barrier has not confirmed yet, where it would be put back."""

    zone: str | None
    vehicle_class: str
    subject: str
    on_slot: bool  # on its own slot; else in the shared spaces


def cars_leaving(conn: sqlite3.Connection, stays: Sequence[int]) -> list[CarLeaving]:
    """The cars whose stays `stays` exits closed, their barrier not confirmed yet (Gateway.
    stays_leaving): each is inside till it does, where a put-back would put it. Counted so by the
    entrance (store/lookup.py) and the occupancy figures alike: a car let in onto its space meanwhile
    overfilled the car park, and the guard shown a space free the entrance refuses would open by hand."""
    if not stays:
        return []
    rows = conn.execute(_LEAVING, {"leaving": json.dumps(list(stays))})
    return [CarLeaving(zone, vclass, subject, bool(on_slot)) for zone, vclass, subject, on_slot in rows]


def occupancy(
    conn: sqlite3.Connection,
    capacity: dict[tuple[str, str], int],
    names: dict[str, str] | None = None,
    leaving: Sequence[int] | Callable[[], Sequence[int]] = (),
) -> list[dict[str, Any]]:
    """One row per zone and class: spaces, fixed slots, cars on slots, shared spaces used and free.
    `leaving`: the stays of the cars let out whose barrier has not confirmed yet (Gateway.
    stays_leaving, read once the view has begun), counted inside as the entrance counts them
    (cars_leaving)."""
    # One view of the database for both reads, the cars leaving read once it has begun: a car put
    # back between the reads (its barrier stayed down), or let out before the view began but after
    # the cars leaving were read, was counted nowhere. A WAL read waits for no writer.
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        fixed = dict(conn.execute("SELECT zone, fixed FROM zone_slots").fetchall())  # the view begins
        stays = leaving() if callable(leaving) else leaving
        inside = {(z, c): (n, on_slot) for z, c, n, on_slot in conn.execute(_INSIDE)}
        cars_left = cars_leaving(conn, stays)
    finally:
        if own:
            conn.execute("COMMIT")
    for car in cars_left:
        n, on_slots = inside.get((car.zone, car.vehicle_class), (0, 0))
        inside[(car.zone, car.vehicle_class)] = (n + 1, on_slots + car.on_slot)
    zones = sorted({z for z, _ in capacity} | {z for z, _ in inside if z})
    rows = []
    for zone in zones:
        for vclass in CLASSES:
            total = capacity.get((zone, vclass), 0)
            n, on_slots = inside.get((zone, vclass), (0, 0))
            if total == 0 and n == 0:
                continue
            slots = fixed.get(zone, 0) if vclass == "car" else 0
            shared_capacity = max(total - slots, 0)
            shared = n - on_slots
            rows.append(
                {
                    "zone": zone,
                    "zone_name": (names or {}).get(zone, zone),
                    "class": vclass,
                    "capacity": total,
                    "fixed_slots": slots,
                    "on_slots": on_slots,
                    "shared_capacity": shared_capacity,
                    "shared_occupied": shared,
                    "shared_free": max(shared_capacity - shared, 0),
                    "inside": n,
                }
            )
    return rows


def open_stays(
    conn: sqlite3.Connection,
    plate: str | None = None,
    zone: str | None = None,
    limit: int = 200,
    parts: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The cars recorded inside, newest first, those whose plate holds one of `parts` where any are
    given; `recorded_by`: the admin (or `cli:` user) who recorded a car found inside by hand
    (gateway/parking/inside.py), None for one an entry let in."""
    cur = conn.execute(_OPEN, {"plate": plate, "zone": zone, "limit": limit, "parts": _searched(parts)})
    keys = [
        "stay_id",
        "plate",
        "class",
        "zone",
        "billing",
        "entered_at",
        "billed_until",
        "slot",
        "registered",
        "recorded_by",
    ]
    out = []
    for row in cur:
        item = dict(zip(keys, row, strict=True))
        item["registered"] = bool(item["registered"])
        item["no_plate"] = is_ticket(item["plate"])  # its plate is the ticket the entrance gave it
        out.append(item)
    return out


def count_open_stays(conn: sqlite3.Connection, parts: Sequence[str] = ()) -> int:
    """How many cars open_stays would list with no limit."""
    return int(conn.execute(_OPEN_COUNT, {"parts": _searched(parts)}).fetchone()[0])


def _searched(parts: Sequence[str]) -> str | None:
    return json.dumps(list(parts), ensure_ascii=False) if parts else None


def people_inside(conn: sqlite3.Connection) -> int:
    """People recorded inside on foot, each of a pass's party who walked in on its QR."""
    return int(conn.execute("SELECT coalesce(sum(people), 0) FROM presence WHERE inside = 1").fetchone()[0])

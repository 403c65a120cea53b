"""Occupancy per zone and vehicle class, counted from the stays table (so it survives restarts)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from gateway.core.tickets import is_ticket

CLASSES = ("car", "motorcycle", "bicycle")

_INSIDE = """
SELECT zone, class, count(*), count(slot_id) FROM stays WHERE exited_at IS NULL GROUP BY zone, class
"""
# `parts`: pieces of the plate, as a guard searches (粤B12 finds 粤B12345), a stay found by any of
# them (030301 is a ticket's number and a piece of 使030301 alike); NULL for every stay.
_OPEN = """
SELECT s.id, s.plate, s.class, s.zone, s.billing, s.entered_at, s.billed_until, sl.number,
       s.vehicle_id IS NOT NULL, s.recorded_by
FROM stays s LEFT JOIN slots sl ON sl.id = s.slot_id
WHERE s.exited_at IS NULL AND (:plate IS NULL OR s.plate = :plate) AND (:zone IS NULL OR s.zone = :zone)
  AND (:parts IS NULL OR EXISTS (SELECT 1 FROM json_each(:parts) WHERE instr(s.plate, value) > 0))
ORDER BY s.entered_at DESC LIMIT :limit
"""
_OPEN_COUNT = """
SELECT count(*) FROM stays
WHERE exited_at IS NULL
  AND (:parts IS NULL OR EXISTS (SELECT 1 FROM json_each(:parts) WHERE instr(plate, value) > 0))
"""


def occupancy(
    conn: sqlite3.Connection, capacity: dict[tuple[str, str], int], names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """One row per zone and class: spaces, fixed slots, cars on slots, shared spaces used and free."""
    fixed = dict(conn.execute("SELECT zone, fixed FROM zone_slots").fetchall())
    inside = {(z, c): (n, on_slot) for z, c, n, on_slot in conn.execute(_INSIDE)}
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
    return int(conn.execute("SELECT count(*) FROM presence WHERE inside = 1").fetchone()[0])

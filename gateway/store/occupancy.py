"""Occupancy: vehicles inside by zone and class, against the spaces the site config declares."""

from __future__ import annotations

import sqlite3
from typing import Any

_INSIDE = """
SELECT zone, class, count(*) AS inside, sum(slot_id IS NOT NULL) AS on_slots
FROM stays WHERE exited_at IS NULL GROUP BY zone, class
"""


def occupancy(
    conn: sqlite3.Connection, capacity: dict[tuple[str, str], int], names: dict[str, str]
) -> list[dict[str, Any]]:
    """One row per zone and vehicle class: spaces, fixed slots, inside, shared spaces free."""
    inside = {(z, c): (n, s or 0) for z, c, n, s in conn.execute(_INSIDE)}
    fixed = dict(conn.execute("SELECT zone, fixed FROM zone_slots"))
    rows = []
    for (zone, vclass), spaces in capacity.items():
        count, on_slots = inside.get((zone, vclass), (0, 0))
        fixed_slots = fixed.get(zone, 0) if vclass == "car" else 0
        shared = max(spaces - fixed_slots, 0)
        shared_used = count - on_slots
        if not spaces and not count:
            continue
        rows.append(
            {
                "zone": zone,
                "zone_name": names.get(zone, zone),
                "class": vclass,
                "capacity": spaces,
                "fixed_slots": fixed_slots,
                "inside": count,
                "on_fixed_slots": on_slots,
                "shared_capacity": shared,
                "shared_occupied": shared_used,
                "shared_free": max(shared - shared_used, 0),
            }
        )
    return rows


def people_inside(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM presence WHERE inside = 1").fetchone()[0])

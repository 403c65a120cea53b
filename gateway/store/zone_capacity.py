"""Zones whose fixed slots take all their car spaces, said at start, in health and after an import.

A zone's `capacity.car` counts its fixed slots (docs/config.md); the shared spaces are what is left
(lookup._zone). An installer who types only the old system's 临时车位 as the capacity, then imports
the register's fixed slots, leaves no shared space: every car without a slot there, monthly,
visitor or temporary, is refused zone_full at an empty car park, and nothing else says why.
"""

from __future__ import annotations

import sqlite3

from gateway.config.models import SiteConfig

_FIXED = "SELECT zone, fixed FROM zone_slots WHERE fixed > 0 ORDER BY zone"


def zones_over_capacity(conn: sqlite3.Connection, cfg: SiteConfig) -> dict[str, dict[str, int]]:
    """Zone -> {"capacity": its car spaces, "fixed_slots": the store's fixed slots in it}, for each
    zone of the config whose fixed slots reach or pass its car spaces. (Slots in a zone the config
    lacks are config_edits.slots_outside_zones'.)"""
    spaces = {zone.id: zone.capacity.car for zone in cfg.zones}
    return {
        zone: {"capacity": spaces[zone], "fixed_slots": fixed}
        for zone, fixed in conn.execute(_FIXED)
        if zone in spaces and fixed >= spaces[zone]
    }


def what_to_do(zone: str, capacity: int, fixed: int) -> str:
    """The warning for one zone of zones_over_capacity: what the lanes do, and the fix."""
    if fixed > capacity:
        fix = (
            f"set capacity.car of zone {zone!r} in site.toml to all its car spaces, fixed slots "
            "included (docs/config.md), and restart"
        )
    else:
        fix = (
            "if the zone has spaces besides its fixed slots, set its capacity.car in site.toml to all "
            "its car spaces, fixed slots included (docs/config.md), and restart; if every space is a "
            "fixed slot, nothing"
        )
    return (
        f"zone {zone!r} has {fixed} fixed slot(s) and a car capacity of {capacity}, fixed slots "
        "included: no shared space is left, so every car without its own slot there (monthly, "
        f"visitor, temporary) is refused zone_full (车位已满) even in an empty car park; fix: {fix}"
    )

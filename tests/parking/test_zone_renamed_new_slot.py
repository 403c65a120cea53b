"""Zone `main` renamed `garage` in site.toml, its slots not yet imported again, on a site with a
second zone, `surface`, numbered the same way. The office imports a NEW slot surface/B002: it is
added, and R2's slot B002 of the renamed zone (R2's car parked on it) stays R2's, where it is, until
its own row comes (test_zone_renamed_slots_moved.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, parking_toml, seed, show

SURFACE = """
[[zones]]
id = "surface"
name = "地面"
capacity = { car = 10, motorcycle = 5, bicycle = 5 }
"""
# (the surface's slots before the rename, the new slot's file after it, its owner)
# R3's monthly car gets a slot on the surface, numbered as the surface's own slots are.
FOR_ANOTHER_RESIDENT = ("", "zone,number,resident_ref,plates\nsurface,B002,R3,皖C44444\n", "R3")
# The surface has slots of its own already; one more is added, the file naming no owner.
IN_A_ZONE_WITH_SLOTS = ("zone,number\nsurface,B001\n", "zone,number\nsurface,B002\n", None)


@pytest.mark.parametrize("case", [FOR_ANOTHER_RESIDENT, IN_A_ZONE_WITH_SLOTS], ids=["R3", "no owner"])
def test_new_slot_in_another_zone_does_not_take_the_renamed_zones_slot(
    tmp_path: Path, case: tuple[str, str, str | None]
) -> None:
    """R2's slot B002 keeps its id, zone and owner, and R2's car parked on it is not counted on the
    surface; the new slot is a slot of its own."""
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data, extra=SURFACE), "site.toml")
    seed(cfg, tmp_path)  # main/B001 (R1's two cars), main/B002 (R2's 皖B33333)
    surface_before, new_slot, owner = case
    if surface_before:
        import_csv(cfg, [write_csv(tmp_path / "surface.csv", surface_before)])
    gw = Gateway(cfg)
    assert show(gw, "car-in", "皖B33333", T0).billing == "slot"  # R2 parks on B002
    gw.conn.close()
    renamed = parse_config(
        parking_toml(data, extra=SURFACE)
        .replace('id = "main"', 'id = "garage"')
        .replace('zone = "main"', 'zone = "garage"'),
        "site.toml",
    )
    import_csv(renamed, [write_csv(tmp_path / "new_slot.csv", new_slot)])

    gw = Gateway(renamed)
    try:
        slots = gw.conn.execute(
            "SELECT s.zone, s.number, r.ref FROM slots s LEFT JOIN residents r ON r.id = s.resident_id "
            "WHERE s.number = 'B002' ORDER BY s.id"
        ).fetchall()
        assert slots == [("main", "B002", "R2"), ("surface", "B002", owner)]
        parked = gw.conn.execute(
            "SELECT t.zone, s.zone, s.number FROM stays t JOIN slots s ON s.id = t.slot_id "
            "WHERE t.exited_at IS NULL"
        ).fetchall()
        assert parked == [("main", "main", "B002")]
    finally:
        gw.conn.close()

"""A plate that came in on a visitor pass, then imported as a resident's car: it is that car from
then on (its slot, free), as the admin API's "add vehicle" makes it, not still the visitor's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.timefmt import to_db
from tests.conftest import write_csv
from tests.parking.conftest import T0, add_visitor, show

PLATE = "皖E66666"


def _import_as_r2s_car(gw: Gateway, tmp_path: Path) -> None:
    import_csv(
        gw.site.config,
        [
            write_csv(tmp_path / "v.csv", f"plate,resident_ref\n{PLATE},R2\n"),
            write_csv(tmp_path / "s.csv", f"zone,number,resident_ref,plates\nmain,B003,R2,{PLATE}\n"),
        ],
    )


def test_a_visitors_plate_imported_as_a_new_residents_car_parks_on_its_slot(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """A new tenant first came as a visitor (the booth registered the car on a pass); the office
    then imports it as R2's car on slot B003. It entered as a car without a slot (it paid, or was
    refused no_slot): its plate was still tied to no vehicle."""
    gw = make_gw()
    add_visitor(gw, PLATE)
    _import_as_r2s_car(gw, tmp_path)
    car = gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (PLATE,)).fetchone()[0]
    ev = show(gw, "car-in", PLATE, T0 + timedelta(hours=2))
    assert (ev.reason, ev.billing, ev.vehicle_id) == ("resident", "slot", car)


def test_the_visitors_pass_no_longer_holds_the_plate_or_its_window(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """The plate is the resident's car's alone now: the pass it came on lets it in no more, and the
    pass's end (tomorrow) is not the car's (the booth gave the plate the pass's window)."""
    gw = make_gw()
    pass_id = add_visitor(gw, PLATE)
    gw.conn.execute(
        "UPDATE credentials SET valid_from = ?, valid_to = ? WHERE value = ?",
        (to_db(T0 - timedelta(hours=1)), to_db(T0 + timedelta(days=1)), PLATE),
    )
    _import_as_r2s_car(gw, tmp_path)
    held = gw.conn.execute("SELECT count(*) FROM credentials WHERE pass_id = ?", (pass_id,)).fetchone()
    assert held == (0,)
    ev = show(gw, "car-in", PLATE, T0 + timedelta(days=3))
    assert (ev.admitted, ev.reason, ev.billing) == (True, "resident", "slot")

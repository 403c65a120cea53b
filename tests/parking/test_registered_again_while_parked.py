"""A car struck off the register and registered again (the same plate, a new vehicle id: the
central server re-sends it, or an office renews it by delete and add) while it is parked: its stay
follows the plate to the new vehicle, and is placed and billed as that vehicle's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.store.admin import import_csv
from gateway.store.database import open_database
from gateway.store.occupancy import occupancy
from tests.conftest import write_csv
from tests.parking.conftest import T0, TZ, show
from tests.parking.directory_exit_helpers import delta
from tests.test_store import database_at

H = timedelta(hours=1)
B001 = {
    "kind": "slot",
    "zone": "main",
    "number": "B001",
    "resident": "R1",
    "plates": ["皖A11111", "皖A22222"],
}
B002 = {"kind": "slot", "zone": "main", "number": "B002", "resident": "R2", "plates": ["皖B33333"]}


def _sent_again(gw: Gateway, plate: str, resident: str, *also: dict[str, object]) -> None:
    """The centre strikes the car off at T0+1h and sends it back, with its slot, at T0+2h."""
    delta(gw, 1, 0, T0 + H, delete=[{"kind": "vehicle", "plate": plate}])
    delta(gw, 2, 1, T0 + 2 * H, upsert=[{"kind": "vehicle", "plate": plate, "resident": resident}, *also])


def _second_car_fee(gw: Gateway, registered_again: bool) -> int:
    """R1's two cars share slot B001 (一位多车): 皖A11111 on it, 皖A22222 in the shared spaces as a
    temporary car. 皖A11111 leaves at T0+3h, so 皖A22222 moves onto the slot then and pays, at its
    exit at T0+10h, only for the time before (docs/parking.md, 一位多车)."""
    assert show(gw, "car-in", "皖A11111", T0).reason == "resident"
    second = show(gw, "car-in", "皖A22222", T0 + timedelta(minutes=1))
    assert (second.reason, second.flags) == ("temporary", ("shared_slot",))
    if registered_again:
        _sent_again(gw, "皖A22222", "R1", B001)
    assert show(gw, "car-out", "皖A11111", T0 + 3 * H).admitted
    held = show(gw, "car-out", "皖A22222", T0 + 10 * H)
    assert held.reason == "payment_due"
    return held.fee_fen


def test_second_car_sent_again_is_handed_the_slot_when_the_first_leaves(
    make_gw: Callable[..., Gateway],
) -> None:
    """The same stay, the same slot, the same cars listed on it: the second car pays for the three
    hours before it was handed the slot, whether or not the centre re-sent it meanwhile (it paid
    for ten: the handover looked for it under its old vehicle id)."""
    as_was = _second_car_fee(make_gw(), registered_again=False)
    re_sent = _second_car_fee(make_gw(), registered_again=True)
    assert re_sent == as_was == 900


def test_car_on_its_own_slot_sent_again_stays_on_its_slot(gw: Gateway) -> None:
    """R2's car is on its own slot B002; the centre strikes it off by mistake and sends it back on
    B002 the next hour. The car stays on B002: no shared space is taken for it (it was moved into
    the shared spaces, and B002 shown free, until it left)."""
    assert show(gw, "car-in", "皖B33333", T0).reason == "resident"
    _sent_again(gw, "皖B33333", "R2", B002)
    row = next(r for r in occupancy(gw.conn, gw.site.capacity) if r["class"] == "car")
    assert (row["on_slots"], row["shared_occupied"]) == (1, 0), row
    out = show(gw, "car-out", "皖B33333", T0 + 5 * H)
    assert (out.reason, out.fee_fen) == ("resident", 0)


def _monthly_car_parked(gw: Gateway, tmp_path: Path) -> tuple[int, int]:
    """R3's monthly car, paid up to the end of 3 March, parks on 3 March: its (vehicle, resident)."""
    csv = write_csv(tmp_path / "m.csv", "plate,resident_ref,monthly_until\n皖C44444,R3,2025-03-03\n")
    import_csv(gw.site.config, [csv])
    assert show(gw, "car-in", "皖C44444", T0).reason == "monthly"
    vid, rid = gw.conn.execute("SELECT id, resident_id FROM vehicles WHERE plate = '皖C44444'").fetchone()
    return int(vid), int(rid)


def test_monthly_car_renewed_by_delete_and_add_leaves_free(gw: Gateway, tmp_path: Path) -> None:
    """The office renews R3's monthly car while it is parked by deleting the car and adding it
    again, paid up to the end of April; docs/parking.md: "a renewal pushed while it is parked
    counts, and it leaves free". It was asked for the days after 3 March."""
    vid, rid = _monthly_car_parked(gw, tmp_path)
    registry.delete_vehicle(gw.conn, T0 + H, "admin", vid)
    renewed = datetime(2025, 4, 30, 23, 59, tzinfo=TZ)
    registry.add_vehicle(gw.conn, T0 + H, "admin", "皖C44444", rid, "car", renewed)
    out = show(gw, "car-out", "皖C44444", T0 + timedelta(days=3))
    assert (out.reason, out.fee_fen) == ("monthly", 0)


def test_monthly_car_added_again_without_a_period_pays_after_its_old_one(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """Added again with no period, the car's stay keeps the period it came in with (as a car struck
    off does, migration 17): it pays for the time after 3 March, as the same car left alone does,
    neither nothing nor from its entry."""
    leave = datetime(2025, 3, 4, 23, 0, tzinfo=TZ)
    left_alone = make_gw()
    _monthly_car_parked(left_alone, tmp_path / "site0")
    as_was = show(left_alone, "car-out", "皖C44444", leave).fee_fen
    gw = make_gw()
    vid, rid = _monthly_car_parked(gw, tmp_path / "site1")
    registry.delete_vehicle(gw.conn, T0 + H, "admin", vid)
    registry.add_vehicle(gw.conn, T0 + H, "admin", "皖C44444", rid, "car", None)
    out = show(gw, "car-out", "皖C44444", leave)
    assert (out.reason, out.fee_fen) == ("payment_due", as_was)
    assert as_was > 0


def test_stay_left_under_a_deleted_vehicle_by_an_older_gateway_is_mended(tmp_path: Path) -> None:
    """A box upgraded from an older gateway, with a car parked on its own slot that was struck off
    and registered again (vehicle 1 is gone, vehicle 2 carries its plate and slot): the upgrade
    points the stay at vehicle 2, so the car keeps its slot when the slot is next handed round."""
    path = tmp_path / "gateway.db"
    old = database_at(path, 19)
    at = "2025-03-03T01:00:00.000000+00:00"
    old.execute(
        "INSERT INTO residents (id, ref, building, unit, name) VALUES (1, 'R2', '5栋', '1单元', '李四')"
    )
    old.execute("INSERT INTO vehicles (id, plate, resident_id) VALUES (2, '皖B33333', 1)")
    old.execute(
        "INSERT INTO credentials (kind, value, resident_id, vehicle_id) VALUES ('plate', '皖B33333', 1, 2)"
    )
    old.execute("INSERT INTO slots (id, zone, number, resident_id) VALUES (1, 'main', 'B002', 1)")
    old.execute("INSERT INTO slot_vehicles VALUES (1, 2)")
    old.execute(
        "INSERT INTO stays (subject, plate, vehicle_id, zone, slot_id, billing, entered_at) "
        "VALUES ('vehicle:2', '皖B33333', 1, 'main', 1, 'resident', ?)",
        (at,),
    )
    old.close()
    conn = open_database(path).conn
    assert conn.execute("SELECT vehicle_id, slot_id FROM stays").fetchall() == [(2, 1)]

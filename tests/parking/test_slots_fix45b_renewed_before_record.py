"""A slot's car, its month run out, renewed while parked, then made the slot's second car by a
car recorded inside from before it (docs/parking.md, *Cars already inside*: the later car is
"decided again as that entry would have been with the recorded car on the slot"; *Monthly*: a car
that came in paying because its month had run out and is renewed while parked pays for the time
before the renewal). From a review of the cars-recorded-inside fix (renewal of a displaced car)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.store.admin import import_csv
from gateway.timefmt import to_db
from tests.conftest import write_csv
from tests.parking.conftest import T0, show
from tests.parking.test_api import serving
from tests.parking.test_inside_fix44_restored import A, B, H, M, listed, record
from tests.parking.test_inside_fix45_renewal_displaced import _month_ran_out_yesterday, _renewed
from tests.parking.test_no_plate_car import Site

C = "皖A33333"  # a third car of R1's


def test_a_car_renewed_before_the_record_that_made_it_the_second_car_pays_until_its_renewal(
    make_gw: Callable[..., Gateway],
) -> None:
    """B's month ran out yesterday. B drives in at 09:00 onto B001 (the gateway does not know A is
    parked); the household renews B at 10:00; at 10:30 the admin records A, in since 07:00, and B
    becomes the slot's second car from 09:00. Through the lane (behind A) B came in temporary,
    month run out, and pays 5元 for 09:00-10:00 at 13:00; it must not leave free as a monthly car."""
    with serving(make_gw()) as served:
        s = Site(*served)
        _month_ran_out_yesterday(s, B)
        assert s.show("car-in", B).billing == "slot"
        s.now = T0 + H
        _renewed(s, B, s.now)
        s.now = T0 + 90 * M
        made = record(s, A, T0 - 2 * H, "old system's list: parked since 07:00")
        second = made["second_car"]
        row = listed(s, B)
        s.now = T0 + 4 * H
        out = s.show("car-out", B)
    assert out.fee_fen == 500, (
        f"B, the slot's second car from 09:00 with its month run out, renewed at 10:00, is asked "
        f"{out.fee_fen / 100:g}元 at 13:00: the record decided it again as {second['billing']} "
        f"({second['reason']}, flags {second['flags']}) by its renewal made after its entry; "
        f"through the lane it pays 5元 (09:00-10:00). Its stay: {row}"
    )


def test_a_second_car_renewed_then_handed_the_slot_still_pays_until_its_renewal_once_made_second_again(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """R1's B001 lists A, B and C. C drives in at 08:00 onto B001; B, its month run out yesterday,
    at 09:00 as the slot's second car (temporary, monthly_expired); B is renewed at 10:00 (its
    billing stops then) and handed B001 when C leaves at 11:00. At 11:30 the admin records A, in
    since 07:00: B is the slot's second car again, and still came in paying, renewed at 10:00. It
    pays 5元 at 13:00 (09:00-10:00), as before the record; decided again by the register after its
    renewal, it was made a monthly car and left free."""
    gw = make_gw()
    files = [
        write_csv(tmp_path / "v.csv", f"plate,resident_ref\n{C},R1\n"),
        write_csv(tmp_path / "s.csv", f"zone,number,resident_ref,plates\nmain,B001,R1,{A};{B};{C}\n"),
    ]
    import_csv(gw.site.config, files)
    with gw.conn:
        gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = ?", (to_db(T0 - 24 * H), B))
    assert show(gw, "car-in", C, T0 - H).billing == "slot"  # 08:00 onto B001
    came = show(gw, "car-in", B, T0)  # 09:00, the slot's second car
    assert (came.billing, "monthly_expired" in came.flags) == ("temporary", True), came
    vid = gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (B,)).fetchone()[0]
    registry.update_vehicle(gw.conn, T0 + H, "admin", vid, {"monthly_until": T0 + 31 * 24 * H})  # 10:00
    assert show(gw, "car-out", C, T0 + 2 * H).admitted  # 11:00: B handed B001
    a_inside = CarInside(A, T0 - 2 * H)  # 07:00
    with gw.conn:
        made = record_inside(gw.conn, gw.site, a_inside, "camera down at 07:00", "admin1", T0 + 150 * M)
    out = show(gw, "car-out", B, T0 + 4 * H)  # 13:00
    second = made["second_car"] or {}
    assert out.fee_fen == 500, (
        f"B, in at 09:00 behind C with its month run out and renewed at 10:00, is asked "
        f"{out.fee_fen / 100:g}元 at 13:00: the record decided it again as {second.get('billing')} "
        f"({second.get('reason')}, flags {second.get('flags')}) by the register after its renewal"
    )

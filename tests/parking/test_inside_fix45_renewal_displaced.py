"""A slot's car made the second car by a car recorded inside from before it (登记场内车辆), whose
month had run out, renewed while parked. docs/parking.md, *Cars already inside*: the later car
"becomes the slot's second car from its own entry, decided again as that entry would have been
with the recorded car on the slot"; *Monthly*: a car that came in paying because its month had
run out and is renewed while parked pays at its exit only for the time before the renewal.

R1's slot B001 lists 皖A11111 (A) and 皖A22222 (B). Tariff: 30 minutes free, 5元 the first hour,
2元 an hour after it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.timefmt import to_db
from tests.parking.conftest import T0
from tests.parking.test_api import serving
from tests.parking.test_inside_fix44_restored import A, B, H, M, listed, record
from tests.parking.test_no_plate_car import Site

D = 24 * H


def _month_ran_out_yesterday(s: Site, plate: str) -> None:
    s.gw.on_worker(
        lambda c: c.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = ?", (to_db(T0 - D), plate))
    ).result(10)


def _renewed(s: Site, plate: str, at: datetime) -> None:
    """The office renews the car for a month (the 查询 page's renewal: registry.update_vehicle)."""
    vid = s.read("SELECT id FROM vehicles WHERE plate = ?", plate)[0][0]
    s.gw.on_worker(
        lambda c: registry.update_vehicle(c, at, "admin", vid, {"monthly_until": T0 + 31 * D})
    ).result(10)


def test_a_car_made_the_second_car_by_a_record_pays_only_until_its_renewal(
    make_gw: Callable[..., Gateway],
) -> None:
    """B's month ran out yesterday. B drives in at 09:00 onto B001 (free: the gateway does not
    know A is parked). At 09:30 the admin records A from the old system's list, in since 07:00: B
    is made the slot's second car, temporary from 09:00 (flag monthly_expired, as the lane would
    have decided it). At 10:00 the household renews B. B leaves at 13:00. Had B come in at 09:00
    behind A at the lane it would be asked 5元 (09:00-10:00, the hour before its renewal); it is
    asked 11元 for 09:00-13:00, the renewal ignored because B's access record says resident."""
    with serving(make_gw()) as served:
        s = Site(*served)
        _month_ran_out_yesterday(s, B)
        assert s.show("car-in", B).billing == "slot"
        s.now = T0 + 30 * M
        made = record(s, A, T0 - 2 * H, "old system's list: parked since 07:00")
        second = made["second_car"]
        assert second["plate"] == B and "monthly_expired" in second["flags"], second
        s.now = T0 + H
        _renewed(s, B, s.now)
        row = listed(s, B)
        s.now = T0 + 4 * H
        out = s.show("car-out", B)
    assert out.fee_fen <= 500, (
        f"B, the slot's second car from 09:00 (month run out), renewed at 10:00, out at 13:00 was "
        f"asked {out.fee_fen / 100:g}元 ({out.reason}); a car that came in so at the lane pays at most 5元 "
        f"(its stay after the renewal: {row})"
    )

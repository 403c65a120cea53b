"""Review 61z: among a resident's plate's dates (his car's registration and his own validity),
over outranks not yet, as for a card or a pass (decide._credential_refusal, review 61v). A resident
whose lease ended on 03-01, his car registered from 03-04, came in on 03-03 as a car whose
registration had not begun (登记未生效), or was refused 未到有效期 (come back later), while his card
at the same barrier said 已过期."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, gw, parking_toml, seed, show  # noqa: F401

EVENING = T0 + timedelta(hours=12)  # Monday 3 March 2025, 21:00
NEW_CAR = "皖C66666"


def _lease_over_car_not_yet(g: Gateway, tmp_path: Path) -> None:
    residents = write_csv(
        tmp_path / "r.csv", "ref,building,unit,name,valid_to\nR3,6栋,1单元,王五,2025-03-01\n"
    )
    cars = write_csv(tmp_path / "v.csv", f"plate,resident_ref,valid_from\n{NEW_CAR},R3,2025-03-04\n")
    import_csv(g.site.config, [residents, cars])


def test_plate_comes_in_paying_as_registration_expired(gw: Gateway, tmp_path: Path) -> None:  # noqa: F811
    _lease_over_car_not_yet(gw, tmp_path)
    came = show(gw, "car-in", NEW_CAR, EVENING)
    assert came.admitted and came.reason == "temporary", came
    assert came.flags == ("registration_expired",), came.flags


def test_plate_refused_expired_where_unregistered_cars_are_refused(tmp_path: Path) -> None:
    text = parking_toml(tmp_path / "data").replace("[policy]\n", '[policy]\nunknown_vehicle = "refuse"\n')
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    g = Gateway(cfg)
    try:
        _lease_over_car_not_yet(g, tmp_path)
        came = show(g, "car-in", NEW_CAR, EVENING)
        assert (came.admitted, came.reason) == (False, "expired"), came
    finally:
        g.conn.close()

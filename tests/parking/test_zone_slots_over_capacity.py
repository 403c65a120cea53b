"""Day one: the register's fixed slots against the zone's capacity typed in site.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.cli import main
from gateway.runtime.gateway import Gateway
from gateway.sync.health import health_report
from tests.conftest import write_csv
from tests.parking.conftest import T0, parking_config, parking_toml, show

SAID = "zone 'main' has 3 fixed slot(s) and a car capacity of 2, fixed slots included"


def _register(tmp_path: Path, capacity: int, slots: int) -> list[str]:
    """Import the register (R1's car on slot B001, more slots without owner) with `gateway import`."""
    config = tmp_path / "site.toml"
    config.write_text(parking_toml(tmp_path / "data", capacity=capacity), encoding="utf-8")
    rows = "".join(f"main,B00{n},,\n" for n in range(2, slots + 1))
    files = [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\nR3,6栋,1单元,王五\n"),
        write_csv(
            tmp_path / "v.csv", "plate,resident_ref,monthly_until\n皖A11111,R1,\n皖C44444,R3,2026-12-31\n"
        ),
        write_csv(tmp_path / "s.csv", f"zone,number,resident_ref,plates\nmain,B001,R1,皖A11111\n{rows}"),
    ]
    assert main(["import", "-c", str(config), *map(str, files)]) == 0
    return [str(f) for f in files]


def test_more_fixed_slots_than_the_zones_car_spaces_is_said_not_left_to_refuse_monthly_cars(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The installer types the garage's capacity as the old system showed it (its 临时车位, 2 here)
    and imports the register's 3 fixed slots. Nothing is said, by `gateway import` nor at start,
    yet the zone's shared spaces are now capacity less fixed slots = none, for good: on day one
    every monthly car (and every visitor and temporary car) is refused 车位已满 (zone_full) at an
    empty car park, only slot owners come in. docs/config.md: capacity is "Spaces for cars, fixed
    slots included", so 3 slots in 2 spaces is a setting that cannot be right; REQUIREMENTS:
    installers need clear messages when a setting is wrong (as the start already says of slots in a
    zone the config lacks). Expected: the import or the start names the zone, its car capacity and
    its fixed slots."""
    _register(tmp_path, capacity=2, slots=3)
    imported = capsys.readouterr().out
    gw = Gateway(parking_config(tmp_path / "data", capacity=2))
    at_start = capsys.readouterr().out  # the log as `gateway import` set it up: to stdout
    try:
        monthly = show(gw, "car-in", "皖C44444", T0)
        upstream = health_report(gw, {}, 0, "test", gw.now())["zones_over_capacity"]
        local = TestClient(create_app(gw)).get("/api/health").json()["zones_over_capacity"]
    finally:
        gw.conn.close()
    assert (monthly.admitted, monthly.reason) == (False, "zone_full")  # as the setting has it
    assert SAID in imported and "set capacity.car of zone 'main' in site.toml" in imported, imported
    assert f"WARNING gateway.runtime.config_edits: {SAID}" in at_start, at_start
    assert upstream == local == {"main": {"capacity": 2, "fixed_slots": 3}}


def test_a_zone_all_of_fixed_slots_is_said_with_nothing_to_do_if_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As many fixed slots as car spaces may be right (a garage of sold slots only): said, with the
    fix for when the zone has shared spaces too."""
    _register(tmp_path, capacity=3, slots=3)
    out = capsys.readouterr().out
    assert "zone 'main' has 3 fixed slot(s) and a car capacity of 3" in out, out
    assert "if every space is a fixed slot, nothing" in out, out


def test_a_zone_with_shared_spaces_left_is_not_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _register(tmp_path, capacity=6, slots=3)
    gw = Gateway(parking_config(tmp_path / "data", capacity=6))
    try:
        local = TestClient(create_app(gw)).get("/api/health").json()["zones_over_capacity"]
        monthly = show(gw, "car-in", "皖C44444", T0)
    finally:
        gw.conn.close()
    assert "fixed slot(s) and a car capacity" not in capsys.readouterr().out
    assert local == {} and monthly.admitted

"""Review 67 G1: a green new-energy plate typed or imported without its province is no army plate.

苏ED12345 typed as ED12345 fits the army's format whole (two letters, five digits). The guard typing
it at the lane let the resident's car in as a temporary ED12345, a stay open for good, and the
camera's 苏ED12345 let it in again: one car counted twice. An import row EF12345 for a monthly car
left the real 苏EF12345 charged as a stranger. Such a plate is refused saying to type the province;
an army plate is written with its separator (ED-12345), as on the car (VA·12345)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.cli import main
from gateway.privacy import Secrets
from gateway.runtime.gateway import Gateway
from gateway.sync.entries import parse_entry, parse_key, row_key
from tests.conftest import site_toml, write_csv
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.parking.test_api import serving

Served = tuple[Gateway, TestClient, dict[str, str]]


@pytest.fixture
def app(make_gw: Callable[..., Gateway]) -> Iterator[Served]:  # noqa: F811
    with serving(make_gw()) as served:
        yield served


def _open_stays(gw: Gateway) -> list[str]:
    return [r[0] for r in gw.conn.execute("SELECT plate FROM stays WHERE exited_at IS NULL")]


def test_the_lane_refuses_a_green_plate_without_its_province_and_takes_the_army_plate(app: Served) -> None:
    gw, client, auth = app
    r = client.post("/api/lanes/car-in/plate", headers=auth, json={"plate": "ED12345"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert (
        error["code"] == "invalid_plate"
        and "苏ED12345" in error["message"]
        and "ED-12345" in error["message"]
    )
    assert (error["plate"], error["army"]) == ("ED12345", "ED-12345")  # err.invalid_plate.data's blanks
    r = client.post("/api/parking/stays", headers=auth, json={"plate": "ED12345", "reason": "停车场巡查"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_plate", r.text
    assert _open_stays(gw) == []

    army = client.post("/api/lanes/car-in/plate", headers=auth, json={"plate": "ED-12345"})
    assert army.status_code == 200 and army.json()["plate"] == "ED12345", army.text
    assert _open_stays(gw) == ["ED12345"]
    # The page fills the correction dialog in with the record's plate as stored, and decides the car
    # again on the plate a correction answered: ED12345 for that record is its army plate.
    event = army.json()["event_id"]
    again = client.post(f"/api/events/{event}/plate", headers=auth, json={"plate": "ED12345"})
    assert again.json()["error"]["code"] != "invalid_plate", again.text
    body = {"plate": "ED12345", "corrected_event": event}
    decided = client.post("/api/lanes/car-in/plate", headers=auth, json=body)
    assert decided.json().get("error", {}).get("code") != "invalid_plate", decided.text


def test_an_import_refuses_it_and_an_army_plate_exported_imports_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    people = write_csv(tmp_path / "people.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n")
    cars = write_csv(tmp_path / "cars.csv", "plate,resident_ref,monthly_until\nEF12345,R1,2030-12-31\n")
    assert main(["import", "-c", str(config), str(people), str(cars)]) != 0
    said = capsys.readouterr().err
    assert "'EF12345' reads as a green new-energy plate without its province" in said, said

    write_csv(cars, "plate,resident_ref\nEF-12345,R1\n")
    assert main(["import", "-c", str(config), str(people), str(cars)]) == 0
    out = tmp_path / "export"
    assert main(["export", "-c", str(config), str(out)]) == 0
    assert "EF-12345,R1" in (out / "vehicles.csv").read_text(encoding="utf-8-sig")
    assert main(["import", "-c", str(config), *map(str, sorted(out.glob("*.csv")))]) == 0, capsys.readouterr()


def test_the_centres_entry_and_delete_name_the_army_plate_as_stored(tmp_path: Path) -> None:
    # The centre's entries are the register, listing the cars as the gateway sent them up (Review 67
    # J1: refused, the army car the gateway sent up as ED12345 refused the centre's every snapshot).
    secrets = Secrets.load_or_create(tmp_path)
    entry = {"kind": "vehicle", "plate": "ED12345", "resident": "R1"}
    kind, row = parse_entry(entry, ZoneInfo("Asia/Shanghai"), secrets)
    assert kind == "vehicle" and row_key(kind, row) == ("ED12345",)
    assert parse_key({"kind": "vehicle", "plate": "ED12345"}) == ("vehicle", ("ED12345",))

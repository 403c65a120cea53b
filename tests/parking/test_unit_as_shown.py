"""A unit the central server sent as bare numbers (building "7", unit "4"), which every guard page
names 7栋4单元: looked up and recorded as the pages show it, it is the same unit."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.store.materials import list_materials, record_materials_out
from gateway.store.passes import NewPass, create_pass
from gateway.store.units import parse_unit
from tests.parking.conftest import T0, report_of_t0_day
from tests.parking.directory_exit_helpers import delta
from tests.ui.conftest import GUARD, Site, bearer, log_in, make_config, start_site

H = timedelta(hours=1)
HOST = {"kind": "resident", "ref": "R9", "building": "8", "unit": "1", "room": "301", "name": "周九"}


@pytest.fixture
def guard_site(tmp_path: Path) -> Iterator[Site]:
    """The guard app's site (tests/ui/conftest.py), here beside the parking tests."""
    s = start_site(make_config(tmp_path / "data"))
    yield s
    s.gw.stop()


@pytest.fixture
def guard_client(guard_site: Site) -> Iterator[TestClient]:
    with TestClient(create_app(guard_site.gw)) as c:
        yield c


def test_lookup_finds_a_unit_typed_as_the_pages_name_it(guard_client: TestClient, guard_site: Site) -> None:
    """The central server sends its residents with bare numbers (docs/mqtt.md: "building": "3",
    "unit": "2"), and every guard page names such a unit 7栋4单元. A guard who looked up 7栋4单元 on
    the lookup page, typed whole as guard-app.md invites ("a building and unit typed whole (3栋2单元)
    lists all of that unit first"), found nobody: the search compared building || unit ("74") with
    what was typed, and 7栋4单元 is not in "74". The owner of 7栋4单元 is listed."""
    site, client = guard_site, guard_client

    def add(conn: sqlite3.Connection) -> None:
        person = {"ref": "C74", "building": "7", "unit": "4", "room": "1201", "name": "孙七"}
        registry.upsert_resident(conn, site.gw.secrets, site.gw.now(), "centre", person)

    site.gw.on_worker(add).result(timeout=30)
    guard = bearer(site.guard_token)

    def refs(q: str) -> list[str]:
        r = client.get("/api/lookup", params={"q": q}, headers=guard)
        assert r.status_code == 200, r.text
        return [x["ref"] for x in r.json()]

    assert refs("孙七") == ["C74"]
    for typed in ("7栋4单元", "7号楼4单元", "７栋 ４单元"):
        assert refs(typed) == ["C74"], f"{typed} finds {refs(typed)}"
    assert refs("3栋2单元") == ["R1"]  # stored as the pages show it (3栋 / 2单元): found as typed
    log_in(client, GUARD)
    page = client.get("/lookup", params={"q": "7栋4单元"}).text
    assert page.count("data-resident=") == 1


@pytest.mark.parametrize(
    ("typed", "unit"),
    [
        ("7栋4单元", ("7", "4")),
        ("７号楼 ４单元", ("7", "4")),
        ("A幢12单元", ("A", "12")),
        ("74", None),
        ("7栋", None),
        ("4单元", None),
        ("孙七", None),
    ],
)
def test_a_query_is_a_unit_only_when_it_names_building_and_unit(
    typed: str, unit: tuple[str, str] | None
) -> None:
    """Only a building and unit typed whole, each with its word, is looked up as a unit."""
    assert parse_unit(typed) == unit


def test_daily_report_counts_one_unit_once_however_its_materials_were_written(gw: Gateway) -> None:
    """The centre sends the resident of 8栋1单元 as building "8", unit "1". A renovation crew's pass
    (issued for the unit as the centre names it, 8 / 1) carries out old cabinets; later the owner
    moves a sofa out with no pass and the guard types the unit as every page shows it, 8栋 / 1单元
    (accepted since e305364: one normal form, "also for materials"). The daily summary for the
    community office (docs/parking.md: "materials carried out per unit") listed two units, 8 1 with
    one record and 8栋 1单元 with one record, for what is one unit with two records."""
    delta(gw, 1, 0, T0 - 2 * H, upsert=[HOST])
    crew = NewPass("contractor", "好家装饰", T0 - H, T0 + 30 * 24 * H, host_building="8", host_unit="1")
    pass_id = create_pass(gw.conn, gw.secrets, crew, T0 - H, "guard1")
    record_materials_out(gw.conn, T0 + H, "guard1", items="旧橱柜 1 套", pass_id=pass_id)
    record_materials_out(
        gw.conn, T0 + 2 * H, "guard1", items="沙发 1 张", host_building="8栋", host_unit="1单元"
    )
    units = report_of_t0_day(gw, T0 + 30 * H)["materials_out"]
    assert len(units) == 1 and units[0]["records"] == 2, f"one unit reported as {units}"
    assert [(m["host_building"], m["host_unit"]) for m in list_materials(gw.conn)] == [("8", "1"), ("8", "1")]

"""What an admin types on the HTTP API reaches the files the office opens in Excel or WPS: the
export, which must import back, and the daily report."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.cli import main
from tests.conftest import site_toml
from tests.test_csv_spreadsheet import FORMULA, formula_cells
from tests.ui.conftest import Site, bearer

REGISTER = (
    "SELECT ref, building, unit, room, name FROM residents ORDER BY ref",
    "SELECT kind, value, hours FROM credentials ORDER BY value",
    "SELECT zone, number FROM slots ORDER BY number",
)


def _register(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(data_dir / "gateway.db") as conn:
        return conn.execute(sql).fetchall()


def test_an_export_of_what_the_api_took_imports_into_a_new_gateway(site: Site, tmp_path: Path) -> None:
    """README: `gateway export` writes the files `import` reads back (a gateway rebuilt from an
    export). The API took a resident with a blank building, which `import` refuses: the whole
    export would not import (one bad row, nothing imported). A ref or name with a space at the end
    went into the export and came back without it: another resident's key."""
    client = TestClient(create_app(site.gw))
    admin = bearer(site.admin_token)
    blank = client.post(
        "/api/residents", headers=admin, json={"ref": "R7", "building": " ", "unit": "商铺", "name": "便利店"}
    )
    assert blank.status_code == 422, blank.text
    assert blank.json()["error"]["fields"] == ["building"] and "not blank" in blank.json()["error"]["fix"]
    for resident in (
        {"ref": "R7 ", "building": "商铺", "unit": "1号", "name": "便利店 "},
        {"ref": "R8", "building": "5栋", "unit": "1单元", "name": "'t Hooft"},
        {"ref": "R9", "building": "6栋", "unit": "1单元", "name": FORMULA},
    ):
        made = client.post("/api/residents", headers=admin, json=resident)
        assert made.status_code == 200, made.text
    rid = made.json()["id"]
    card = {"card": "-0A1B2C", "resident_id": rid, "hours": [" 07:00-21:00 "]}
    assert client.post("/api/cards", headers=admin, json=card).status_code == 200
    slot = {"zone": "main", "number": " -1 ", "resident_id": rid}
    assert client.post("/api/slots", headers=admin, json=slot).status_code == 200
    assert client.post("/api/slots", headers=admin, json={**slot, "number": " "}).status_code == 422

    old = tmp_path / "old.toml"
    old.write_text(site_toml(site.gw.data_dir), encoding="utf-8")
    out = tmp_path / "export"
    assert main(["export", "-c", str(old), str(out)]) == 0
    new = tmp_path / "new.toml"
    new.write_text(site_toml(tmp_path / "new-data"), encoding="utf-8")
    assert main(["import", "-c", str(new), *map(str, sorted(out.glob("*.csv")))]) == 0
    for sql in REGISTER:
        assert _register(tmp_path / "new-data", sql) == _register(site.gw.data_dir, sql), sql
    assert ("R7", "商铺", "1号", "", "便利店") in _register(tmp_path / "new-data", REGISTER[0])


def test_the_daily_report_csv_runs_no_formula_and_opens_in_excel_with_its_names(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report counts materials carried out per unit (物品放行), by the unit's name as the office
    or the central server gave it. A unit named =1+1 or @SUM(1,2) ran as a formula when the office
    opened the report in Excel; and without a byte-order mark Excel on a Chinese Windows showed
    every Chinese name in it garbled."""
    gw = site.gw
    client = TestClient(create_app(gw))
    admin = bearer(site.admin_token)
    yesterday = gw.now() - timedelta(days=1)
    real_now = gw.now
    monkeypatch.setattr(gw, "now", lambda: yesterday)
    resident = {"ref": "R9", "building": "=1+1", "unit": "@SUM(1,2)", "name": "王五"}
    assert client.post("/api/residents", headers=admin, json=resident).status_code == 200
    carried = {"items": "旧橱柜 1 套", "host_building": "=1+1", "host_unit": "@SUM(1,2)"}
    r = client.post("/api/materials", headers=admin, json=carried)
    assert r.status_code == 201, r.text
    monkeypatch.setattr(gw, "now", real_now)
    day = yesterday.date()
    assert client.post(f"/api/parking/reports/{day}/build", headers=admin).status_code == 200
    report = client.get(f"/api/parking/reports/{day}.csv", headers=admin)
    assert report.status_code == 200
    assert report.content.startswith(b"\xef\xbb\xbf")  # UTF-8 to Excel only with the mark
    assert "materials_out[0].building,'=1+1" in report.text
    assert formula_cells(report.text) == []

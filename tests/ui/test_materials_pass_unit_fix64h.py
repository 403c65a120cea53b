"""Review 64F fault 1: a visitor's host unit written loosely (三栋 / 二单元, 3栋 / 2单元301, 3栋 / 2-301,
3-2 typed in one field) was taken at registration as R1's 3栋 2单元, but materials carried out on the
pass were then refused "no resident lives in 三栋 二单元, the pass's unit", the owner's unit typed as
on the pass was refused no_such_unit, and the pass page asked the guard for the owner's unit.
docs/guard-app.md: the host "must be a place where a resident lives, as for materials leaving"."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, Site, bearer, log_in

# Each as a guard types it at the booth, each R1's 3栋 2单元 (room 301).
LOOSE = [("三栋", "二单元"), ("3栋", "2单元301"), ("3栋", "2-301"), ("3-2", "")]


def _visitor(client: TestClient, site: Site, building: str, unit: str) -> int:
    made = client.post(
        "/api/visitors",
        json={"name": "钱七", "host_building": building, "host_unit": unit},
        headers=bearer(site.guard_token),
    )
    assert made.status_code == 201, made.text  # taken: R1 lives there
    return int(made.json()["id"])


@pytest.mark.parametrize("building,unit", LOOSE)
def test_materials_on_the_pass_are_recorded_for_the_unit_it_was_taken_for(
    client: TestClient, site: Site, building: str, unit: str
) -> None:
    pass_id = _visitor(client, site, building, unit)
    out = client.post(
        "/api/materials", json={"pass_id": pass_id, "items": "旧橱柜 1 套"}, headers=bearer(site.guard_token)
    )
    assert out.status_code == 201, out.text
    # As the register writes it: the owner is told, and the report counts 3栋 2单元 once.
    assert (out.json()["host_building"], out.json()["host_unit"]) == ("3栋", "2单元")
    with sqlite3.connect(site.gw.db_path) as conn:
        audit = conn.execute("SELECT target FROM audit WHERE action = 'materials.out'").fetchall()
    assert audit == [("unit:3栋 2单元",)]


def test_the_unit_typed_as_on_the_pass_is_the_pass_unit_and_another_is_still_refused(
    client: TestClient, site: Site
) -> None:
    pass_id = _visitor(client, site, "三栋", "二单元")
    guard, admin = bearer(site.guard_token), bearer(site.admin_token)
    body = {"pass_id": pass_id, "items": "旧橱柜 1 套"}
    same = client.post(
        "/api/materials", json={**body, "host_building": "三栋", "host_unit": "二单元"}, headers=guard
    )
    assert same.status_code == 201, same.text
    assert (same.json()["host_building"], same.json()["host_unit"]) == ("3栋", "2单元")
    resident = {"ref": "R2", "building": "5栋", "unit": "1单元", "name": "李四"}
    assert client.post("/api/residents", json=resident, headers=admin).status_code == 200
    other = client.post(
        "/api/materials", json={**body, "host_building": "5栋", "host_unit": "1单元"}, headers=guard
    )
    assert other.status_code == 422 and other.json()["error"]["code"] == "not_pass_unit", other.text


@pytest.mark.parametrize("building,unit", LOOSE)
def test_materials_with_no_pass_take_the_unit_as_the_visitor_form_does(
    client: TestClient, site: Site, building: str, unit: str
) -> None:
    out = client.post(
        "/api/materials",
        json={"items": "旧沙发", "host_building": building, "host_unit": unit},
        headers=bearer(site.guard_token),
    )
    assert out.status_code == 201, out.text
    assert (out.json()["host_building"], out.json()["host_unit"]) == ("3栋", "2单元")


def test_a_building_alone_with_no_pass_still_asks_which_unit(client: TestClient, site: Site) -> None:
    admin = bearer(site.admin_token)
    resident = {"ref": "R5", "building": "3栋", "unit": "1单元", "name": "周五"}
    assert client.post("/api/residents", json=resident, headers=admin).status_code == 200
    out = client.post(
        "/api/materials", json={"items": "旧沙发", "host_building": "3栋"}, headers=bearer(site.guard_token)
    )
    assert out.status_code == 422 and out.json()["error"]["code"] == "unit_needed", out.text


def test_the_pass_page_does_not_ask_for_the_owners_unit(client: TestClient, site: Site) -> None:
    pass_id = _visitor(client, site, "三栋", "二单元")
    log_in(client, GUARD)
    page = client.get(f"/passes/{pass_id}").text
    assert 'id="materials-form"' in page and 'id="m-unit"' not in page

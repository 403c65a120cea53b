"""Review V (on 9e5d8c96 and the branch for a unit typed with the materials): a host typed whole in
the unit field ("" / 5栋1单元, "" / 5-1, "" / 5号楼1单元, or 5# / 1), in a unit where the register
records no room, sent its materials up with host_room "5栋1单元", "5-1", "5号楼1单元" or "1": a room
nobody lives in, for the centre to tell. The unit field is a room only where it did not name the
unit itself; those go up for the unit with no room."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer

WHOLE = [("", "5栋1单元"), ("", "5-1"), ("5栋", "1单元"), ("", "5号楼1单元"), ("5#", "1")]


@pytest.fixture
def roomless(client: TestClient, site: Site) -> None:
    """周八 of 5栋 1单元, on the register with no room."""
    resident = {"ref": "R5", "building": "5栋", "unit": "1单元", "name": "周八"}
    assert client.post("/api/residents", json=resident, headers=bearer(site.admin_token)).status_code == 200


def _sent(site: Site) -> dict[str, Any]:
    site.gw.on_worker(lambda c: None).result(10)
    with sqlite3.connect(site.gw.db_path) as conn:
        rows = conn.execute("SELECT payload FROM outbox WHERE topic = 'materials' ORDER BY rowid").fetchall()
    (record,) = [json.loads(p)["record"] for (p,) in rows]
    return record


@pytest.mark.usefixtures("roomless")
@pytest.mark.parametrize("building,unit", WHOLE)
def test_a_pass_for_the_unit_typed_whole_sends_no_room(
    client: TestClient, site: Site, building: str, unit: str
) -> None:
    made = client.post(
        "/api/visitors",
        json={"name": "钱七", "host_building": building, "host_unit": unit},
        headers=bearer(site.guard_token),
    )
    assert made.status_code == 201, made.text
    out = client.post(
        "/api/materials",
        json={"items": "沙发 1 张", "pass_id": made.json()["id"]},
        headers=bearer(site.guard_token),
    )
    assert out.status_code == 201, out.text
    record = _sent(site)
    assert (record["host_building"], record["host_unit"], record["host_room"]) == ("5栋", "1单元", "")


@pytest.mark.usefixtures("roomless")
@pytest.mark.parametrize("building,unit", WHOLE)
def test_the_unit_typed_whole_with_the_materials_sends_no_room(
    client: TestClient, site: Site, building: str, unit: str
) -> None:
    out = client.post(
        "/api/materials",
        json={"items": "沙发 1 张", "host_building": building, "host_unit": unit},
        headers=bearer(site.guard_token),
    )
    assert out.status_code == 201, out.text
    record = _sent(site)
    assert (record["host_building"], record["host_unit"], record["host_room"]) == ("5栋", "1单元", "")

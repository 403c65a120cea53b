"""Review K (on 2e295624, Review 66 E1): materials carried out on a pass whose host was typed with
the room in the unit's place (3栋 / 1201, a host form docs/guard-app.md lists) went up as 3栋 2单元
with host_room "": the stairwell's two households, not the owner of 1201. The pass's room is now
kept however its host was typed (3栋 / 1201, 3 / 1201, A座 / B101); and a room typed 1201号, as a
flat's number is often written, is room 1201, not refused no_such_room."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer


@pytest.fixture
def owners(client: TestClient, site: Site) -> None:
    """李四 in 1201, the stairwell of R1's 301; 王五 in B101 and 赵六 in 902 of A座 1单元."""
    for resident in (
        {"ref": "R2", "building": "3栋", "unit": "2单元", "room": "1201", "name": "李四"},
        {"ref": "R3", "building": "A座", "unit": "1单元", "room": "B101", "name": "王五"},
        {"ref": "R4", "building": "A座", "unit": "1单元", "room": "902", "name": "赵六"},
    ):
        assert (
            client.post("/api/residents", json=resident, headers=bearer(site.admin_token)).status_code == 200
        )


def _sent(site: Site) -> list[dict[str, Any]]:
    site.gw.on_worker(lambda c: None).result(10)
    with sqlite3.connect(site.gw.db_path) as conn:
        rows = conn.execute("SELECT payload FROM outbox WHERE topic = 'materials' ORDER BY rowid").fetchall()
    return [json.loads(p)["record"] for (p,) in rows]


def _out(client: TestClient, site: Site, **body: Any) -> Any:
    return client.post(
        "/api/materials", json={"items": "沙发 1 张", **body}, headers=bearer(site.guard_token)
    )


@pytest.mark.usefixtures("owners")
@pytest.mark.parametrize(
    "building,unit,flat",
    [
        ("3栋", "1201", ("3栋", "2单元", "1201")),
        ("3", "1201", ("3栋", "2单元", "1201")),
        ("3栋", "1201室", ("3栋", "2单元", "1201")),
        ("A座", "B101", ("A座", "1单元", "B101")),
    ],
)
def test_the_room_typed_as_the_pass_unit_goes_up(
    client: TestClient, site: Site, building: str, unit: str, flat: tuple[str, str, str]
) -> None:
    made = client.post(
        "/api/visitors",
        json={"name": "钱七", "host_building": building, "host_unit": unit},
        headers=bearer(site.guard_token),
    )
    assert made.status_code == 201, made.text
    out = _out(client, site, pass_id=made.json()["id"])
    assert out.status_code == 201, out.text
    assert out.json()["host_room"] == flat[2], out.json()
    (record,) = _sent(site)
    assert (record["host_building"], record["host_unit"], record["host_room"]) == flat


@pytest.mark.usefixtures("owners")
@pytest.mark.parametrize("room", ["1201号", "1201 号"])
def test_a_room_written_with_hao_is_the_room(client: TestClient, site: Site, room: str) -> None:
    out = _out(client, site, host_building="3栋", host_unit="2单元", host_room=room)
    assert out.status_code == 201, out.text
    (record,) = _sent(site)
    assert record["host_room"] == "1201"

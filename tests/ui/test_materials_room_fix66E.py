"""Review 66 E1: materials leaving the estate are reported to the owner (REQUIREMENTS 10), but the
record never said which flat. A guard typed 2单元1201 for 3栋: the gateway read the room to find
the unit, then dropped it, and the centre got {"host_building": "3栋", "host_unit": "2单元"} for a
stairwell of two households (301 and 1201): it could not tell which owner to inform. The flat
(`host_room`) is kept now, typed or the pass's, sent in the `materials` record and listed."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, Site, bearer, log_in


@pytest.fixture
def second_owner(client: TestClient, site: Site) -> None:
    """李四 in 1201, the same stairwell as R1's 张三丰 in 301."""
    resident = {"ref": "R2", "building": "3栋", "unit": "2单元", "room": "1201", "name": "李四"}
    assert client.post("/api/residents", json=resident, headers=bearer(site.admin_token)).status_code == 200


def _sent(site: Site) -> list[dict[str, Any]]:
    site.gw.on_worker(lambda c: None).result(10)
    with sqlite3.connect(site.gw.db_path) as conn:
        rows = conn.execute("SELECT payload FROM outbox WHERE topic = 'materials' ORDER BY rowid").fetchall()
    return [json.loads(p)["record"] for (p,) in rows]


def _out(client: TestClient, site: Site, **body: Any) -> Any:
    return client.post(
        "/api/materials", json={"items": "沙发 1 张", **body}, headers=bearer(site.guard_token)
    )


@pytest.mark.usefixtures("second_owner")
@pytest.mark.parametrize(
    "building,unit,room",
    [
        ("3栋", "2单元1201", ""),
        ("3栋", "2单元", "1201"),
        ("3栋2单元1201", "", ""),
        ("3栋", "2-1201", ""),
        ("3栋", "1201", ""),
    ],
)
def test_the_flat_typed_reaches_the_centre(
    client: TestClient, site: Site, building: str, unit: str, room: str
) -> None:
    out = _out(client, site, host_building=building, host_unit=unit, host_room=room)
    assert out.status_code == 201, out.text
    assert out.json()["host_room"] == "1201"
    (record,) = _sent(site)
    assert (record["host_building"], record["host_unit"], record["host_room"]) == ("3栋", "2单元", "1201")


@pytest.mark.usefixtures("second_owner")
def test_a_unit_alone_still_goes_up_with_no_room(client: TestClient, site: Site) -> None:
    out = _out(client, site, host_building="3栋", host_unit="2单元")
    assert out.status_code == 201, out.text
    (record,) = _sent(site)
    assert record["host_room"] == ""


@pytest.mark.usefixtures("second_owner")
def test_a_room_nobody_has_in_the_unit_is_refused(client: TestClient, site: Site) -> None:
    out = _out(client, site, host_building="3栋", host_unit="2单元", host_room="1501")
    assert out.status_code == 422 and out.json()["error"]["code"] == "no_such_room", out.text
    assert _sent(site) == []


@pytest.mark.usefixtures("second_owner")
def test_the_pass_room_goes_up_with_materials_on_the_pass(client: TestClient, site: Site) -> None:
    made = client.post(
        "/api/visitors",
        json={"name": "钱七", "host_building": "3栋", "host_unit": "2单元1201"},
        headers=bearer(site.guard_token),
    )
    assert made.status_code == 201, made.text
    out = _out(client, site, pass_id=made.json()["id"])
    assert out.status_code == 201, out.text
    (record,) = _sent(site)
    assert (record["host_unit"], record["host_room"]) == ("2单元", "1201")


@pytest.mark.usefixtures("second_owner")
def test_a_pass_with_no_unit_takes_the_owner_flat_named_and_lists_it(client: TestClient, site: Site) -> None:
    made = client.post("/api/visitors", json={"name": "钱七"}, headers=bearer(site.guard_token))
    assert made.status_code == 201, made.text
    pass_id = made.json()["id"]
    log_in(client, GUARD)
    page = client.get(f"/passes/{pass_id}")
    assert 'name="host_room"' in page.text  # the form asks for the flat as well as the unit
    out = _out(client, site, pass_id=pass_id, host_building="3栋", host_unit="2单元", host_room="1201室")
    assert out.status_code == 201, out.text
    (record,) = _sent(site)
    assert record["host_room"] == "1201"
    listed = client.get(f"/passes/{pass_id}").text
    listed = listed[listed.index('id="materials-list"') :]
    assert "3栋 2单元 1201" in listed[: listed.index("</ol>")]

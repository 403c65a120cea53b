"""Review 64Ro: a flat renovated before its household moves in (docs/guard-app.md: a contractor's
pass is not checked, "a crew renovates a flat before its owner moves in"). The owner is on the
register, his lease from next week. Since b60afc06 the old cabinets the crew carries out were refused
on its pass (no_one_in_pass_unit), with the owner's unit typed, and without the pass (no_such_unit):
they could not be recorded at all. A household not yet moved in is told of materials; one whose
lease has ended is not."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer

CREW = {
    "name": "赵装修",
    "company": "好家装饰",
    "phone": "13711112222",
    "host_building": "3栋",
    "host_unit": "2单元",
    "plate": "皖A8F123",
    "hours": ["08:00-18:00"],
}


def _owner(client: TestClient, site: Site, **lease: str) -> None:
    r1 = {"ref": "R1", "building": "3栋", "unit": "2单元", "room": "301", "name": "张三丰", **lease}
    assert client.post("/api/residents", json=r1, headers=bearer(site.admin_token)).status_code == 200


def _crew(client: TestClient, site: Site) -> int:
    today = site.gw.now().date()
    crew = client.post(
        "/api/contractors",
        json={**CREW, "valid_from": today.isoformat(), "valid_to": (today + timedelta(days=6)).isoformat()},
        headers=bearer(site.admin_token),
    )
    assert crew.status_code == 201, crew.text
    return int(crew.json()["id"])


def test_debris_before_the_owner_moves_in_is_recorded_for_his_unit(client: TestClient, site: Site) -> None:
    _owner(client, site, valid_from=(site.gw.now().date() + timedelta(days=7)).isoformat())  # keys next week
    pass_id = _crew(client, site)
    guard = bearer(site.guard_token)
    page = client.get(f"/passes/{pass_id}", headers=guard)
    assert page.status_code == 200
    on_pass = client.post("/api/materials", json={"pass_id": pass_id, "items": "旧橱柜 1 套"}, headers=guard)
    typed = client.post(
        "/api/materials",
        json={"pass_id": pass_id, "items": "旧橱柜 1 套", "host_building": "三栋", "host_unit": "二单元"},
        headers=guard,
    )
    bare = client.post(
        "/api/materials",
        json={"items": "旧橱柜 1 套", "host_building": "3栋", "host_unit": "2单元"},
        headers=guard,
    )
    for r in (on_pass, typed, bare):
        assert r.status_code in (200, 201), r.text
        assert (r.json()["host_building"], r.json()["host_unit"]) == ("3栋", "2单元")


def test_debris_for_an_owner_who_moved_out_is_still_refused(client: TestClient, site: Site) -> None:
    _owner(
        client, site, valid_from="2020-01-01", valid_to=(site.gw.now().date() - timedelta(days=1)).isoformat()
    )
    bare = client.post(
        "/api/materials",
        json={"items": "旧橱柜 1 套", "host_building": "3栋", "host_unit": "2单元"},
        headers=bearer(site.guard_token),
    )
    assert bare.status_code == 422 and bare.json()["error"]["code"] == "no_such_unit", bare.text

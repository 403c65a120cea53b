"""Materials leaving the estate (物品放行): recorded by the guard, audited, reported upstream."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, Site, bearer, log_in

CONTRACTOR = {
    "name": "赵装修",
    "company": "好家装饰",
    "phone": "13711112222",
    "host_building": "3栋",
    "host_unit": "2单元",
    "plate": "皖A8F123",
    "hours": ["08:00-18:00"],
}


def contractor_pass(client: TestClient, site: Site) -> int:
    valid_to = (site.gw.now() + timedelta(days=30)).date().isoformat() + "T23:59:59"
    r = client.post(
        "/api/contractors", json={**CONTRACTOR, "valid_to": valid_to}, headers=bearer(site.admin_token)
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_materials_carried_out_on_a_pass_are_reported_for_its_unit(client: TestClient, site: Site) -> None:
    pass_id = contractor_pass(client, site)
    body = {"pass_id": pass_id, "items": "旧橱柜 1 套，电钻 2 把", "plate": "皖A·8F123"}
    r = client.post("/api/materials", json=body, headers=bearer(site.guard_token))
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["host_building"], got["host_unit"], got["plate"]) == ("3栋", "2单元", "皖A8F123")
    assert got["name"] == "赵**" and got["company"] == "好家装饰" and got["actor"] == "token:guard-bot"
    listed = client.get(f"/api/materials?pass_id={pass_id}", headers=bearer(site.guard_token)).json()
    assert [m["items"] for m in listed] == ["旧橱柜 1 套，电钻 2 把"]
    with sqlite3.connect(site.gw.db_path) as conn:
        payload = json.loads(
            conn.execute("SELECT payload FROM outbox WHERE topic = 'materials'").fetchone()[0]
        )
        audit = conn.execute(
            "SELECT actor, target, detail FROM audit WHERE action = 'materials.out'"
        ).fetchall()
    record = payload["record"]
    assert payload["op"] == "out" and (record["host_building"], record["host_unit"]) == ("3栋", "2单元")
    assert record["name"] == "赵**" and "赵装修" not in json.dumps(payload, ensure_ascii=False)
    assert audit == [("token:guard-bot", "unit:3栋 2单元", "旧橱柜 1 套，电钻 2 把")]


def test_materials_without_a_pass_name_a_unit_where_a_resident_lives(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    ok = client.post(
        "/api/materials",
        json={"items": "旧沙发", "host_building": "3栋", "host_unit": "2单元"},
        headers=guard,
    )
    assert ok.status_code == 201 and ok.json()["pass_id"] is None
    typo = client.post(
        "/api/materials",
        json={"items": "旧沙发", "host_building": "3栋", "host_unit": "9单元"},
        headers=guard,
    )
    assert typo.status_code == 422 and "no resident lives in 3栋 9单元" in typo.json()["error"]["message"]
    nobody = client.post("/api/materials", json={"items": "旧沙发"}, headers=guard)
    assert nobody.status_code == 422 and "building and unit" in nobody.json()["error"]["fix"]


def test_bad_materials_records_are_refused_and_nothing_is_kept(client: TestClient, site: Site) -> None:
    pass_id = contractor_pass(client, site)
    guard = bearer(site.guard_token)
    cases = [
        ({"pass_id": pass_id, "items": "   "}, 422),  # nothing said
        ({"pass_id": pass_id, "items": "木板", "host_unit": "1单元", "host_building": "9栋"}, 422),
        ({"pass_id": 999, "items": "木板"}, 404),
        ({"pass_id": pass_id, "items": "木板", "plate": "ABC"}, 422),
    ]
    for body, status in cases:
        r = client.post("/api/materials", json=body, headers=guard)
        assert r.status_code == status, (body, r.text)
        assert r.json()["error"]["fix"]
    assert client.post("/api/materials", json={"pass_id": pass_id, "items": "木板"}).status_code == 401
    with sqlite3.connect(site.gw.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM materials_out").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM outbox WHERE topic = 'materials'").fetchone()[0] == 0


def test_the_pass_page_offers_the_record_and_lists_what_left(client: TestClient, site: Site) -> None:
    pass_id = contractor_pass(client, site)
    csrf = log_in(client, GUARD)
    r = client.post("/api/materials", json={"pass_id": pass_id, "items": "废弃瓷砖 20 箱"}, headers=csrf)
    assert r.status_code == 201, r.text
    page = client.get(f"/passes/{pass_id}").text
    assert 'id="materials-form"' in page and "废弃瓷砖 20 箱" in page and "物品出门登记" in page


def test_a_pass_for_a_unit_nobody_lives_in_takes_the_owners_unit_from_the_guard(
    client: TestClient, site: Site
) -> None:
    """A crew's pass issued for 3栋 9单元 by a slip (the owner lives in 3栋 2单元): materials were
    recorded and sent for a unit where nobody lives, so no owner was told, and the guard who gave
    the owner's unit was refused."""
    valid_to = (site.gw.now() + timedelta(days=30)).date().isoformat() + "T23:59:59"
    slip = {**CONTRACTOR, "host_unit": "9单元", "valid_to": valid_to}
    made = client.post("/api/contractors", json=slip, headers=bearer(site.admin_token))
    assert made.status_code == 201, made.text
    guard = bearer(site.guard_token)
    on_pass = {"pass_id": made.json()["id"], "items": "旧橱柜 1 套"}
    r = client.post("/api/materials", json=on_pass, headers=guard)
    assert r.status_code == 422, r.text
    assert (
        "no resident lives in 3栋 9单元, the pass's unit" in r.text and "owner's building and unit" in r.text
    )
    r = client.post(
        "/api/materials", json={**on_pass, "host_building": "3栋", "host_unit": "2单元"}, headers=guard
    )
    assert r.status_code == 201, r.text
    assert (r.json()["host_building"], r.json()["host_unit"]) == ("3栋", "2单元")
    with sqlite3.connect(site.gw.db_path) as conn:
        audit = conn.execute("SELECT target, detail FROM audit WHERE action = 'materials.out'").fetchall()
    assert audit == [("unit:3栋 2单元", f"旧橱柜 1 套 (pass {made.json()['id']} is for 3栋 9单元)")]

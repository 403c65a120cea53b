"""Visitor registration and contractor passes: stored masked, admitted by the decision core."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config.models import ClosedManagement
from tests.ui.conftest import PLATE, Site, bearer, decided, make_config, start_site

VISITOR_PHONE = "13800138000"
VISITOR_ID = "11010519491231002X"
VISITOR = {
    "name": "李四",
    "phone": VISITOR_PHONE,
    "id_number": VISITOR_ID,
    "host_building": "3栋",
    "host_unit": "2单元",
    "reason": "探亲",
    "passengers": 2,
    "plate": "苏E·88888",
}


def register(client: TestClient, site: Site, **changes: object) -> dict[str, object]:
    r = client.post("/api/visitors", json={**VISITOR, **changes}, headers=bearer(site.guard_token))
    assert r.status_code == 201, r.text
    return r.json()


def test_a_visitor_pass_keeps_phone_and_id_masked(client: TestClient, site: Site) -> None:
    p = register(client, site)
    assert p["phone"] == "138****8000" and p["id_number"].endswith("002X")
    assert p["name"] == "李*" and p["plate"] == "苏E88888" and p["state"] == "active"
    assert p["registered_fields"] == ["id_number", "passengers", "phone", "reason"]
    assert p["qr"] and p["created_by"] == "token:guard-bot"
    site.gw.on_worker(lambda c: c.execute("PRAGMA wal_checkpoint(TRUNCATE)")).result()
    stored = b"".join(f.read_bytes() for f in Path(site.gw.db_path).parent.glob("gateway.db*"))
    assert VISITOR_PHONE.encode() not in stored and VISITOR_ID.encode() not in stored
    with sqlite3.connect(site.gw.db_path) as conn:
        payload = conn.execute("SELECT payload FROM outbox WHERE topic = 'pass'").fetchone()[0]
        audit = conn.execute(
            "SELECT actor, action FROM audit WHERE target = ?", (f"pass:{p['id']}",)
        ).fetchone()
    upstream = json.loads(payload)["pass"]
    assert VISITOR_PHONE not in payload and VISITOR_ID not in payload and "李四" not in payload
    assert upstream["phone"] == "138****8000" and upstream["name"] == "李*"
    assert audit == ("token:guard-bot", "visitor.register")


def test_the_visitors_plate_and_qr_are_admitted_until_check_out(client: TestClient, site: Site) -> None:
    p = register(client, site)
    car = decided(site, "car-in-camera", "plate", "苏E88888")
    assert car["admitted"] == 1 and car["reason"] == "visitor" and car["billing"] == "visitor"
    walk = decided(site, "door-reader", "qr", str(p["qr"]))
    assert walk["admitted"] == 1 and walk["reason"] == "visitor"
    out = client.post(f"/api/passes/{p['id']}/checkout", headers=bearer(site.guard_token))
    assert out.status_code == 200 and out.json()["state"] == "checked_out"
    assert decided(site, "car-in-camera", "plate", "苏E88888")["reason"] == "expired"
    assert decided(site, "door-reader", "qr", str(p["qr"]))["reason"] == "expired"
    again = client.post(f"/api/passes/{p['id']}/checkout", headers=bearer(site.guard_token))
    assert again.status_code == 409


def test_a_returning_visitor_is_found_by_phone_or_id(client: TestClient, site: Site) -> None:
    register(client, site)
    guard = bearer(site.guard_token)
    by_phone = client.post("/api/visitors/find", json={"phone": "138 0013 8000"}, headers=guard).json()
    assert by_phone["found"] and by_phone["plate"] == "苏E88888"
    assert (by_phone["name"], by_phone["name_masked"]) == ("李*", True)  # guards see names masked
    by_admin = client.post(
        "/api/visitors/find", json={"phone": "138 0013 8000"}, headers=bearer(site.admin_token)
    )
    assert (by_admin.json()["name"], by_admin.json()["name_masked"]) == ("李四", False)
    by_id = client.post("/api/visitors/find", json={"id_number": VISITOR_ID.lower()}, headers=guard)
    assert by_id.json()["found"] and by_id.json()["host_building"] == "3栋"
    other = client.post("/api/visitors/find", json={"phone": "13800000000"}, headers=guard)
    assert other.json() == {**other.json(), "found": False}
    # The plate moves to the visitor's new pass; the old one no longer carries it.
    second = register(client, site)
    with sqlite3.connect(site.gw.db_path) as conn:
        holder = conn.execute(
            "SELECT pass_id FROM credentials WHERE kind = 'plate' AND value = ?", ("苏E88888",)
        ).fetchone()[0]
    assert holder == second["id"]


def test_registration_checks_what_the_guard_typed(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)

    def error(**changes: object) -> dict[str, str]:
        r = client.post("/api/visitors", json={**VISITOR, **changes}, headers=guard)
        assert r.status_code in (409, 422), r.text
        return r.json()["error"]

    assert "id_number" in error(id_number="110105194912310021")["message"]
    assert "plate" in error(plate="ABC")["message"]
    assert "phone" in error(phone="12")["message"]
    assert "valid_to" in error(valid_from="2030-01-02T10:00", valid_to="2030-01-01T10:00")["message"]
    assert "at most" in error(valid_to=(site.gw.now() + timedelta(days=30)).isoformat())["message"]
    resident_car = error(plate=PLATE)
    assert resident_car["code"] == "conflict" and resident_car["fix"]


def test_closed_management_asks_for_its_fields(tmp_path: Path) -> None:
    cfg = make_config(tmp_path / "data")
    day = datetime.now(ZoneInfo(cfg.site.timezone)).date()
    period = ClosedManagement(first_day=day - timedelta(days=1), last_day=day + timedelta(days=1))
    policy = cfg.policy.model_copy(update={"closed_management": [period]})
    site = start_site(cfg.model_copy(update={"policy": policy}))
    try:
        with TestClient(create_app(site.gw)) as client:
            guard = bearer(site.guard_token)
            rules = client.get("/api/visitors/rules", headers=guard).json()
            assert rules["closed_now"] and rules["required"] == [
                "destination",
                "id_number",
                "phone",
                "reason",
            ]
            short = client.post("/api/visitors", json={"name": "王五", "plate": "浙A11111"}, headers=guard)
            assert short.status_code == 422 and "destination" in short.json()["error"]["message"]
            full = client.post("/api/visitors", json={**VISITOR, "destination": "3栋301"}, headers=guard)
            assert full.status_code == 201
            assert decided(site, "car-in-camera", "plate", "苏E88888")["reason"] == "visitor"
            # An unregistered car is kept out during the period.
            assert decided(site, "car-in-camera", "plate", "浙A99999")["reason"] == "closed_management"
    finally:
        site.gw.stop()


def test_contractor_passes_are_issued_by_admins(client: TestClient, site: Site) -> None:
    body = {
        "name": "赵装修",
        "company": "好家装饰",
        "phone": "13711112222",
        "host_building": "5栋",
        "host_unit": "1单元",
        "plate": "皖A8F123",
        "hours": ["00:00-23:59"],
        "valid_to": (site.gw.now() + timedelta(days=60)).date().isoformat() + "T23:59:59",
    }
    assert client.post("/api/contractors", json=body, headers=bearer(site.guard_token)).status_code == 403
    r = client.post("/api/contractors", json=body, headers=bearer(site.admin_token))
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["kind"] == "contractor" and p["hours"] == ["00:00-23:59"] and p["company"] == "好家装饰"
    assert decided(site, "car-in-camera", "plate", "皖A8F123")["reason"] == "contractor"
    listed = client.get("/api/contractors", headers=bearer(site.guard_token)).json()
    assert [c["id"] for c in listed] == [p["id"]]
    assert client.post(f"/api/passes/{p['id']}/checkout", headers=bearer(site.guard_token)).status_code == 403
    bad_hours = client.post(
        "/api/contractors", json={**body, "hours": ["8-18"]}, headers=bearer(site.admin_token)
    )
    assert bad_hours.status_code == 422


def test_a_pass_is_checked_by_its_qr_and_printed(client: TestClient, site: Site) -> None:
    p = register(client, site)
    guard = bearer(site.guard_token)
    checked = client.post("/api/passes/check", json={"token": p["qr"]}, headers=guard)
    assert checked.status_code == 200 and checked.json()["id"] == p["id"]
    assert checked.json()["qr"] is None  # a check does not hand the token out again
    assert client.post("/api/passes/check", json={"token": "nope"}, headers=guard).status_code == 404
    svg = client.get(f"/api/passes/{p['id']}/qr.svg", headers=guard)
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    listed = client.get("/api/visitors", headers=guard).json()
    assert [v["id"] for v in listed] == [p["id"]] and listed[0]["qr"] is None


def test_a_pass_whose_qr_is_blocked_shows_blocked(client: TestClient, site: Site) -> None:
    p = register(client, site)
    guard, admin = bearer(site.guard_token), bearer(site.admin_token)
    qr = {"kind": "qr", "value": p["qr"], "reason": "二维码丢失"}
    assert client.post("/api/credentials/block", json=qr, headers=guard).status_code == 200

    def states() -> list[str]:
        checked = client.post("/api/passes/check", json={"token": p["qr"]}, headers=guard).json()
        shown = client.get(f"/api/passes/{p['id']}", headers=guard).json()
        listed = next(v for v in client.get("/api/visitors", headers=guard).json() if v["id"] == p["id"])
        return [checked["state"], shown["state"], listed["state"]]

    assert states() == ["blocked"] * 3
    assert decided(site, "door-reader", "qr", str(p["qr"]))["reason"] == "blocked"
    assert client.post("/api/credentials/unblock", json=qr, headers=admin).status_code == 200
    assert states() == ["active"] * 3

"""Visitor registration and contractor passes: stored masked, admitted by the decision core."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.config.models import ClosedManagement
from tests.conftest import site_toml
from tests.ui.conftest import GUARD, PLATE, Site, bearer, decided, log_in, make_config, start_site

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
    assert p["registered_fields"] == [
        "host_building",
        "host_unit",
        "id_number",
        "passengers",
        "phone",
        "reason",
    ]
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


@pytest.fixture
def closed_site(tmp_path: Path) -> Iterator[Site]:
    """The UI test site inside a closed-management period (all day, today +- 1 day), default fields."""
    cfg = make_config(tmp_path / "data")
    day = datetime.now(ZoneInfo(cfg.site.timezone)).date()
    period = ClosedManagement(first_day=day - timedelta(days=1), last_day=day + timedelta(days=1))
    policy = cfg.policy.model_copy(update={"closed_management": [period]})
    site = start_site(cfg.model_copy(update={"policy": policy}))
    yield site
    site.gw.stop()


def test_closed_management_asks_for_its_fields(closed_site: Site) -> None:
    site = closed_site
    with TestClient(create_app(site.gw)) as client:
        guard = bearer(site.guard_token)
        rules = client.get("/api/visitors/rules", headers=guard).json()
        assert rules["closed_now"] and rules["required"] == [
            "destination",
            "host_building",
            "host_unit",
            "id_number",
            "occupants",
            "phone",
            "reason",
        ]
        short = client.post("/api/visitors", json={"name": "王五", "plate": "浙A11111"}, headers=guard)
        assert short.status_code == 422 and "destination" in short.json()["error"]["message"]
        # Each in the car with their own ID number and phone (Review 65 D1): the passenger is the visitor.
        passenger = {**PASSENGER, "phone": VISITOR_PHONE, "id_number": VISITOR_ID}
        full = {**VISITOR, "destination": "3栋301", "passengers": None, "occupants": [DRIVER, passenger]}
        assert client.post("/api/visitors", json=full, headers=guard).status_code == 201
        assert decided(site, "car-in-camera", "plate", "苏E88888")["reason"] == "visitor"
        # An unregistered car is kept out during the period.
        assert decided(site, "car-in-camera", "plate", "浙A99999")["reason"] == "closed_management"


# ---- REQUIREMENTS 9: building and unit, the driver and everyone in the vehicle ------------------

# A visitor registered with everything closed management used to ask for (id_number, phone,
# destination, reason) -- but no host building and unit.
VISITOR_NO_UNIT = {
    "name": "李四",
    "phone": "13800138000",
    "id_number": "11010519491231002X",
    "destination": "快递驿站",
    "reason": "探亲",
    "passengers": 2,
    "plate": "苏E88888",
}
DRIVER_PHONE = "13700137000"
DRIVER_ID = "110101199003077774"
DRIVER = {"name": "王驾驶", "phone": DRIVER_PHONE, "id_number": DRIVER_ID}
PASSENGER = {"name": "李四"}


def test_req9_closed_management_visitor_must_give_building_and_unit(closed_site: Site) -> None:
    with TestClient(create_app(closed_site.gw)) as c:
        guard = bearer(closed_site.guard_token)
        rules = c.get("/api/visitors/rules", headers=guard).json()
        assert rules["closed_now"]
        assert {"host_building", "host_unit"} <= set(rules["required"]), rules["required"]
        r = c.post("/api/visitors", json={**VISITOR_NO_UNIT, "occupants": [DRIVER, PASSENGER]}, headers=guard)
        assert r.status_code == 422, f"registered without building/unit: {r.status_code} {r.text[:200]}"
        message = r.json()["error"]["message"]
        assert "host_building" in message and "host_unit" in message


def test_req9_config_can_require_building_and_unit(tmp_path: Path) -> None:
    toml = (
        site_toml(tmp_path / "data")
        + """
[[policy.closed_management]]
first_day = 2025-01-01
last_day = 2025-12-31
hours = ["07:00-21:00"]
visitor_fields = ["id_number", "phone", "destination", "reason", "host_building", "host_unit"]
"""
    )
    cfg = parse_config(toml, "site.toml")
    assert cfg.policy.closed_management[0].visitor_fields[-2:] == ["host_building", "host_unit"]


def test_req9_a_vehicle_visitor_lists_at_least_the_driver_while_closed(closed_site: Site) -> None:
    with TestClient(create_app(closed_site.gw)) as c:
        guard = bearer(closed_site.guard_token)
        body = {**VISITOR, "destination": "3栋301", "plate": "苏E66666", "passengers": None}
        alone = c.post("/api/visitors", json=body, headers=guard)
        assert alone.status_code == 422 and "occupants" in alone.json()["error"]["message"]
        # A visitor on foot has nobody in a vehicle to list.
        walking = c.post("/api/visitors", json={**body, "plate": ""}, headers=guard)
        assert walking.status_code == 201 and "occupants" in walking.json()["registered_fields"]
        driven = c.post("/api/visitors", json={**body, "occupants": [DRIVER]}, headers=guard)
        assert driven.status_code == 201, driven.text
        assert driven.json()["passengers"] == 1
        assert decided(closed_site, "car-in-camera", "plate", "苏E66666")["reason"] == "visitor"
        # A pass registered without them (pushed by the centre, or before the period) is kept out.
        closed_site.gw.on_worker(
            lambda conn: conn.execute(
                "UPDATE passes SET registered_fields = 'destination,host_building,host_unit,"
                "id_number,phone,reason' WHERE id = ?",
                (driven.json()["id"],),
            )
        ).result()
        assert decided(closed_site, "car-in-camera", "plate", "苏E66666")["reason"] == "closed_management"


def test_occupants_are_stored_masked_and_go_upstream_masked(client: TestClient, site: Site) -> None:
    p = register(client, site, passengers=None, occupants=[DRIVER, PASSENGER])
    assert p["passengers"] == 2
    assert p["occupants"] == [
        {"name": "王**", "phone": "137****7000", "id_number": "**************7774", "id_kind": "resident_id"},
        {"name": "李*", "phone": "", "id_number": "", "id_kind": ""},
    ]
    assert "occupants" in p["registered_fields"]
    shown = client.get(f"/api/passes/{p['id']}", headers=bearer(site.guard_token)).json()
    assert shown["occupants"] == p["occupants"]
    site.gw.on_worker(lambda c: c.execute("PRAGMA wal_checkpoint(TRUNCATE)")).result()
    stored = b"".join(f.read_bytes() for f in Path(site.gw.db_path).parent.glob("gateway.db*"))
    assert DRIVER_PHONE.encode() not in stored and DRIVER_ID.encode() not in stored
    with sqlite3.connect(site.gw.db_path) as conn:
        kept = conn.execute(
            "SELECT position, name, phone_masked, phone_hash != '', id_hash != '' FROM pass_people"
        ).fetchall()
        payload = conn.execute("SELECT payload FROM outbox WHERE topic = 'pass'").fetchone()[0]
    assert kept == [(0, "王驾驶", "137****7000", 1, 1), (1, "李四", "", 0, 0)]
    assert DRIVER_PHONE not in payload and DRIVER_ID not in payload and "王驾驶" not in payload
    assert json.loads(payload)["pass"]["occupants"] == p["occupants"]


def test_occupants_are_checked_like_the_visitors_own_numbers(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)

    def error(**changes: object) -> str:
        r = client.post("/api/visitors", json={**VISITOR, **changes}, headers=guard)
        assert r.status_code == 422, r.text
        return str(r.json()["error"]["message"])

    assert "occupants[0] (driver) id_number" in error(
        occupants=[{**DRIVER, "id_number": "110101199003077775"}]
    )
    assert "occupants[1] (occupant 2) phone" in error(occupants=[DRIVER, {"name": "甲", "phone": "12"}])
    assert "give the plate" in error(plate="", occupants=[DRIVER])
    assert "passengers: 2 people, but occupants lists 1" in error(occupants=[DRIVER])
    assert "plate too" in error(plate="", vehicle_class="motorcycle")


def test_a_visitors_occupants_go_with_the_pass_at_retention(client: TestClient, site: Site) -> None:
    from gateway.store.retention import prune_visitors

    p = register(client, site, passengers=None, occupants=[DRIVER, PASSENGER])
    gw = site.gw
    later = datetime.fromisoformat(str(p["valid_to"])).astimezone(gw.site.tz) + timedelta(seconds=1)
    assert gw.on_worker(lambda c: prune_visitors(c, later)).result() == 1
    with sqlite3.connect(gw.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM pass_people").fetchone()[0] == 0


def test_the_pass_page_shows_the_occupants_masked(client: TestClient, site: Site) -> None:
    p = register(client, site, passengers=None, occupants=[DRIVER, PASSENGER], vehicle_class="motorcycle")
    log_in(client, GUARD)
    page = client.get(f"/passes/{p['id']}").text
    assert "王**" in page and "137****7000" in page and "李*" in page
    assert "王驾驶" not in page and DRIVER_PHONE not in page and DRIVER_ID not in page
    assert "摩托车" in page


# ---- REQUIREMENTS 5: a visitor's motorcycle is counted as one ----------------------------------


def test_req5_a_visitors_motorcycle_is_counted_as_a_motorcycle(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    body = {
        "name": "王五",
        "host_building": "3栋",
        "host_unit": "2单元",
        "plate": "苏E12345",
        "vehicle_class": "motorcycle",
    }
    r = client.post("/api/visitors", json=body, headers=guard)
    assert r.status_code == 201, r.text
    assert r.json()["vehicle_class"] == "motorcycle"
    ev = decided(site, "car-in-camera", "plate", "苏E12345")
    assert ev["admitted"] == 1
    rows = client.get("/api/occupancy", headers=guard).json()["zones"]
    inside = {row["class"]: row["inside"] for row in rows}
    assert inside.get("motorcycle") == 1 and inside.get("car", 0) == 0, inside


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

"""Lookup for guards, blocking at once, and residents, vehicles, cards and slots kept by admins."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.ui.conftest import CARD, GUARD, PHONE, PLATE, Site, bearer, decided, log_in


def test_guards_find_residents_by_plate_card_phone_or_name(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    for q in (PLATE, "皖a·12345", CARD.lower(), PHONE, "张三", "R1", "3栋2单元"):
        found = client.get("/api/lookup", params={"q": q}, headers=guard).json()
        assert [r["id"] for r in found] == [site.resident_id], q
    resident = client.get("/api/lookup", params={"q": PLATE}, headers=guard).json()[0]
    assert resident["name"] == "张**" and resident["phone_masked"] == "139****5678"
    card = next(c for c in resident["credentials"] if c["kind"] == "card")
    assert card["value"] == "******3D4E"
    assert resident["slots"][0]["number"] == "B001" and resident["vehicles"][0]["plate"] == PLATE
    full = client.get("/api/lookup", params={"q": PLATE}, headers=bearer(site.admin_token)).json()[0]
    assert full["name"] == "张三丰" and CARD in [c["value"] for c in full["credentials"]]
    assert client.get("/api/lookup", params={"q": "无此人"}, headers=guard).json() == []


def test_a_guard_blocks_a_card_at_once_and_only_an_admin_unblocks(client: TestClient, site: Site) -> None:
    guard, admin = bearer(site.guard_token), bearer(site.admin_token)
    assert decided(site, "door-reader", "card", CARD)["reason"] == "resident"
    r = client.post(
        "/api/credentials/block",
        json={"kind": "card", "value": CARD.lower(), "reason": "业主报失"},
        headers=guard,
    )
    assert r.status_code == 200 and r.json()["blocked"] is True
    assert decided(site, "door-reader", "card", CARD)["reason"] == "blocked"
    body = {"kind": "card", "value": CARD, "reason": "找到了"}
    assert client.post("/api/credentials/unblock", json=body, headers=guard).status_code == 403
    assert client.post("/api/credentials/unblock", json=body, headers=admin).status_code == 200
    assert decided(site, "door-reader", "card", CARD)["reason"] == "resident"
    with sqlite3.connect(site.gw.db_path) as conn:
        rows = conn.execute(
            "SELECT actor, action, target, detail FROM audit WHERE action LIKE 'credential.%' ORDER BY id"
        ).fetchall()
    assert rows == [
        ("token:guard-bot", "credential.block", "card:******3D4E", "业主报失"),
        ("token:admin-bot", "credential.unblock", "card:******3D4E", "找到了"),
    ]


def test_a_plate_is_blocked_by_its_id_from_lookup(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    resident = client.get("/api/lookup", params={"q": PLATE}, headers=guard).json()[0]
    plate = next(c for c in resident["credentials"] if c["kind"] == "plate")
    r = client.post(f"/api/credentials/{plate['id']}/block", json={"reason": "欠费"}, headers=guard)
    assert r.status_code == 200
    assert decided(site, "car-in-camera", "plate", PLATE)["reason"] == "blocked"
    missing = client.post(
        "/api/credentials/block",
        json={"kind": "card", "value": "ABCDEF99", "reason": "x"},
        headers=guard,
    )
    assert missing.status_code == 404 and missing.json()["error"]["fix"]


def test_admins_keep_the_register(client: TestClient, site: Site) -> None:
    admin = bearer(site.admin_token)
    rid = client.post(
        "/api/residents",
        json={
            "ref": "R2",
            "building": "5栋",
            "unit": "1单元",
            "name": "王芳",
            "phone": "13700001111",
        },
        headers=admin,
    ).json()["id"]
    vid = client.post("/api/vehicles", json={"plate": "皖AD12345", "resident_id": rid}, headers=admin).json()[
        "id"
    ]
    cid = client.post(
        "/api/cards",
        json={"card": "77665544", "resident_id": rid, "hours": ["06:00-23:00"]},
        headers=admin,
    ).json()["id"]
    sid = client.post(
        "/api/slots",
        json={"zone": "main", "number": "B002", "resident_id": rid, "plates": ["皖AD12345"]},
        headers=admin,
    ).json()["id"]
    detail = client.get(f"/api/residents/{rid}", headers=admin).json()
    assert detail["phone_masked"] == "137****1111"
    assert {c["kind"] for c in detail["credentials"]} == {"card", "plate"}
    assert detail["slots"][0]["plates"] == "皖AD12345"
    assert decided(site, "car-in-camera", "plate", "皖AD12345")["billing"] == "slot"
    # Changing the resident keeps the phone unless a new one is given.
    client.post(
        "/api/residents",
        json={"ref": "R2", "building": "5栋", "unit": "2单元", "name": "王芳"},
        headers=admin,
    )
    assert client.get(f"/api/residents/{rid}", headers=admin).json()["unit"] == "2单元"
    assert (
        client.post(
            "/api/vehicles", json={"plate": "皖AD12345", "resident_id": rid}, headers=admin
        ).status_code
        == 409
    )
    assert (
        client.post("/api/slots", json={"zone": "nowhere", "number": "1"}, headers=admin).status_code == 422
    )
    for path in (
        f"/api/slots/{sid}",
        f"/api/credentials/{cid}",
        f"/api/vehicles/{vid}",
        f"/api/residents/{rid}",
    ):
        assert client.delete(path, headers=admin).status_code == 204, path
    assert client.get(f"/api/residents/{rid}", headers=admin).status_code == 404
    assert decided(site, "car-in-camera", "plate", "皖AD12345")["holder_kind"] is None
    with sqlite3.connect(site.gw.db_path) as conn:
        actions = [
            r[0] for r in conn.execute("SELECT action FROM audit WHERE actor = 'token:admin-bot' ORDER BY id")
        ]
        upstream = conn.execute("SELECT count(*) FROM outbox WHERE topic = 'registry'").fetchone()[0]
    assert actions == [
        "resident.upsert",
        "vehicle.add",
        "card.add",
        "slot.add",
        "resident.upsert",
        "slot.delete",
        "card.delete",
        "vehicle.delete",
        "resident.delete",
    ]
    assert upstream >= len(actions)


def test_a_plate_listed_twice_uses_the_slot_once(client: TestClient, site: Site) -> None:
    r = client.post(
        "/api/slots",
        json={"zone": "main", "number": "B009", "resident_id": site.resident_id, "plates": [PLATE, PLATE]},
        headers=bearer(site.admin_token),
    )
    assert r.status_code == 200, r.text
    with sqlite3.connect(site.gw.db_path) as conn:
        used = conn.execute("SELECT count(*) FROM slot_vehicles WHERE slot_id = ?", (r.json()["id"],))
        assert used.fetchone() == (1,)


def test_a_clash_the_store_did_not_check_is_a_conflict_not_a_full_disk(
    client: TestClient, site: Site
) -> None:
    with sqlite3.connect(site.gw.db_path) as conn:
        conn.execute(
            "CREATE TRIGGER clash BEFORE INSERT ON slots "
            "BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed: slots.number'); END"
        )
    r = client.post("/api/slots", json={"zone": "main", "number": "B010"}, headers=bearer(site.admin_token))
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert "UNIQUE constraint failed" in r.json()["error"]["message"]
    assert "duplicate" in r.json()["error"]["fix"] and "disk" not in r.json()["error"]["fix"]


def _second_car_and_card_to(client: TestClient, site: Site, end: str) -> dict[str, str]:
    """An admin gives the resident a second car, monthly up to `end`, and a card valid to `end`
    (local time, as the form and README's `YYYY-MM-DD HH:MM` take it); returns the admin's header."""
    admin = bearer(site.admin_token)
    car = {"plate": "皖A54321", "resident_id": site.resident_id, "monthly_until": end}
    card = {"card": "0A1B2C3D99", "resident_id": site.resident_id, "valid_to": end}
    for path, body in (("/api/vehicles", car), ("/api/cards", card)):
        r = client.post(path, json=body, headers=admin)
        assert r.status_code == 200, r.text
    return admin


def test_the_lookup_page_shows_the_local_day_a_card_and_a_monthly_period_end(
    client: TestClient, site: Site
) -> None:
    """An admin gives a resident's second car a monthly period up to 10 March 07:00 and a card valid
    to the same moment (local time, as the form and README's `YYYY-MM-DD HH:MM` take it). The guard
    looks the resident up: the page says 10 March, the day the period ends in the estate's zone,
    not 9 March (the UTC date of the stored time)."""
    _second_car_and_card_to(client, site, "2025-03-10T07:00:00")
    log_in(client, GUARD)
    page = client.get("/lookup", params={"q": "皖A54321"}).text
    assert "→ 2025-03-09" not in page and page.count("→ 2025-03-10") == 2, [
        line.strip() for line in page.splitlines() if "→" in line
    ]


def test_lookup_and_resident_api_give_times_in_the_site_zone(client: TestClient, site: Site) -> None:
    """A card valid to 10 March 07:00 and a monthly period to the same moment, local time: /api/lookup
    and /api/residents say 2025-03-10T07:00:00+08:00, as the lookup page shows them, not the stored
    UTC time of the day before (2025-03-09T23:00:00+00:00)."""
    admin = _second_car_and_card_to(client, site, "2025-03-10T07:00:00")
    for who in (admin, bearer(site.guard_token)):
        found = client.get("/api/lookup", params={"q": "皖A54321"}, headers=who).json()[0]
        one = client.get(f"/api/residents/{site.resident_id}", headers=who).json()
        for resident in (found, one):
            car = next(v for v in resident["vehicles"] if v["plate"] == "皖A54321")
            card = next(c for c in resident["credentials"] if c["valid_to"])
            assert car["monthly_until"] == card["valid_to"] == "2025-03-10T07:00:00+08:00", resident


def test_a_bare_end_date_shows_as_the_last_day_it_covers(
    client: TestClient, site: Site, tmp_path: Path
) -> None:
    """README: a `valid_to` (and `monthly_until`) date "includes that whole day": imported as
    2026-12-31, it ends at 2027-01-01 00:00 local. The lookup page says 2026-12-31, the last day the
    card opens and the car parks free, not 1 January, a day on which the card is refused."""
    vehicles = write_csv(tmp_path / "v.csv", "plate,resident_ref,monthly_until\n皖A54321,R1,2026-12-31\n")
    cards = write_csv(tmp_path / "c.csv", "card,resident_ref,valid_to\n0A1B2C3D99,R1,2026-12-31\n")
    import_csv(site.gw.site.config, [vehicles, cards])
    new_year = datetime(2027, 1, 1, 10, 0, tzinfo=site.gw.site.tz)
    card = Presented("door", "card", "0A1B2C3D99", 1.0, new_year, "reader")
    assert site.gw.on_worker(lambda c: site.gw.handle(card)).result(10).reason == "expired"
    log_in(client, GUARD)
    page = client.get("/lookup", params={"q": "皖A54321"}).text
    shown = [line.strip() for line in page.splitlines() if "→" in line]
    assert "→ 2027-01-01" not in page and page.count("→ 2026-12-31") == 2, shown

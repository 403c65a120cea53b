"""The admin's upkeep of the register on the HTTP API: what happens to parked cars, blocks and the
records upstream when an admin keeps residents, vehicles, cards and slots by hand."""

from __future__ import annotations

import json
import sqlite3

from fastapi.testclient import TestClient

from gateway.core import Presented
from tests.ui.conftest import CARD, PLATE, Site, bearer


def _decide(site: Site, lane: str, kind: str, value: str) -> tuple[bool, str]:
    gw = site.gw
    p = Presented(lane, kind, value, 1.0, gw.now(), "test-dev")  # type: ignore[arg-type]
    d = gw.on_worker(lambda c: gw.handle(p)).result(10)
    return d.admitted, d.reason


def _occupancy(client: TestClient, site: Site) -> dict[str, object]:
    rows = client.get("/api/parking/occupancy", headers=bearer(site.guard_token)).json()
    return next(r for r in rows if r["zone"] == "main" and r["class"] == "car")


def test_deleting_a_slot_a_car_is_parked_on_keeps_the_car_counted(client: TestClient, site: Site) -> None:
    """The resident's car is parked on its slot B001 (zone capacity 10: 1 fixed slot, 9 shared).
    The admin deletes the slot from the lookup page. The car is still physically in the garage,
    so it must take one of the 10 spaces: the zone must not take 10 more temporary cars."""
    admin = bearer(site.admin_token)
    assert _decide(site, "car-in", "plate", PLATE) == (True, "resident")
    sid = client.get(f"/api/residents/{site.resident_id}", headers=admin).json()["slots"][0]["id"]
    assert client.delete(f"/api/slots/{sid}", headers=admin).status_code == 204
    occ = _occupancy(client, site)
    admitted = [_decide(site, "car-in", "plate", f"皖B1000{i}")[0] for i in range(10)]
    assert admitted.count(True) == 9, f"{admitted.count(True)} strangers let into 9 free spaces ({occ})"


def test_editing_a_resident_on_the_admin_form_does_not_lift_their_block(
    client: TestClient, site: Site
) -> None:
    """A resident is blocked (moved out, arrears) through the API. Later an admin corrects the
    room number with the admin page's resident form (ref, name, building, unit, room, phone: it
    has no 'blocked' field). The block must hold: lifting it is an admin's unblock, audited as
    such; here the resident's card opens the door again and the audit says only 'upsert'."""
    admin = bearer(site.admin_token)
    base = {"ref": "R1", "building": "3栋", "unit": "2单元", "room": "301", "name": "张三丰"}
    r = client.post("/api/residents", json={**base, "blocked": True}, headers=admin)
    assert r.status_code == 200, r.text
    assert _decide(site, "door", "card", CARD) == (False, "blocked")
    # What the admin form sends: the fields it has.
    r = client.post("/api/residents", json={**base, "room": "302"}, headers=admin)
    assert r.status_code == 200, r.text
    assert client.get(f"/api/residents/{site.resident_id}", headers=admin).json()["blocked"] is True
    assert _decide(site, "door", "card", CARD) == (False, "blocked")
    r = client.post("/api/residents", json={**base, "blocked": False}, headers=admin)
    assert r.status_code == 200 and _decide(site, "door", "card", CARD) == (True, "resident")
    with sqlite3.connect(site.gw.db_path) as conn:
        actions = [a for (a,) in conn.execute("SELECT action FROM audit WHERE action LIKE 'resident.%block'")]
    assert actions == ["resident.block", "resident.unblock"]


def test_editing_a_resident_keeps_the_end_of_their_tenancy(client: TestClient, site: Site) -> None:
    """A tenant's residence ends 2030-06-30 (valid_to). An admin fixes the phone number on the
    admin form (which has no validity fields): the end must stay, else the tenant's cards open
    for ever."""
    admin = bearer(site.admin_token)
    base = {"ref": "R1", "building": "3栋", "unit": "2单元", "room": "301", "name": "张三丰"}
    r = client.post("/api/residents", json={**base, "valid_to": "2030-06-30T23:59:00"}, headers=admin)
    assert r.status_code == 200, r.text
    r = client.post("/api/residents", json={**base, "phone": "13900001111"}, headers=admin)
    assert r.status_code == 200, r.text
    after = client.get(f"/api/residents/{site.resident_id}", headers=admin).json()
    assert after["valid_to"] is not None, "the tenancy's end was cleared by a phone fix"


def test_a_local_register_change_goes_upstream_with_what_changed(client: TestClient, site: Site) -> None:
    """The admin deletes resident R1 and gives another resident a card at the booth. The central
    server owns the register and 'reconciles local changes from the registry records'
    (gateway/store/registry.py): each record must say which resident (ref) and which card, as a
    block record names its card; a bare local row id names nothing the centre knows."""
    admin = bearer(site.admin_token)
    r2 = client.post(
        "/api/residents",
        json={"ref": "R2", "building": "5栋", "unit": "1单元", "name": "王芳"},
        headers=admin,
    ).json()["id"]
    assert (
        client.post("/api/cards", json={"card": "77665544", "resident_id": r2}, headers=admin).status_code
        == 200
    )
    assert client.delete(f"/api/residents/{site.resident_id}", headers=admin).status_code == 204
    with sqlite3.connect(site.gw.db_path) as conn:
        rows = [
            json.loads(p)
            for (p,) in conn.execute("SELECT payload FROM outbox WHERE topic = 'registry' ORDER BY seq")
        ]
    deleted = [r for r in rows if r.get("op") == "delete" and r.get("entity") == "resident"]
    card = [r for r in rows if r.get("op") == "add" and r.get("entity") == "card"][-1]
    assert deleted, rows
    assert "R1" in json.dumps(deleted[0], ensure_ascii=False), f"the centre is told only {deleted[0]}"
    assert "R2" in json.dumps(card, ensure_ascii=False), f"the centre is told only {card}"


def _people_inside(client: TestClient, site: Site) -> int:
    from gateway.store.occupancy import people_inside

    return site.gw.on_worker(people_inside).result(10)


def test_a_resident_deleted_while_inside_on_foot_is_not_counted_inside_for_ever(
    client: TestClient, site: Site
) -> None:
    """A resident who is moving out swipes in at the door; the admin then deletes them. Their card
    is gone, so no exit reader will ever see them leave: the occupancy page's 'people inside on
    foot' must not count them for ever (the fix f3fff75 made for a pass the centre withdraws)."""
    assert _decide(site, "door", "card", CARD) == (True, "resident")
    assert _people_inside(client, site) == 1
    assert (
        client.delete(f"/api/residents/{site.resident_id}", headers=bearer(site.admin_token)).status_code
        == 204
    )
    assert _people_inside(client, site) == 0, "a deleted resident is counted inside on foot for ever"


def test_an_admin_can_renew_a_monthly_car_as_the_refusal_says(client: TestClient, site: Site) -> None:
    """Renewing a monthly car (月租续费) is changing its monthly_until. Adding the plate again is
    refused with 'look it up and change that vehicle': the fix must name a way that works, and
    changing the vehicle must keep the car on its fixed slot (deleting and adding it again would
    not). The change is audited and goes upstream like any register change."""
    admin = bearer(site.admin_token)
    r = client.post(
        "/api/vehicles",
        json={"plate": PLATE, "resident_id": site.resident_id, "monthly_until": "2030-01-31"},
        headers=admin,
    )
    assert r.status_code == 409 and "PATCH /api/vehicles/" in r.json()["error"]["fix"]
    guard = bearer(site.guard_token)
    r = client.patch(f"/api/vehicles/{site.vehicle_id}", json={"monthly_until": "2030-01-31"}, headers=guard)
    assert r.status_code == 403
    r = client.patch(f"/api/vehicles/{site.vehicle_id}", json={"monthly_until": "2030-01-31"}, headers=admin)
    assert r.status_code == 204, r.text
    after = client.get(f"/api/residents/{site.resident_id}", headers=admin).json()
    assert after["vehicles"][0]["monthly_until"].startswith("2030-01-31")
    assert after["vehicles"][0]["class"] == "car" and after["slots"][0]["plates"] == PLATE
    with sqlite3.connect(site.gw.db_path) as conn:
        assert conn.execute("SELECT 1 FROM audit WHERE action = 'vehicle.update'").fetchone()
    assert client.patch("/api/vehicles/999999", json={}, headers=admin).status_code == 404


def test_a_card_whose_period_ends_before_it_begins_is_refused_as_an_import_refuses_it(
    client: TestClient, site: Site
) -> None:
    """An admin types the dates of a card the wrong way round (from 2026-12-31 to 2026-01-01). A
    CSV import refuses such a row ('valid_to is before valid_from'); the admin API takes it with
    200, and the resident's new card is refused at every door with no hint why."""
    admin = bearer(site.admin_token)
    r = client.post(
        "/api/cards",
        json={
            "card": "55667788",
            "resident_id": site.resident_id,
            "valid_from": "2026-12-31T00:00:00",
            "valid_to": "2026-01-01T23:59:59",
        },
        headers=admin,
    )
    assert r.status_code == 422, f"{r.status_code}: an empty period was stored: {r.text}"
    assert r.json()["error"]["fix"]

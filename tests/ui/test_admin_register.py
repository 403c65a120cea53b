"""The admin's upkeep of the register on the HTTP API: what happens to parked cars, blocks and the
records upstream when an admin keeps residents, vehicles, cards and slots by hand."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import CARD, PLATE, Site, bearer, make_config, start_site


def _decide(site: Site, lane: str, kind: str, value: str, at: datetime | None = None) -> tuple[bool, str]:
    gw = site.gw
    p = Presented(lane, kind, value, 1.0, at or gw.now(), "test-dev")  # type: ignore[arg-type]
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
    # Renewed until 2030-01-31, the whole of that day: it ends as 1 February begins.
    assert after["vehicles"][0]["monthly_until"] == "2030-02-01T00:00:00+08:00"
    assert after["vehicles"][0]["class"] == "car" and after["slots"][0]["plates"] == PLATE
    with sqlite3.connect(site.gw.db_path) as conn:
        assert conn.execute("SELECT 1 FROM audit WHERE action = 'vehicle.update'").fetchone()
    gone = client.patch("/api/vehicles/999999", json={"vehicle_class": "car"}, headers=admin)
    assert gone.status_code == 404


def test_a_vehicle_change_that_changes_nothing_is_refused_not_audited(client: TestClient, site: Site) -> None:
    """A script sends {} or a field the change does not take (a new owner): it was answered 204,
    an empty vehicle.update written to the audit trail and sent upstream, and the owner unchanged."""
    admin = bearer(site.admin_token)
    for body in ({}, {"resident_id": site.resident_id + 1}, {"vehicle_class": None}):
        r = client.patch(f"/api/vehicles/{site.vehicle_id}", json=body, headers=admin)
        assert r.status_code == 422 and r.json()["error"]["fix"], (body, r.text)
    with sqlite3.connect(site.gw.db_path) as conn:
        assert not conn.execute("SELECT 1 FROM audit WHERE action = 'vehicle.update'").fetchone()


def _card_for(client: TestClient, site: Site, valid_from: str, valid_to: str) -> Any:
    """An admin gives the resident card 55667788 for the period typed."""
    period = {"valid_from": valid_from, "valid_to": valid_to}
    card = {"card": "55667788", "resident_id": site.resident_id, **period}
    return client.post("/api/cards", json=card, headers=bearer(site.admin_token))


def test_a_card_whose_period_ends_before_it_begins_is_refused_as_an_import_refuses_it(
    client: TestClient, site: Site
) -> None:
    """An admin types the dates of a card the wrong way round (from 2026-12-31 to 2026-01-01). A
    CSV import refuses such a row ('valid_to is before valid_from'); the admin API takes it with
    200, and the resident's new card is refused at every door with no hint why."""
    r = _card_for(client, site, "2026-12-31T00:00:00", "2026-01-01T23:59:59")
    assert r.status_code == 422, f"{r.status_code}: an empty period was stored: {r.text}"
    assert r.json()["error"]["fix"]


RESIDENT = {"ref": "R1", "building": "3栋", "unit": "2单元", "room": "301", "name": "张三丰"}


def test_patch_monthly_until_bare_date_includes_that_whole_day(client: TestClient, site: Site) -> None:
    """docs/guard-app.md renews a monthly car with PATCH {"monthly_until": "2026-12-31"}; as in a CSV
    import and on the admin page, a bare date that ends a period includes that whole day. Renewed
    'until today', the car must still get in today as monthly."""
    admin = bearer(site.admin_token)
    r = client.post(
        "/api/vehicles", json={"plate": "皖A54321", "resident_id": site.resident_id}, headers=admin
    )
    assert r.status_code == 200, r.text
    vid = r.json()["id"]
    today = site.gw.now().astimezone(site.gw.site.tz).date().isoformat()
    r = client.patch(f"/api/vehicles/{vid}", json={"monthly_until": today}, headers=admin)
    assert r.status_code == 204, r.text
    shown = client.get(f"/api/residents/{site.resident_id}", headers=admin).json()
    until = next(v for v in shown["vehicles"] if v["id"] == vid)["monthly_until"]
    assert _decide(site, "car-in", "plate", "皖A54321") == (True, "monthly"), f"stored {until}"


def test_one_day_card_with_bare_dates_is_not_refused_as_ending_before_it_begins(
    client: TestClient, site: Site
) -> None:
    """A cleaner's card for one day: valid_from = valid_to = the same date. A CSV import takes
    that row (the valid_to date includes the whole day); the API must not refuse it 422
    invalid_period, 'the period ends before it begins', which is not true."""
    r = _card_for(client, site, "2026-12-01", "2026-12-01")
    assert r.status_code == 200, f"{r.status_code}: {r.text}"


def test_resident_valid_to_alone_before_the_stored_valid_from_is_refused(
    client: TestClient, site: Site
) -> None:
    """A resident's tenancy starts 2020-01-01 (stored); an admin sends only a new valid_to that is
    before it. Stored, the period would be empty and their card would stop opening the door: it
    is refused 422 invalid_period, and the stored period stays."""
    admin = bearer(site.admin_token)
    r = client.post("/api/residents", json={**RESIDENT, "valid_from": "2020-01-01T00:00:00"}, headers=admin)
    assert r.status_code == 200, r.text
    r = client.post("/api/residents", json={**RESIDENT, "valid_to": "2019-12-31T23:00:00"}, headers=admin)
    after = client.get(f"/api/residents/{site.resident_id}", headers=admin).json()
    door = _decide(site, "door", "card", CARD)
    assert r.status_code == 422, (
        f"{r.status_code}: stored {after['valid_from']} .. {after['valid_to']}; door {door}"
    )
    assert r.json()["error"]["code"] == "invalid_period" and after["valid_to"] is None


def test_resident_phone_null_clears_the_phone(client: TestClient, site: Site) -> None:
    """docs/guard-app.md: changing a resident keeps every field the request leaves out; `null`
    clears a field. A resident asks for their phone number to be removed: phone null removes it,
    masked and hashed (a lookup by the number no longer finds them)."""
    admin = bearer(site.admin_token)
    before = client.get(f"/api/residents/{site.resident_id}", headers=admin).json()
    assert before["phone_masked"], before
    r = client.post("/api/residents", json={**RESIDENT, "phone": None}, headers=admin)
    assert r.status_code == 200, r.text
    after = client.get(f"/api/residents/{site.resident_id}", headers=admin).json()
    assert not after["phone_masked"], f"phone null kept {after['phone_masked']}"
    with sqlite3.connect(site.gw.db_path) as conn:
        (hashed,) = conn.execute("SELECT phone_hash FROM residents WHERE ref = 'R1'").fetchone()
    assert not hashed


@pytest.fixture
def paying_site(tmp_path: Path) -> Iterator[Site]:
    """The test site with the tests' tariff: there a stay past a monthly period costs something."""
    s = start_site(make_config(tmp_path / "data", TARIFF_TOML))
    yield s
    s.gw.stop()


def test_a_monthly_period_ended_by_patch_null_while_parked_is_not_a_free_stay(paying_site: Site) -> None:
    """A monthly car (no slot) is parked; the admin ends its monthly period (cancelled, refunded)
    with PATCH {"monthly_until": null}; four hours later it leaves. docs/parking.md: a monthly car
    whose period ends while it is parked pays at its exit for the time after the period ended.
    Its next entry is a temporary car's, as when a period runs out."""
    site = paying_site
    client = TestClient(create_app(site.gw))
    admin = bearer(site.admin_token)
    r = client.post(
        "/api/vehicles",
        json={"plate": "皖A54321", "resident_id": site.resident_id, "monthly_until": "2030-12-31T23:59:59"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    vid = r.json()["id"]
    t0 = site.gw.now()
    assert _decide(site, "car-in", "plate", "皖A54321", t0) == (True, "monthly")
    r = client.patch(f"/api/vehicles/{vid}", json={"monthly_until": None}, headers=admin)
    assert r.status_code == 204, r.text
    later = t0 + timedelta(hours=4)
    out = _decide(site, "car-out", "plate", "皖A54321", later)
    assert out == (False, "payment_due"), f"left {out} after its monthly period was ended"
    later += timedelta(minutes=1)
    assert _decide(site, "car-in", "plate", "皖A54321", later) == (True, "temporary")

"""Records keep pointing at whoever they were about: a deleted resident's or pruned visitor's id is
never given to the next one (the event list, anti-passback and stays name people by id)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.store import retention
from tests.conftest import site_toml
from tests.ui.conftest import CARD, DRIVEN, Site, bearer, decided, start_site

VISITOR = {"host_building": "3栋", "host_unit": "2单元"}


def test_a_deleted_residents_swipes_are_not_shown_as_the_next_residents(
    client: TestClient, site: Site
) -> None:
    admin = bearer(site.admin_token)
    swipe = decided(site, "door-reader", "card", CARD)
    assert swipe["holder_id"] == site.resident_id  # the newest resident: SQLite would reuse the id
    assert client.delete(f"/api/residents/{site.resident_id}", headers=admin).status_code == 204
    new = {"ref": "R2", "building": "9栋", "unit": "1单元", "room": "101", "name": "李四"}
    added = client.post("/api/residents", json=new, headers=admin).json()
    assert added["id"] != site.resident_id
    events = client.get("/api/events", headers=admin).json()
    old = next(e for e in events if e["event_id"] == swipe["event_id"])
    assert old["building"] != "9栋"  # the swipe is the deleted resident's, not 李四's


def test_a_pruned_visitors_entry_is_not_shown_as_the_next_visitors(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    first = client.post("/api/visitors", json={**VISITOR, "name": "王五"}, headers=guard).json()
    entry = decided(site, "door-reader", "qr", first["qr"])
    gw = site.gw
    pruned = gw.on_worker(lambda c: retention.prune_visitors(c, gw.now() + timedelta(days=400))).result()
    assert pruned == 1
    second = client.post("/api/visitors", json={**VISITOR, "name": "赵六"}, headers=guard).json()
    assert second["id"] != first["id"]
    events = client.get("/api/events", headers=guard).json()
    assert next(e for e in events if e["event_id"] == entry["event_id"])["name"] != "赵*"


def test_a_new_visitor_is_not_refused_as_inside_for_a_pruned_visitor(tmp_path: Path) -> None:
    site = start_site(parse_config(site_toml(tmp_path / "data", anti_passback="hard") + DRIVEN, "site.toml"))
    try:
        with TestClient(create_app(site.gw)) as client:
            guard = bearer(site.guard_token)
            first = client.post("/api/visitors", json={**VISITOR, "name": "王五"}, headers=guard).json()
            assert decided(site, "door-reader", "qr", first["qr"])["admitted"]  # in, and out unseen
            gw = site.gw
            gw.on_worker(lambda c: retention.prune_visitors(c, gw.now() + timedelta(days=400))).result()
            with sqlite3.connect(gw.db_path) as conn:
                left = conn.execute("SELECT count(*) FROM presence WHERE subject LIKE 'visitor:%'").fetchone()
            assert left == (0,)  # where the pruned visitor was last seen goes with the pass
            second = client.post("/api/visitors", json={**VISITOR, "name": "赵六"}, headers=guard).json()
            entry = decided(site, "door-reader", "qr", second["qr"])
            assert (entry["admitted"], entry["reason"]) == (1, "visitor")
    finally:
        site.gw.stop()

"""A full disk: decisions cannot be stored, so the gates stay shut (reason storage_failed), and the guard
can still open by hand. The barrier opens at once; the open's audit row and upstream record wait in
memory and are written, with the time of the opening, as soon as the disk has room again."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from fastapi.testclient import TestClient

from drivers.simulated import SimulatedRelay
from gateway.core import Presented
from tests.ui.conftest import CARD, Site, bearer, wait_for


def _fill_the_disk(site: Site) -> None:
    # A full disk as SQLite reports it (SQLITE_FULL), as tests/ui/test_guard_corrections.py makes it:
    # each insert also writes a megabyte and the worker's connection may not grow the file.
    with sqlite3.connect(site.gw.db_path) as conn:
        conn.execute("CREATE TABLE ballast (b BLOB)")
        for table in ("access_log", "audit", "outbox"):
            conn.execute(
                f"CREATE TRIGGER full_{table} BEFORE INSERT ON {table} "
                "BEGIN INSERT INTO ballast VALUES (zeroblob(1000000)); END"
            )
    site.gw.on_worker(lambda c: c.execute("PRAGMA max_page_count = 1")).result(timeout=5)


def _free_the_disk(site: Site) -> None:
    with sqlite3.connect(site.gw.db_path) as conn:
        for table in ("access_log", "audit", "outbox"):
            conn.execute(f"DROP TRIGGER full_{table}")
    site.gw.on_worker(lambda c: c.execute("PRAGMA max_page_count = 1073741823")).result(timeout=5)


def _rows(site: Site, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(site.gw.db_path) as conn:
        return conn.execute(sql).fetchall()


def test_guard_can_still_open_by_hand_when_the_disk_is_full(client: TestClient, site: Site) -> None:
    door = site.gw.devices.lanes["door"].relays[0]
    assert isinstance(door, SimulatedRelay)
    _fill_the_disk(site)
    gw = site.gw
    ev = gw.on_worker(
        lambda c: gw.handle(Presented("door", "card", CARD, 1.0, gw.now(), "door-reader"))
    ).result(10)
    assert ev.reason == "storage_failed" and door.pulses == []  # the resident's card opens nothing
    r = client.post(
        "/api/lanes/door/open", json={"reason": "业主刷卡 系统故障"}, headers=bearer(site.guard_token)
    )
    assert r.status_code == 200, r.json()
    assert r.json()["record_waits"] is True  # the page can say the record waits for disk space
    assert len(door.pulses) == 1
    assert gw.unrecorded_opens() == 1
    assert _rows(site, "SELECT count(*) FROM audit WHERE action = 'lane.open'") == [(0,)]


def test_the_open_is_recorded_once_the_disk_has_room_again(client: TestClient, site: Site) -> None:
    _fill_the_disk(site)
    before = site.gw.now()
    r = client.post("/api/lanes/door/open", json={"reason": "救护车"}, headers=bearer(site.guard_token))
    assert r.status_code == 200
    _free_the_disk(site)
    wait_for(
        lambda: _rows(site, "SELECT count(*) FROM audit WHERE action = 'lane.open'") == [(1,)], timeout=10
    )
    ((actor, target, detail, at),) = _rows(
        site, "SELECT actor, target, detail, at FROM audit WHERE action = 'lane.open'"
    )
    assert (actor, target, detail) == ("token:guard-bot", "door", "救护车")
    ((payload,),) = _rows(site, "SELECT payload FROM outbox WHERE topic = 'lane_action'")
    upstream = json.loads(payload)
    assert (upstream["action"], upstream["actor"], upstream["reason"]) == (
        "open",
        "token:guard-bot",
        "救护车",
    )
    assert before <= datetime.fromisoformat(upstream["at"]) < site.gw.now()
    assert site.gw.unrecorded_opens() == 0


def test_holding_a_lane_open_still_needs_its_record_stored(client: TestClient, site: Site) -> None:
    """Only a single opening goes ahead unrecorded: a lane held open must be on record first."""
    barrier = site.gw.devices.lanes["car-in"].relays[0]
    assert isinstance(barrier, SimulatedRelay)
    _fill_the_disk(site)
    r = client.post("/api/lanes/car-in/hold", json={"reason": "消防车"}, headers=bearer(site.guard_token))
    assert r.status_code == 503 and r.json()["error"]["code"] == "storage_failed"
    assert not barrier.held

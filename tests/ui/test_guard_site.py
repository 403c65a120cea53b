"""Occupancy, alarms with acknowledge, the audit trail, and the alarms no decision raises."""

from __future__ import annotations

import sqlite3

from fastapi.testclient import TestClient

from gateway.alarm_texts import AlarmText
from gateway.config.models import Alarms
from gateway.runtime.watch import AlarmWatch
from gateway.store.alarms import raise_alarm
from tests.ui.conftest import PLATE, Site, bearer, decided, wait_for


def test_occupancy_by_zone_and_class(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    decided(site, "car-in-camera", "plate", PLATE)  # a resident onto their slot
    decided(site, "car-in-camera", "plate", "浙B55555")  # unknown: a temporary car, shared space
    cars = next(z for z in client.get("/api/occupancy", headers=guard).json()["zones"] if z["class"] == "car")
    assert cars == {
        **cars,
        "zone": "main",
        "capacity": 10,
        "fixed_slots": 1,
        "inside": 2,
        "on_slots": 1,
        "shared_capacity": 9,
        "shared_occupied": 1,
        "shared_free": 8,
    }


def test_alarms_are_acknowledged_with_the_guards_name(client: TestClient, site: Site) -> None:
    gw = site.gw
    offline = AlarmText(
        "device_offline",
        {"device_kind": "reader", "device": "door-reader", "lane": "door", "error": "no answer"},
    )
    forced = AlarmText("forced_open", {"lane": "door", "device": "door-lock"})
    gw.on_worker(lambda c: raise_alarm(c, "device_offline", "door-reader", offline, gw.now())).result()
    gw.on_worker(lambda c: raise_alarm(c, "forced_open", "door-lock", forced, gw.now())).result()
    guard = bearer(site.guard_token)
    alarms = {a["kind"]: a for a in client.get("/api/alarms", headers=guard).json()}
    assert set(alarms) == {"device_offline", "forced_open"}
    done = client.post(
        f"/api/alarms/{alarms['forced_open']['id']}/acknowledge",
        json={"note": "已查看监控"},
        headers=guard,
    ).json()
    assert done["closed"] is True  # something that happened: acknowledged is dealt with
    still = client.post(
        f"/api/alarms/{alarms['device_offline']['id']}/acknowledge", json={}, headers=guard
    ).json()
    assert still["closed"] is False  # a state: open until the device is back
    assert [a["kind"] for a in client.get("/api/alarms", headers=guard).json()] == ["device_offline"]
    assert (
        client.post(
            f"/api/alarms/{alarms['forced_open']['id']}/acknowledge", json={}, headers=guard
        ).status_code
        == 409
    )
    audit = client.get("/api/audit?action=alarm.", headers=guard).json()
    assert [(a["actor"], a["detail"]) for a in audit][-1] == (
        "token:guard-bot",
        "forced_open door-lock 已查看监控",
    )


def test_one_unknown_plate_read_again_and_again_raises_an_alarm(site: Site) -> None:
    clock = [0.0]
    watch = AlarmWatch(site.gw, Alarms(repeated_unknown_plate=3, repeated_minutes=10), clock=lambda: clock[0])
    site.gw.subscribe(watch.on_event)
    for minute in (0, 4, 11, 12):  # the first read has left the window by the fourth
        clock[0] = minute * 60.0
        decided(site, "car-in-camera", "plate", "苏A00001")
        decided(site, "car-in-camera", "plate", PLATE)  # registered: never counts

    def raised() -> list[tuple[str, str]]:
        with sqlite3.connect(site.gw.db_path) as conn:
            return conn.execute("SELECT kind, source FROM alarms").fetchall()

    wait_for(lambda: bool(raised()))
    assert raised() == [("repeated_unknown_plate", "苏A00001")]


def test_audit_filters(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    client.post("/api/lanes/door/open", json={"reason": "一"}, headers=guard)
    rows = client.get("/api/audit", params={"actor": "token:guard-bot"}, headers=guard).json()
    assert [(r["action"], r["target"], r["detail"]) for r in rows] == [("lane.open", "door", "一")]
    assert rows[0]["at"].endswith("+08:00")

"""A lane by hand sent again with its Idempotency-Key (Review 63k): the guard's 开闸 reached the
gateway, which opened, but its answer was lost on the Wi-Fi, and he tapped again. The barrier was
raised twice, two lane.open rows on record and upstream, his shift counting two. Now the repeat is
answered with the first opening (`again`), the barrier pulsed once; a new key is a new opening."""

from __future__ import annotations

import json
import sqlite3

import pytest
from fastapi.testclient import TestClient

from drivers.simulated import SimulatedRelay
from tests.ui.conftest import Site, bearer


def _rows(site: Site, sql: str) -> list[tuple[object, ...]]:
    site.gw.on_worker(lambda c: None).result(timeout=60)
    with sqlite3.connect(site.gw.db_path) as conn:
        return conn.execute(sql).fetchall()


def _upstream(site: Site) -> list[str]:
    rows = _rows(site, "SELECT payload FROM outbox WHERE topic = 'lane_action' ORDER BY seq")
    return [json.loads(str(r[0]))["action"] for r in rows]


def _relay(site: Site, lane: str) -> SimulatedRelay:
    relay = site.gw.devices.lanes[lane].relays[0]
    assert isinstance(relay, SimulatedRelay)
    return relay


def test_an_opening_sent_again_with_its_key_opens_once(client: TestClient, site: Site) -> None:
    guard = {**bearer(site.guard_token), "Idempotency-Key": "tap-1"}
    first = client.post("/api/lanes/door/open", json={"reason": "业主未带卡"}, headers=guard)
    assert first.status_code == 200, first.text
    assert first.json()["again"] is False
    # The guard typed his reason again a little differently: the same tap all the same.
    again = client.post("/api/lanes/door/open", json={"reason": "业主没带卡"}, headers=guard)
    assert again.status_code == 200, again.text
    assert again.json() == {**first.json(), "again": True}
    assert len(_relay(site, "door").pulses) == 1
    assert _rows(site, "SELECT detail FROM audit WHERE action = 'lane.open'") == [("业主未带卡",)]
    assert _upstream(site) == ["open"]

    other = client.post(
        "/api/lanes/door/open",
        json={"reason": "快递员"},
        headers={**bearer(site.guard_token), "Idempotency-Key": "tap-2"},
    )
    assert other.status_code == 200 and other.json()["again"] is False
    assert len(_relay(site, "door").pulses) == 2 and _upstream(site) == ["open", "open"]


def test_without_a_key_each_request_opens(client: TestClient, site: Site) -> None:
    """An API client that sends no key (the centre's integrations) opens each time, as before."""
    for _ in range(2):
        r = client.post("/api/lanes/door/open", json={"reason": "巡逻"}, headers=bearer(site.guard_token))
        assert r.status_code == 200 and r.json()["again"] is False
    assert len(_relay(site, "door").pulses) == 2


def test_a_key_names_one_lane_and_action(client: TestClient, site: Site) -> None:
    guard = {**bearer(site.guard_token), "Idempotency-Key": "tap-3"}
    assert client.post("/api/lanes/door/open", json={"reason": "访客"}, headers=guard).status_code == 200
    other = client.post("/api/lanes/car-in/open", json={"reason": "访客"}, headers=guard)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_mismatch"
    assert _relay(site, "car-in").pulses == []


def test_a_hold_and_its_release_sent_again_are_done_once(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    for _ in range(2):
        r = client.post(
            "/api/lanes/car-in/hold", json={"reason": "消防车"}, headers={**guard, "Idempotency-Key": "h"}
        )
        assert r.status_code == 200, r.text
    assert r.json()["again"] is True and site.gw.by_hand.held == {"car-in": "token:guard-bot"}
    for _ in range(2):
        r = client.post(
            "/api/lanes/car-in/release", json={"reason": "已通过"}, headers={**guard, "Idempotency-Key": "r"}
        )
        assert r.status_code == 200, r.text
    assert r.json()["again"] is True and site.gw.by_hand.held == {}
    assert _upstream(site) == ["hold", "release"]


def test_an_opening_whose_relay_failed_is_tried_again_with_its_key(
    client: TestClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing opened: the guard's second tap (with the page's same key) drives the relay again."""
    relay = _relay(site, "car-in")
    real = relay.pulse

    def broken(*_a: object, **_k: object) -> None:
        raise OSError("no answer on /dev/ttyUSB0")

    monkeypatch.setattr(relay, "pulse", broken)
    guard = {**bearer(site.guard_token), "Idempotency-Key": "tap-4"}
    failed = client.post("/api/lanes/car-in/open", json={"reason": "业主未带卡"}, headers=guard)
    assert failed.status_code >= 400 and failed.json()["error"]["code"] == "relay_failed", failed.text
    monkeypatch.setattr(relay, "pulse", real)
    relay.health.set_online()  # its cable put back
    opened = client.post("/api/lanes/car-in/open", json={"reason": "业主未带卡"}, headers=guard)
    assert opened.status_code == 200 and opened.json()["again"] is False, opened.text
    assert len(relay.pulses) == 1

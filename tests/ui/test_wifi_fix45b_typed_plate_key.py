"""A typed plate sent again with its Idempotency-Key (a retry after an answer lost on the Wi-Fi) is
answered the decision already made: the car is decided once (docs/guard-app.md)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

import gateway.api.corrections as corrections
import gateway.api.deps as deps
from drivers.simulated import SimulatedRelay
from tests.ui.conftest import PLATE, Site, bearer, stored

TYPED = "/api/lanes/car-in/plate"


def _barrier(site: Site) -> SimulatedRelay:
    relay = site.gw.devices.lanes["car-in"].relays[0]
    assert isinstance(relay, SimulatedRelay)
    return relay


def _decisions(site: Site) -> list[tuple[Any, ...]]:
    return stored(site, "SELECT event_id FROM access_log WHERE lane = 'car-in' AND value = ?", PLATE)


def test_a_typed_plate_sent_again_with_its_key_is_decided_once(
    site: Site,
    client: TestClient,
) -> None:
    guard = {**bearer(site.guard_token), "Idempotency-Key": "tablet-decide-1"}
    first = client.post(TYPED, json={"plate": "皖a12345"}, headers=guard)
    assert first.status_code == 200, first.text
    # Filled in as the lane took it the second time (皖A12345): the same plate, the same decision.
    again = client.post(TYPED, json={"plate": PLATE}, headers=guard)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert _decisions(site) == [(first.json()["event_id"],)]
    assert len(_barrier(site).pulses) == 1
    assert stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.plate'") == [(1,)]
    # Another guard's key of the same text is his own, and without a key each is a decision.
    admin = {**bearer(site.admin_token), "Idempotency-Key": "tablet-decide-1"}
    assert client.post(TYPED, json={"plate": PLATE}, headers=admin).status_code == 200
    assert client.post(TYPED, json={"plate": PLATE}, headers=bearer(site.guard_token)).status_code == 200
    assert len(_decisions(site)) == 3


def test_a_key_sent_with_another_plate_or_lane_is_refused_and_decides_nothing(
    site: Site,
    client: TestClient,
) -> None:
    guard = {**bearer(site.guard_token), "Idempotency-Key": "tablet-decide-2"}
    assert client.post(TYPED, json={"plate": PLATE}, headers=guard).status_code == 200
    for url, body in ((TYPED, {"plate": "豫A5B123"}), ("/api/lanes/car-out/plate", {"plate": PLATE})):
        other = client.post(url, json=body, headers=guard)
        assert other.status_code == 422, other.text
        assert other.json()["error"]["code"] == "idempotency_mismatch"
    assert stored(site, "SELECT count(*) FROM access_log WHERE lane LIKE 'car-%'") == [(1,)]


def test_a_typed_plate_sent_again_while_still_being_decided_waits_for_that_decision(
    site: Site,
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The box is slow (another process holds the database): the first try is answered 仍在保存
    (still_saving) while the worker decides; the guard taps again, and that waits for the same
    decision rather than making a second."""
    monkeypatch.setattr(deps, "WRITE_TIMEOUT_S", 1.0)  # the real 15 s, shortened
    real_audit = corrections.audit

    def slow_audit(*args: Any, **kwargs: Any) -> None:
        time.sleep(1.5)
        real_audit(*args, **kwargs)

    monkeypatch.setattr(corrections, "audit", slow_audit)
    guard = {**bearer(site.guard_token), "Idempotency-Key": "tablet-decide-3"}
    first = client.post(TYPED, json={"plate": PLATE}, headers=guard)
    assert first.status_code == 503 and first.json()["error"]["code"] == "still_saving", first.text
    again = client.post(TYPED, json={"plate": PLATE}, headers=guard)
    assert again.status_code == 200, again.text
    assert _decisions(site) == [(again.json()["event_id"],)]
    assert len(_barrier(site).pulses) == 1

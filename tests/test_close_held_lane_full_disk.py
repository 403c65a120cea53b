"""A guard closes (关闭通道) a lane held open, on a full disk (review s43r2disk, the third rule):
refused for want of its record, the close moves nothing, the hold's release included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from drivers.simulated import SimulatedRelay
from gateway.api.app import create_app
from tests.ui.conftest import Site, bearer, fill_the_disk, make_config, start_site, stored


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Site]:
    site = start_site(make_config(tmp_path / "data"))
    yield site
    site.gw.stop()


def test_closing_a_held_lane_refused_for_a_full_disk_leaves_it_as_it_was(running: Site) -> None:
    """car-in is held open (常开) for a convoy; the card fills. The guard presses 关闭通道. The
    answer is 503 storage_failed, "the gateway could not store this, and nothing of it was
    changed" (docs/guard-app.md: closing still refuses on a full disk, no barrier moved for it).
    Yet the barrier came down and the lane was no longer held (the close let the hold down first, a
    release that goes ahead on a full disk, then failed on its own record): the guard, told
    nothing changed, believed the lane still held, and the live list showed no release."""
    site = running
    relay = site.gw.devices.lanes["car-in"].relays[0]
    assert isinstance(relay, SimulatedRelay)
    guard = bearer(site.guard_token)
    with TestClient(create_app(site.gw)) as client:
        held = client.post("/api/lanes/car-in/hold", json={"reason": "车队"}, headers=guard)
        assert held.status_code == 200, held.text
        fill_the_disk(site)
        r = client.post("/api/lanes/car-in/close", json={"reason": "夜间关闭"}, headers=guard)
    assert r.status_code == 503 and r.json()["error"]["code"] == "storage_failed", r.text
    assert "nothing of it was changed" in r.json()["error"]["message"]
    assert stored(site, "SELECT mode FROM lane_modes WHERE lane = 'car-in'") == [("open",)]
    assert (relay.held, site.gw.by_hand.held.get("car-in")) == (True, "token:guard-bot"), (
        f"told nothing changed, yet the barrier is {'up' if relay.held else 'down'} and the lane "
        f"held by {site.gw.by_hand.held.get('car-in')!r}"
    )
    assert site.gw.by_hand.unrecorded_opens() == 0  # no release waits to be written either

"""GET /api/live/recent?per_lane=N: each lane's newest, what a live page catching up fetches."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gateway.core import Presented
from tests.ui.conftest import Site, bearer, stored


def test_per_lane_lists_a_quiet_lane_after_a_busy_one(site: Site, client: TestClient) -> None:
    """A car at the exit, a lane closed by hand, then twenty swipes at the door: the newest eight
    over all lanes are door swipes only; per lane, the exit's car and its closing are there too."""
    site.gw.present(Presented("car-out", "plate", "鲁B12345", 0.99, site.gw.now(), "cam"))
    site.gw.by_hand.set_closed("car-in", True, "guard1", "封闭管理")
    for i in range(20):
        site.gw.present(Presented("door", "card", f"C{i:07X}", 1.0, site.gw.now(), "door-reader"))
    assert stored(site, "SELECT count(*) FROM access_log WHERE lane = 'door'")[0][0] == 20
    headers = bearer(site.guard_token)

    overall = client.get("/api/live/recent?limit=8&actions=true", headers=headers).json()
    assert {item["lane"] for item in overall} == {"door"}

    listed = client.get("/api/live/recent?per_lane=8&actions=true", headers=headers).json()
    door = [item for item in listed if item["lane"] == "door"]
    assert len(door) == 8
    assert [item["value"] for item in listed if item["lane"] == "car-out"] == ["鲁B12345"]
    assert [item["action"] for item in listed if item["lane"] == "car-in"] == ["close"]
    times = [item["at"] for item in listed]
    assert times == sorted(times, reverse=True)  # newest first, lanes together

    one_lane = client.get("/api/live/recent?per_lane=3&lane=door", headers=headers).json()
    assert len(one_lane) == 3 and {item["lane"] for item in one_lane} == {"door"}

"""The gateway's clock and its decisions are looked up on the gateway when used, as before lanes by
hand and the decision worker moved out of it: a test clock (gw.now = ..., as the stale-clock and
report tests set it) dates lane records by hand too, and a wrapped decide_batch sees every
presentation."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from tests.ui.conftest import bearer, make_config, start_site, stored

TZ = ZoneInfo("Asia/Shanghai")
T = datetime(2025, 3, 3, 8, 0, tzinfo=TZ)  # the gateway's clock in the test


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_a_lane_opened_held_and_released_by_hand_is_dated_by_the_gateways_clock(tmp_path: Path) -> None:
    site = start_site(make_config(tmp_path / "data"))
    gw = site.gw
    try:
        gw.now = Clock(T)  # type: ignore[method-assign]
        guard = bearer(site.guard_token)
        with TestClient(create_app(gw)) as client:
            for action in ("hold", "release", "open"):
                r = client.post(f"/api/lanes/car-in/{action}", json={"reason": "救护车"}, headers=guard)
                assert r.status_code == 200, r.text
        # A decision on the same lane, for comparison: it is dated by gw.now (the presentation's time).
        gw.on_worker(
            lambda c: gw.handle(Presented("car-in", "plate", "皖A12345", 0.97, gw.now(), "cam"))
        ).result(10)
        audited = stored(site, "SELECT action, at FROM audit WHERE action LIKE 'lane.%' ORDER BY id")
        upstream = [
            json.loads(str(body))
            for (body,) in stored(site, "SELECT payload FROM outbox WHERE topic = 'lane_action' ORDER BY seq")
        ]
        decided = stored(site, "SELECT at FROM access_log ORDER BY id")
    finally:
        gw.stop()
    assert [a for a, _ in audited] == ["lane.hold", "lane.release", "lane.open"]
    assert decided and all(str(at).startswith("2025-03-03") for (at,) in decided)
    assert all(str(at).startswith("2025-03-03") for _, at in audited), (
        f"lane records by hand are not dated by Gateway.now ({T.isoformat()}): {audited}"
    )
    assert [rec.get("at", "")[:10] for rec in upstream] == ["2025-03-03"] * 3, upstream


def test_the_decision_worker_decides_through_the_gateways_decide_batch(tmp_path: Path) -> None:
    """Before the split the worker loop called self.decide_batch on the gateway, so wrapping it (to
    count the batches of a group commit, or to slow one down) reached every presentation handed to
    gw.present(); DecisionWorker now keeps the bound method it was given when the gateway was built."""
    import threading

    site = start_site(make_config(tmp_path / "data"))
    gw = site.gw
    seen: list[int] = []
    done = threading.Event()
    real = gw.decide_batch

    def counting(jobs):  # type: ignore[no-untyped-def]
        seen.append(len(jobs))
        try:
            return real(jobs)
        finally:
            done.set()

    try:
        gw.decide_batch = counting  # type: ignore[method-assign]
        assert gw.present(Presented("door", "card", "0A1B2C3D4E", 1.0, gw.now(), "door-reader"))
        done.wait(5)
    finally:
        gw.stop()
    assert seen == [1], "the presentation was decided without going through Gateway.decide_batch"

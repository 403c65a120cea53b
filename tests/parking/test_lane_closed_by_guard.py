"""A lane closed by the central server or by a guard: the guard closes and reopens it from the
booth (POST /api/lanes/{lane}/close, /reopen), as the refusal to take a fee at a closed exit tells
the guard to (请先开放通道, docs/guard-app.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving

H = timedelta(hours=1)
PLATE = "苏E00001"


def _show(gw: Gateway, lane: str, at: datetime) -> AccessEvent:
    return gw.on_worker(lambda _: gw.handle(Presented(lane, "plate", PLATE, 0.97, at, "cam"))).result(10)


def test_guard_can_reopen_a_closed_exit_to_take_the_fee(make_gw: Callable[..., Gateway]) -> None:
    """The centre closed the exit for repairs; a stranger's car is at it. Taking its fee is refused
    with "reopen the lane, then take the fee": the guard must be able to do just that."""
    with serving(make_gw()) as (gw, client, auth):
        now = gw.now()
        _show(gw, "car-in", now - 3 * H)
        gw.by_hand.set_lane_mode("car-out", "closed", "central", "检修")
        assert _show(gw, "car-out", now - timedelta(seconds=20)).reason == "lane_closed"
        due = client.get("/api/parking/quote", headers=auth, params={"plate": PLATE}).json()["due_fen"]
        pay = {"plate": PLATE, "amount_fen": due, "method": "cash"}
        refused = client.post("/api/parking/lanes/car-out/pay", headers=auth, json=pay)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "exit_refused"

        r = client.post("/api/lanes/car-out/reopen", headers=auth, json={"reason": "收费放行"})
        assert r.status_code == 200, r.text
        assert r.json()["action"] == "reopen" and gw.by_hand.lane_modes == {}
        paid = client.post("/api/parking/lanes/car-out/pay", headers=auth, json=pay)
        assert paid.status_code == 200 and paid.json()["admitted"], paid.text


def test_guard_can_close_a_lane_with_the_records_the_centres_command_gives(
    make_gw: Callable[..., Gateway],
) -> None:
    """封闭管理: the guard closes the car entrance. Everyone at it is refused (lane_closed), the
    audit trail and the central server get the same `lane.close` record the centre's own
    set_lane_mode command gives, and a second press on another tablet is already done."""
    with serving(make_gw()) as (gw, client, auth):
        r = client.post("/api/lanes/car-in/close", headers=auth, json={"reason": "封闭管理"})
        assert r.status_code == 200, r.text
        assert r.json()["action"] == "close" and r.json()["reason"] == "封闭管理"
        assert _show(gw, "car-in", gw.now()).reason == "lane_closed"
        lanes = {lane["id"]: lane for lane in client.get("/api/lanes", headers=auth).json()}
        assert lanes["car-in"]["closed"] and not lanes["car-out"]["closed"]
        audit = gw.conn.execute("SELECT actor, target, detail FROM audit WHERE action = 'lane.close'")
        assert audit.fetchall() == [("token:booth", "car-in", "封闭管理")]
        (payload,) = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'lane_action'").fetchone()
        upstream = json.loads(payload)
        assert [upstream[k] for k in ("lane", "action", "actor", "reason")] == [
            "car-in",
            "close",
            "token:booth",
            "封闭管理",
        ]
        again = client.post("/api/lanes/car-in/close", headers=auth, json={"reason": "封闭管理"})
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_done"


def test_closing_or_reopening_an_unknown_or_open_lane_is_refused_with_what_to_do(
    make_gw: Callable[..., Gateway],
) -> None:
    """A lane id typed wrong is named with the lanes there are; a lane that is not closed has
    nothing to reopen (and a lane held open is not released by it)."""
    with serving(make_gw()) as (gw, client, auth):
        unknown = client.post("/api/lanes/moon/close", headers=auth, json={"reason": "x"})
        assert unknown.status_code == 404 and "car-in" in unknown.json()["error"]["fix"]
        not_closed = client.post("/api/lanes/car-out/reopen", headers=auth, json={"reason": "x"})
        assert not_closed.status_code == 409 and not_closed.json()["error"]["code"] == "already_done"
        assert gw.conn.execute("SELECT count(*) FROM audit WHERE action LIKE 'lane.%'").fetchone()[0] == 0

"""A lane the monitoring centre works by hand (its open_lane and set_lane_mode commands) is on the
guards' live pages as it happens, as a guard's own 开闸 is: until 2026-11-25 its row came only when
the page was reloaded, so the booth did not see that the centre had opened the door it watches."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx2

from tests.ui.conftest import Site, bearer


def _actions_pushed(live_url: str, site: Site, count: int, act: Callable[[], object]) -> list[dict[str, Any]]:
    """The first `count` lane actions the live stream pushes once `act` runs."""
    got: list[dict[str, Any]] = []
    connected = threading.Event()

    def listen() -> None:
        with httpx2.stream(
            "GET", f"{live_url}/api/live/stream", headers=bearer(site.guard_token), timeout=10
        ) as r:
            kind = ""
            for line in r.iter_lines():
                connected.set()
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "action":
                    got.append(json.loads(line[6:]))
                    if len(got) == count:
                        return

    listening = threading.Thread(target=listen, daemon=True)
    listening.start()
    assert connected.wait(5)
    act()
    listening.join(10)
    return got


def _audit_ids(site: Site, action: str) -> list[int]:
    sql = "SELECT id FROM audit WHERE action = ? ORDER BY id"
    rows = site.gw.on_worker(lambda conn: conn.execute(sql, (action,)).fetchall()).result(timeout=10)
    return [r[0] for r in rows]


def test_the_centre_s_opening_is_pushed_to_the_pages_at_once(live_url: str, site: Site) -> None:
    # As the centre's signed open_lane command runs it (gateway/sync/commands.py).
    opening = lambda: site.gw.by_hand.open_lane("door", "central:zhang.wei", "远程开门")  # noqa: E731
    [pushed] = _actions_pushed(live_url, site, 1, opening)
    assert pushed["lane"] == "door" and pushed["action"] == "open" and pushed["reason"] == "远程开门"
    assert pushed["by"] == "监控中心（zhang.wei）" and pushed["by_centre"] == "zhang.wei", pushed
    assert [pushed["audit_id"]] == _audit_ids(site, "lane.open")


def test_a_hold_let_down_by_the_centre_s_close_is_listed_too(live_url: str, site: Site) -> None:
    """A guard holds the door open; the centre closes the lane, which lets the hold down first: the
    pages list the release and the close as they happen, as a reload lists their audit rows."""
    site.gw.by_hand.hold_lane("door", "guard", "搬家")
    close = lambda: site.gw.by_hand.set_lane_mode("door", "closed", "central:zhang.wei", "夜间封闭")  # noqa: E731
    pushed = _actions_pushed(live_url, site, 2, close)
    assert [(a["action"], a["by_centre"]) for a in pushed] == [
        ("release", "zhang.wei"),
        ("close", "zhang.wei"),
    ]
    assert [a["audit_id"] for a in pushed] == _audit_ids(site, "lane.release") + _audit_ids(
        site, "lane.close"
    )

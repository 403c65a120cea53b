"""Lanes worked by hand as the live page lists them: live, after a reload, and after a dropped stream."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx2
from fastapi.testclient import TestClient

from tests.ui.conftest import CARD, Site, bearer, decided, stored


def _stream(
    live_url: str, site: Site, headers: dict[str, str], until: str, connected: threading.Event | None = None
) -> list[tuple[str, Any]]:
    """The stream's messages (kind, data) up to the first `until` one; `connected` is set at the first."""
    got: list[tuple[str, Any]] = []
    with httpx2.stream(
        "GET", f"{live_url}/api/live/stream", headers={**bearer(site.guard_token), **headers}, timeout=10
    ) as r:
        kind = ""
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                got.append((kind, json.loads(line[6:])))
                if connected is not None:
                    connected.set()
                if kind == until:
                    break
    return got


def test_a_reloaded_page_gets_the_lanes_opened_by_hand_among_the_decisions(
    client: TestClient, site: Site
) -> None:
    """The page asks for them (`actions=true`) and gets them in time order with the decisions,
    named as the stream named them; other API clients get the decisions as before."""
    guard = bearer(site.guard_token)
    before = decided(site, "door-reader", "card", CARD)
    r = client.post("/api/lanes/door/open", json={"reason": "业主未带卡"}, headers=guard)
    assert r.status_code == 200, r.text
    [(audit_id, at)] = stored(site, "SELECT id, at FROM audit WHERE action = 'lane.open'")
    shown = client.get("/api/live/recent?lane=door&actions=true", headers=guard).json()
    [opened] = [item for item in shown if "action" in item]
    assert opened == {
        "audit_id": audit_id,
        "key": f"door open {at}",  # what the page shows it once by, as the live message has it
        "at": opened["at"],
        "lane": "door",
        "action": "open",
        "by": "guard-bot",
        "reason": "业主未带卡",
    }
    assert [e["event_id"] for e in shown if "event_id" in e] == [before["event_id"]]
    plain = client.get("/api/live/recent?lane=door", headers=guard).json()
    assert [e["event_id"] for e in plain] == [before["event_id"]]


def test_a_page_that_reconnects_gets_the_lane_opened_by_hand_it_missed(live_url: str, site: Site) -> None:
    """The stream's replay after Last-Event-ID has the opening too, with the audit id the live
    message had, so a page that saw it before the drop does not list it twice."""
    last_seen = decided(site, "door-reader", "card", CARD)
    live: list[tuple[str, Any]] = []
    connected = threading.Event()
    listening = threading.Thread(
        target=lambda: live.extend(_stream(live_url, site, {}, "action", connected)), daemon=True
    )
    listening.start()
    assert connected.wait(5)
    r = httpx2.post(
        f"{live_url}/api/lanes/door/open", json={"reason": "断网期间开门"}, headers=bearer(site.admin_token)
    )
    assert r.status_code == 200, r.text
    listening.join(10)
    pushed = live[-1][1]
    assert live[-1][0] == "action" and pushed["reason"] == "断网期间开门" and pushed["audit_id"]
    replay = _stream(live_url, site, {"Last-Event-ID": str(last_seen["event_id"])}, "action")
    assert replay[-1] == ("action", {**replay[-1][1], "audit_id": pushed["audit_id"], "by": "admin-bot"})

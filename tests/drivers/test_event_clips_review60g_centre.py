"""REQUIREMENTS 7: the monitoring centre handles every alarm. A forced barrier's alarm tells the
centre to check the recording (请查看录像): its `raised` record names the clips the lane's camera
cut for it, the same the guard's alarm list links; a guard's opening by hand has its `lane_action`
record sent again with its clips once they are cut. Review 60g: no record the centre received
named a clip. A real MJPEG camera over HTTP, the gpio driver on mock pins, the real gateway and
SQLite (the fixture of test_event_clips_gateway.py)."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.drivers.conftest import gateways, mock_pins, open_alarms, query, wait_for  # noqa: F401
from tests.drivers.test_event_clips_gateway import CLIP_S, Lane, lane  # noqa: F401  (fixture)


def _records(running: Lane, topic: str) -> list[dict[str, Any]]:
    rows = query(running.gw, "SELECT payload FROM outbox WHERE topic = ? ORDER BY seq", topic)
    return [json.loads(p) for (p,) in rows]


def test_the_centre_is_told_which_clip_shows_the_forced_barrier(lane: Lane) -> None:  # noqa: F811
    time.sleep(CLIP_S)
    lane.contact.drive_low()
    wait_for(lambda: open_alarms(lane.gw, "forced_open") == ["car-in"], "the forced_open alarm")
    wait_for(lambda: lane.forced_open_clips()[0]["state"] == "saved", "the clip saved", 3 * CLIP_S + 5)
    (clip,) = lane.forced_open_clips()
    (raised,) = [r for r in _records(lane, "alarm") if r["kind"] == "forced_open"]
    assert "录像" in raised["message"]
    # the clip the guard's list links, as the booth's /api/snapshots serves it
    assert raised["clips"] == [{"file": clip["file"], "camera": "car-in-camera"}]
    assert lane.get("/api/" + raised["clips"][0]["file"]).headers["content-type"] == "video/webm"


def test_the_centre_is_told_which_clip_shows_an_opening_by_hand(lane: Lane) -> None:  # noqa: F811
    time.sleep(CLIP_S)
    r = lane.client.post("/api/lanes/car-in/open", json={"reason": "访客车辆"}, headers=lane.headers)
    assert r.status_code == 200, r.text
    (clip,) = wait_for(lambda: lane.get("/api/audit?action=lane.open").json()[0]["clips"], "the clip cut")
    opened, told = wait_for(
        lambda: (rows := _records(lane, "lane_action")) and len(rows) == 2 and rows, "the clips told"
    )
    assert opened["action"] == "open" and "clips" not in opened  # written before the relay moved
    # the same opening again, with what the guard's audit trail links
    assert told["change"] == "clips" and told["clips"] == [{"file": clip["file"], "camera": "car-in-camera"}]
    same = ("at", "lane", "action", "actor", "reason")
    assert {k: told[k] for k in same} == {k: opened[k] for k in same}
    assert told["event_id"] != opened["event_id"]

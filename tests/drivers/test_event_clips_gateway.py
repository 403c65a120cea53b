"""Event clips at the gateway: a barrier forced up, or opened by hand, has the lane's camera cut a
clip of the seconds around it, and the guard's alarm list, the audit trail and /clip find it.
A real MJPEG camera over HTTP, the gpio driver on gpiozero mock pins, the real gateway, API and
SQLite."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gpiozero.pins.mock import MockFactory, MockPin

from gateway.api.app import create_app
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_account
from tests.drivers.conftest import open_alarms, start_gateway, wait_for
from tests.drivers.mjpeg_feed import FeedCamera
from tests.drivers.test_contact_flap_fix48 import GPIO_IO
from tests.drivers.test_event_clips import frames_of
from tests.ui.conftest import GUARD, log_in, password_hash

CLIP_S = 2.0
GONE = "/clip/snapshots/2026-11-25/030000-000000+0800-clip-forced_open-car-in-car-in-camera.webm"


def camera(url: str, clips: bool = True) -> str:
    return f"""
[[devices]]
id = "car-in-camera"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "{url}"
plates = false
clips = {"true" if clips else "false"}
clip_seconds = {CLIP_S}
clip_fps = 5
"""


@dataclass
class Lane:
    gw: Gateway
    contact: MockPin  # GPIO 6: low is "arm up"
    client: TestClient
    headers: dict[str, str]

    def get(self, url: str) -> Any:
        r = self.client.get(url, headers=self.headers)
        assert r.status_code == 200, r.text
        return r

    def forced_open_clips(self) -> list[dict[str, str]]:
        alarms = self.get("/api/alarms").json()
        return [c for a in alarms if a["kind"] == "forced_open" for c in a["clips"]]


@contextmanager
def lane_with_camera(
    tmp_path: Path, gateways: Callable[[Gateway], Gateway], pins: MockFactory, clips: bool
) -> Iterator[Lane]:
    feed = FeedCamera()
    try:
        gw = gateways(start_gateway(tmp_path, GPIO_IO + camera(feed.url, clips)))
        wait_for(lambda: all(h.online for h in gw.devices.health), "the barrier contact and camera online")
        guard = password_hash(GUARD[1])
        gw.on_worker(
            lambda c: create_account(c, gw.now(), "test", GUARD[0], "张师傅", "guard", guard)
        ).result(10)
        with TestClient(create_app(gw)) as client:
            yield Lane(gw, pins.pin(6), client, log_in(client, GUARD))
    finally:
        feed.close()


@pytest.fixture
def lane(tmp_path: Path, mock_pins: MockFactory, gateways: Callable[[Gateway], Gateway]) -> Iterator[Lane]:
    with lane_with_camera(tmp_path, gateways, mock_pins, clips=True) as running:
        yield running


def test_a_forced_barrier_has_its_clip_on_the_alarm_list(lane: Lane) -> None:
    """The car-in barrier is forced up at night: the guard's alarm list says a clip is being saved,
    then links it, and it plays: the seconds before the forcing and after it."""
    time.sleep(CLIP_S)  # the camera has kept the seconds before
    lane.contact.drive_low()
    wait_for(lambda: open_alarms(lane.gw, "forced_open") == ["car-in"], "the forced_open alarm")
    (clip,) = lane.forced_open_clips()
    assert clip["camera"] == "car-in-camera" and clip["state"] == "recording"
    wait_for(lambda: lane.forced_open_clips()[0]["state"] == "saved", "the clip saved", 3 * CLIP_S + 5)
    name = clip["file"]
    video = lane.get("/api/" + name)  # served as snapshots are
    assert video.headers["content-type"] == "video/webm"
    path = lane.gw.data_dir / name
    assert path.read_bytes() == video.content
    assert 2 * CLIP_S * 5 - 4 <= len(frames_of(path)) <= 2 * CLIP_S * 5 + 2
    page = lane.get(f"/clip/{name}")
    assert f'src="/api/{name}"' in page.text and "强行开门" in page.text
    alarms = lane.get("/alarms")
    assert f'href="/clip/{name}?back=/alarms"' in alarms.text


def test_an_opening_by_hand_has_its_clip_on_the_audit_trail(lane: Lane) -> None:
    """A guard's 开闸 is on record with his reason; what he let through is on its clip."""
    r = lane.client.post("/api/lanes/car-in/open", json={"reason": "访客车辆"}, headers=lane.headers)
    assert r.status_code == 200, r.text
    rows = [row for row in lane.get("/api/audit?action=lane.open").json()]
    (clip,) = rows[0]["clips"]
    assert clip["state"] == "recording"
    wait_for(
        lambda: lane.get("/api/audit?action=lane.open").json()[0]["clips"][0]["state"] == "saved",
        "the opening's clip saved",
        3 * CLIP_S + 5,
    )
    audit = lane.get("/audit")
    assert f'href="/clip/{clip["file"]}?back=/audit"' in audit.text
    page = lane.get(f"/clip/{clip['file']}?back=/audit%3Faction%3Dlane.open")
    assert "手动开闸" in page.text and 'href="/audit?action=lane.open"' in page.text
    elsewhere = lane.get(f"/clip/{clip['file']}?back=https://example.com/alarms")
    assert 'href="/alarms"' in elsewhere.text  # never another site's page


def test_a_clip_page_for_a_name_that_is_no_clip_is_not_found(lane: Lane) -> None:
    r = lane.client.get("/clip/snapshots/../../site.toml", headers=lane.headers)
    assert r.status_code == 404
    with TestClient(create_app(lane.gw)) as stranger:  # signed in only
        r = stranger.get(GONE)
        assert 'name="password"' in r.text and "<video" not in r.text
    gone = lane.get(GONE)
    assert "录像已超过保存期" in gone.text and "<video" not in gone.text


def test_a_camera_set_to_keep_no_clips_cuts_none(
    tmp_path: Path, mock_pins: MockFactory, gateways: Callable[[Gateway], Gateway]
) -> None:
    with lane_with_camera(tmp_path, gateways, mock_pins, clips=False) as lane:
        lane.contact.drive_low()
        wait_for(lambda: open_alarms(lane.gw, "forced_open") == ["car-in"], "the forced_open alarm")
        assert lane.forced_open_clips() == [] and lane.gw.clips is None


def test_retention_deletes_a_clip_past_the_week_and_keeps_this_weeks(lane: Lane) -> None:
    """Clips are footage: kept `retention.snapshots_days` (7), then deleted with the snapshots."""
    day = lane.gw.data_dir / "snapshots" / "2026-11-01"
    day.mkdir(parents=True)
    old, new = (
        day / "030000-000000+0800-clip-forced_open-car-in-car-in-camera.webm",
        day / "040000-clip-open-car-in-car-in-camera.webm",
    )
    for clip in (old, new):
        clip.write_bytes(b"\x1a\x45\xdf\xa3 clip")
    eight_days_ago = time.time() - 8 * 86400
    os.utime(old, (eight_days_ago, eight_days_ago))
    lane.gw.operations.retention(lane.gw.now())
    assert not old.exists() and new.exists()

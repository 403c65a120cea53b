"""The guard watches a forced barrier's clip in a real Chromium: 报警 lists the alarm with 录像, and
the clip page plays the WebM (its frames decoded, seconds long). A real MJPEG camera, the gpio
driver on gpiozero mock pins, the real gateway on a real socket."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import pytest

from gateway.api.app import create_app
from tests.drivers.conftest import open_alarms, wait_for
from tests.drivers.test_event_clips_gateway import CLIP_S, Lane, lane  # noqa: F401  (lane: a fixture)
from tests.ui.conftest import LiveServer

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402  (after the skip)

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)


def test_the_guard_plays_a_forced_barriers_clip_from_the_alarm_list(
    lane: Lane,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    time.sleep(CLIP_S)
    lane.contact.drive_low()  # forced up
    wait_for(lambda: open_alarms(lane.gw, "forced_open") == ["car-in"], "the forced_open alarm")
    wait_for(lambda: lane.forced_open_clips()[0]["state"] == "saved", "the clip saved", 3 * CLIP_S + 5)
    with LiveServer(create_app(lane.gw)) as url:
        page = page_at(browser, url, LANDSCAPE)
        page.goto(f"{url}/alarms")
        row = page.locator("#alarm-list tr", has_text="强行开门")
        with page.expect_navigation():
            row.get_by_role("link", name="录像").click()
        expect(page.locator("#clip h1")).to_contain_text("强行开门")
        video = page.locator("#clip-video")
        decoded = partial(video.evaluate, "v => v.readyState >= 2")
        wait_for(decoded, "the clip's frames decoded", 15)
        assert video.evaluate("v => v.videoWidth") == 160  # the camera's own 160x120 frames
        assert video.evaluate("v => v.duration") >= CLIP_S
        assert page.errors == []  # type: ignore[attr-defined]

"""Review 58i: the event clip page's 返回 Back is a bare /alarms or /audit (clip.html), so it drops
what the guard was looking at. Under 显示全部 Show all he opens the clip of a forced barrier closed
and acknowledged (docs/guard-app.md: "A closed one acknowledged there (a forced barrier seen
afterwards on the recording)"), presses 返回 and lands on the open alarms only: the alarm he was
checking is gone from the list. From the audit trail filtered to 手动开闸 (lane.open), 返回 comes
back unfiltered. A booth tablet in kiosk mode has no browser Back: 返回 is his way back."""

from __future__ import annotations

import time
from typing import Any

from gateway.api.app import create_app
from tests.drivers.conftest import open_alarms, wait_for
from tests.drivers.test_event_clips_gateway import CLIP_S, Lane, lane  # noqa: F401  (lane: a fixture)
from tests.ui.conftest import LiveServer
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark  # noqa: F401


def test_back_from_a_closed_alarms_clip_keeps_show_all(
    lane: Lane,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    time.sleep(CLIP_S)
    lane.contact.drive_low()  # forced up at night
    wait_for(lambda: open_alarms(lane.gw, "forced_open") == ["car-in"], "the forced_open alarm")
    lane.contact.drive_high()  # let down again
    wait_for(lambda: open_alarms(lane.gw, "forced_open") == [], "the barrier down again")
    (alarm,) = [a for a in lane.get("/api/alarms").json() if a["kind"] == "forced_open"]
    r = lane.client.post(f"/api/alarms/{alarm['id']}/acknowledge", json={}, headers=lane.headers)
    assert r.status_code == 200, r.text  # closed: listed under Show all only
    wait_for(lambda: lane.get("/api/alarms?all=true").json()[0]["clips"][0]["state"] == "saved",
             "the clip saved", 3 * CLIP_S + 5)  # fmt: skip
    with LiveServer(create_app(lane.gw)) as url:
        page = page_at(browser, url, LANDSCAPE)
        page.goto(f"{url}/alarms")
        page.get_by_role("link", name="显示全部").click()
        row = page.locator(f"#alarm-list tr[data-alarm='{alarm['id']}']")
        with page.expect_navigation():
            row.get_by_role("link", name="录像").click()
        with page.expect_navigation():
            page.get_by_role("link", name="返回").click()
        assert page.locator(f"#alarm-list tr[data-alarm='{alarm['id']}']").count() == 1, (
            f"返回 from the clip went to {page.url}: the closed alarm he was checking is not listed"
        )


def test_back_from_an_openings_clip_keeps_the_audit_filter(
    lane: Lane,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    r = lane.client.post("/api/lanes/car-in/open", json={"reason": "访客车辆"}, headers=lane.headers)
    assert r.status_code == 200, r.text
    wait_for(lambda: lane.get("/api/audit?action=lane.open").json()[0]["clips"][0]["state"] == "saved",
             "the opening's clip saved", 3 * CLIP_S + 5)  # fmt: skip
    with LiveServer(create_app(lane.gw)) as url:
        page = page_at(browser, url, LANDSCAPE)
        page.goto(f"{url}/audit?action=lane.open")
        with page.expect_navigation():
            page.locator("#audit-list").get_by_role("link", name="录像").click()
        with page.expect_navigation():
            page.get_by_role("link", name="返回").click()
        assert "action=lane.open" in page.url and page.input_value("input[name=action]") == "lane.open", (
            f"返回 from the clip went to {page.url}: the audit trail's filter is gone"
        )

"""A guard closes a lane and reopens it from the live page, in a real Chromium."""

from __future__ import annotations

import sqlite3

from tests.ui.conftest import GUARD, Site
from tests.ui.test_guard_browser import (  # noqa: F401  (fixtures, and the skip without chromium)
    PORTRAIT,
    browser,
    browser_site,
    page_at,
    pytestmark,
)


def test_a_guard_closes_and_reopens_a_lane_from_its_panel(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """Taking a fee at an exit the centre closed says 请先开放通道 (reopen the lane first): the
    lane's panel offers 关闭通道 and, once closed, 开放通道, each asking why, and says it is closed.
    The exit has no barrier relay (no 开闸 there), and is closed and reopened all the same."""
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    assert page.is_hidden("#lane-car-out [data-lane-mode=reopen]")
    page.click("#lane-car-out [data-lane-mode=close]")
    page.wait_for_selector("#reason-dialog[open]")
    page.fill("#reason-input", "检修道闸")
    page.click("#reason-ok")
    page.wait_for_selector("#toast >> text=已执行")
    page.wait_for_selector("#lane-car-out [data-status] >> text=通道已关闭")
    page.wait_for_selector("#lane-car-out [data-recent] li.manual >> text=检修道闸")
    assert page.is_hidden("#lane-car-out [data-lane-mode=close]")
    assert site.gw.by_hand.lane_modes == {"car-out": "closed"}

    page.click("#lane-car-out [data-lane-mode=reopen]")
    page.wait_for_selector("#reason-dialog[open]")
    page.fill("#reason-input", "收费放行")
    page.click("#reason-ok")
    page.wait_for_selector("#lane-car-out [data-lane-mode=close]", state="visible")
    assert site.gw.by_hand.lane_modes == {}
    with sqlite3.connect(site.gw.db_path) as conn:
        done = conn.execute(
            "SELECT action, actor, detail FROM audit WHERE target = 'car-out' AND action LIKE 'lane.%'"
        ).fetchall()
    assert done == [("lane.close", GUARD[0], "检修道闸"), ("lane.reopen", GUARD[0], "收费放行")]
    assert page.errors == []

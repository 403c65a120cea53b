"""The 车位 Occupancy page in a real Chromium: an admin records a car found inside (登记场内车辆), it
is listed by hand and counted at once, a guard sees it without the admin's buttons, and the admin
marks it as left (已离场), asking why (docs/guard-app.md, docs/parking.md Cars already inside)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests.ui.conftest import ADMIN, Site, script_errors, stored

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402  (after the skip)

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)

PLATE = "苏E12345"


def cars_inside(page: Any) -> str:
    """The 场内 count of cars on the page's occupancy table."""
    row = page.locator("#occupancy tbody tr", has_text="汽车")
    return str(row.locator("td").nth(4).inner_text())


def test_an_admin_records_a_car_inside_and_marks_it_left(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    came_in = (site.gw.now() - timedelta(hours=3)).astimezone(site.gw.site.tz)
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/occupancy")
    expect(page.locator("#no-cars")).to_be_visible()
    assert cars_inside(page) == "0"

    form = page.locator("#record-inside-form")
    form.locator("input[name=plate]").fill("苏e 12345")  # as typed at the office
    form.locator("input[name=entered_at]").fill(came_in.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=reason]").fill("入口摄像机故障时进入")
    with page.expect_navigation(wait_until="load"):
        form.get_by_role("button", name="登记场内车辆").click()

    row = page.locator("#cars-list tr", has_text=PLATE)
    expect(row).to_contain_text("手工登记")
    expect(row).to_contain_text(came_in.strftime("%Y-%m-%d %H:%M"))
    expect(row).to_contain_text("临时")
    assert cars_inside(page) == "1"
    stay_id = stored(site, "SELECT id FROM stays WHERE plate = ? AND exited_at IS NULL", PLATE)[0][0]
    assert stored(site, "SELECT actor FROM audit WHERE action = 'stay.record'") == [("admin",)]

    # Found by a piece of its plate; a guard sees the list, not the admin's buttons.
    guard = page_at(browser, url, LANDSCAPE)
    guard.goto(f"{url}/occupancy?plate=e123")
    expect(guard.locator("#cars-list tr", has_text=PLATE)).to_contain_text("手工登记")
    assert guard.locator("#record-inside-form").count() == 0
    assert guard.get_by_role("button", name="标记离场").count() == 0

    row.get_by_role("button", name="标记离场").click()
    expect(page.locator("#reason-dialog")).to_be_visible()
    page.locator("#reason-input").fill("车已离场，出口摄像机故障")
    with page.expect_navigation(wait_until="load"):
        page.locator("#reason-ok").click()
    expect(page.locator("#cars-list tr", has_text=PLATE)).to_have_count(0)
    assert cars_inside(page) == "0"
    closed = stored(site, "SELECT closed_by FROM stays WHERE id = ?", stay_id)
    assert closed == [("admin",)]
    audit = stored(site, "SELECT detail FROM audit WHERE action = 'stay.close'")
    assert [d for (d,) in audit] == [f"{PLATE}: 车已离场，出口摄像机故障"]
    assert script_errors(page) == [] and script_errors(guard) == []
    assert re.search(r"/occupancy$", page.url)

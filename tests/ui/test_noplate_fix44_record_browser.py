"""The 车位 page's 登记场内车辆 in a real Chromium, for a car with no plate found parked: the admin
types 无牌车, and the page shows the car found by the ticket the gateway gave it, to write on its
paper ticket; a ticket typed is refused, saying how to record such a car (docs/parking.md, Cars
already inside)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import unquote

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


def test_an_admin_records_a_car_with_no_plate_and_sees_its_ticket(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    came_in = (site.gw.now() - timedelta(hours=3)).astimezone(site.gw.site.tz)
    ticket = f"无牌-{came_in:%m%d}-01"
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/occupancy")
    form = page.locator("#record-inside-form")

    # The number the guard wrote on the paper when he opened by hand: refused, saying what to type.
    form.locator("input[name=plate]").fill(ticket)
    form.locator("input[name=entered_at]").fill(came_in.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=reason]").fill("平板故障时人工放行")
    form.get_by_role("button", name="登记场内车辆").click()
    expect(page.locator("#toast.bad")).to_contain_text("无牌车")
    assert stored(site, "SELECT count(*) FROM stays") == [(0,)]

    form.locator("input[name=plate]").fill("无牌车")
    with page.expect_navigation(wait_until="load"):
        form.get_by_role("button", name="登记场内车辆").click()
    assert stored(site, "SELECT plate FROM stays WHERE exited_at IS NULL") == [(ticket,)]
    # Shown found by its ticket, the number the admin writes on the car's paper ticket.
    assert unquote(page.url).endswith(f"/occupancy?plate={ticket}"), page.url
    expect(page.locator("#cars-find input[name=plate]")).to_have_value(ticket)
    row = page.locator("#cars-list tr", has_text=ticket)
    expect(row).to_have_count(1)
    expect(row.locator("[data-no-plate]")).to_have_text("无牌车")
    expect(row).to_contain_text("手工登记")
    assert script_errors(page) == []

"""The 车位 page's 登记场内车辆 for a car with no plate, its answer lost on the Wi-Fi and the admin's
登记 tapped again, in the real Chromium."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from playwright.sync_api import expect

from tests.ui.conftest import ADMIN, Site, stored
from tests.ui.test_guard_browser import (  # noqa: F401  (fixtures, and the skip without chromium)
    PORTRAIT,
    browser,
    browser_site,
    page_at,
    pytestmark,
)


def test_a_car_with_no_plate_recorded_again_after_a_lost_answer_gets_one_ticket(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The admin records a car found parked with no plate (无牌车) and the answer is lost; the page
    says 网关没有回应 and keeps the form, and he taps 登记场内车辆 again: the page sends the same
    Idempotency-Key, yet the gateway gave the one car a second ticket and a second stay (two cars
    counted inside, one never leaving). The retry is answered the ticket already given, and the page
    goes on to it as after the first."""
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT, who=ADMIN)
    page.goto(f"{url}/occupancy", wait_until="load")
    keys: list[str] = []

    def first_answer_lost(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) == 1:  # reaches the gateway; its answer never comes back
            route.fetch()
            route.abort()
        else:
            route.continue_()

    page.route("**/api/parking/stays", first_answer_lost)
    page.fill("#record-inside-form [name=plate]", "无牌车")
    page.fill("#record-inside-form [name=reason]", "摄像机故障时进场")
    page.click("#record-inside-form [type=submit]")
    expect(page.locator("#toast")).to_contain_text("网关没有回应")
    with page.expect_navigation(wait_until="load"):
        page.click("#record-inside-form [type=submit]")  # tapped again, the form as it was
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1], keys  # the page sent its key both times
    tickets = stored(site, "SELECT plate FROM stays WHERE exited_at IS NULL AND plate LIKE '无牌%'")
    assert len(tickets) == 1, f"one car with no plate, tickets given: {tickets}"
    assert unquote(page.url).endswith(f"/occupancy?plate={tickets[0][0]}"), page.url  # the ticket shown
    page.context.close()

"""车位 › 登记场内车辆 with the number off a paper ticket typed as the plate (ticket_typed)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.ui.conftest import ADMIN, Site, stored
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark  # noqa: F401
from tests.ui.words_helpers import bad_toast, english_in, own_site  # noqa: F401


def test_a_ticket_typed_when_recording_a_car_inside_is_refused_in_chinese(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The admin typing a paper ticket's number as the plate is told in English, with the API's
    field name `no_plate: true`, what to do (the pages have no err.ticket_typed); the Chinese page
    should say in Chinese to type 无牌车 as the plate, naming no field of the API."""
    site, url = own_site
    came_in = (site.gw.now() - timedelta(hours=3)).astimezone(site.gw.site.tz)
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/occupancy")
    form = page.locator("#record-inside-form")
    form.locator("input[name=plate]").fill(f"无牌-{came_in:%m%d}-01")
    form.locator("input[name=entered_at]").fill(came_in.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=reason]").fill("平板故障时人工放行")
    form.locator("button[type=submit]").click()
    told = bad_toast(page)
    assert stored(site, "SELECT count(*) FROM stays") == [(0,)]
    assert "no_plate" not in told and english_in(told) == [], f"the Chinese page says: {told}"

"""车位 › 登记场内车辆 for a car seen leaving after the entry time typed (left_since)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx2

from gateway.core import Presented
from tests.ui.conftest import ADMIN, PLATE, Site, bearer, stored
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark  # noqa: F401
from tests.ui.words_helpers import bad_toast, own_site  # noqa: F401


def test_a_car_seen_leaving_since_is_told_when_it_left(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """Recorded inside from 4 hours ago, a car the exit let out 2 hours ago is refused with
    "请填写之后的入场时间" and no time: the admin cannot tell which entry time would be taken. The
    gateway's answer names the exit's time (HH:MM); the page should show it too."""
    site, url = own_site
    tz = site.gw.site.tz
    now = site.gw.now()
    left = (now - timedelta(hours=2)).astimezone(tz)
    site.gw.present(Presented("car-in", "plate", PLATE, 0.99, now - timedelta(hours=3), "cam"))
    site.gw.present(Presented("car-out", "plate", PLATE, 0.99, left, "cam"))
    for _ in range(50):
        if stored(site, "SELECT count(*) FROM stays WHERE exited_at IS NOT NULL") == [(1,)]:
            break
        time.sleep(0.1)
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/occupancy")
    form = page.locator("#record-inside-form")
    form.locator("input[name=plate]").fill(PLATE)
    entered = (now - timedelta(hours=4)).astimezone(tz)
    form.locator("input[name=entered_at]").fill(entered.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=reason]").fill("补录入场记录")
    form.locator("button[type=submit]").click()
    told = bad_toast(page)
    assert "离场" in told, told  # the left_since refusal
    assert f"{left:%H:%M}" in told, f"the page does not say when the car left ({left:%H:%M}): {told}"


def test_the_answer_carries_when_the_car_left(own_site: tuple[Site, str]) -> None:  # noqa: F811
    """409 `left_since` carries the exit's time as data (`left_at`, in the site's time, as the API
    gives times), which the pages fill into their words."""
    site, url = own_site
    tz = site.gw.site.tz
    now = site.gw.now()
    left = (now - timedelta(hours=2)).astimezone(tz).replace(microsecond=0)
    site.gw.present(Presented("car-in", "plate", PLATE, 0.99, now - timedelta(hours=3), "cam"))
    site.gw.present(Presented("car-out", "plate", PLATE, 0.99, left, "cam"))
    for _ in range(50):
        if stored(site, "SELECT count(*) FROM stays WHERE exited_at IS NOT NULL") == [(1,)]:
            break
        time.sleep(0.1)
    entered = (now - timedelta(hours=4)).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    refused = httpx2.post(
        f"{url}/api/parking/stays",
        json={"plate": PLATE, "entered_at": entered, "reason": "补录入场记录"},
        headers=bearer(site.admin_token),
    )
    error = refused.json()["error"]
    assert (refused.status_code, error["code"]) == (409, "left_since"), refused.text
    assert error["left_at"] == left.isoformat(timespec="seconds"), error

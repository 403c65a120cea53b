"""A resident pays for another year of their monthly car at the office: the admin renews it on the
lookup page, in a real Chromium, and the car keeps its plate, cards and slot; a guard gets no such
form."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from tests.ui.conftest import ADMIN, PLATE, Site, script_errors, stored

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402  (after the skip)

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)


def test_an_admin_renews_a_monthly_car_on_the_lookup_page(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/lookup?q={PLATE}")
    vehicle = page.locator("li", has=page.locator("span.plate-text", has_text=PLATE))
    vehicle.locator("input[name=monthly_until]").fill("2027-12-31")
    with page.expect_navigation(wait_until="load"):
        vehicle.get_by_role("button", name="续期").click()

    expect(page.locator("li", has_text=PLATE).first).to_contain_text(re.compile(r"→ 2027-12-31"))
    # The whole last day is paid for: stored as the next day's 00:00 in site time, as the API and an
    # import store a bare last day (once 23:59:59, so a car leaving at 00:30 paid from then).
    car = site.vehicle_id
    end = datetime.fromisoformat(stored(site, "SELECT monthly_until FROM vehicles WHERE id = ?", car)[0][0])
    assert end == datetime(2028, 1, 1, tzinfo=site.gw.site.tz)
    assert stored(site, "SELECT count(*) FROM slot_vehicles WHERE vehicle_id = ?", car) == [(1,)]  # kept
    audit = stored(site, "SELECT actor, target FROM audit WHERE action = 'vehicle.update'")
    assert audit == [("admin", f"vehicle:{site.vehicle_id}")]
    assert page.errors == []


def test_a_guard_sees_the_monthly_period_but_cannot_renew_it(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    page.goto(f"{url}/lookup?q={PLATE}")
    expect(page.locator("li span.plate-text", has_text=PLATE)).to_be_visible()
    assert page.locator("form.renew").count() == 0


def test_renewing_to_the_day_the_period_ends_already_says_nothing_was_changed(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """续期 pressed again on the form as it is pre-filled (the day the period ends already) changes
    nothing and is refused 422 nothing_to_change: the admin is told so in Chinese, not shown the
    gateway's English message, and nothing more is audited."""
    site, url = browser_site  # the module's site: another test may have renewed the car already
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/lookup?q={PLATE}")
    vehicle = page.locator("li", has=page.locator("span.plate-text", has_text=PLATE))
    vehicle.locator("input[name=monthly_until]").fill("2028-06-30")
    with page.expect_navigation(wait_until="load"):
        vehicle.get_by_role("button", name="续期").click()
    vehicle = page.locator("li", has=page.locator("span.plate-text", has_text=PLATE))
    updates = stored(site, "SELECT count(*) FROM audit WHERE action = 'vehicle.update'")
    vehicle.locator("input[name=monthly_until]").fill("2028-06-30")
    vehicle.get_by_role("button", name="续期").click()

    expect(page.locator("body")).to_contain_text("没有修改")
    assert stored(site, "SELECT count(*) FROM audit WHERE action = 'vehicle.update'") == updates
    assert script_errors(page) == []

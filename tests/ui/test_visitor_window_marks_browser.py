"""The visitor form in a real browser on a closed-management evening: the required-field marks (*)
and the closed-management notice follow the window the guard types, as the gateway will judge the
registration, not only the default window starting now."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.api.app import create_app
from gateway.config.models import ClosedManagement
from tests.ui.conftest import LiveServer, Site
from tests.ui.test_guard_visitor_edges import TZ, closed_site

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402  (after the skip)

from tests.ui.test_guard_browser import (  # noqa: E402
    PORTRAIT,
    browser,  # noqa: F401  (fixture)
    open_page,
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)

CLOSED_FIELDS = ("#f-phone", "#f-id", "#f-building", "#f-unit", "#f-destination", "#f-reason")
NOTICE = "封闭管理期间：请登记全部必填项"


@pytest.fixture
def evening(tmp_path: Path) -> Iterator[tuple[Site, str, date]]:
    """Closed management 07:00-21:00 for three days from ten days ahead; it is 21:30 on the first."""
    day = datetime.now(TZ).date() + timedelta(days=10)
    site = closed_site(
        tmp_path, ClosedManagement(first_day=day, last_day=day + timedelta(days=2), hours=["07:00-21:00"])
    )
    at = datetime.combine(day, time(21, 30), TZ)
    site.gw.now = lambda: at  # type: ignore[method-assign]
    try:
        with LiveServer(create_app(site.gw)) as url:
            yield site, url, day
    finally:
        site.gw.stop()


def _type_window(page: Any, start: datetime, end: datetime) -> None:
    page.fill("input[name=valid_from]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=valid_to]", end.strftime("%Y-%m-%dT%H:%M"))


def _marked(page: Any, field: str) -> Any:
    return expect(page.locator(f"label:has({field})"))


def test_a_visit_typed_in_for_tomorrow_morning_marks_what_closed_management_needs(
    evening: tuple[Site, str, date],
    browser: Any,  # noqa: F811
) -> None:
    """At 21:30 the form opens with nothing marked (the default pass, to 01:30, has no closed
    hours). The guard types 09:00-11:00 tomorrow, inside the 07:00-21:00 hours: phone, ID number,
    host, destination and reason get their * and the notice shows, before the gateway would refuse
    the registration; typed back to 21:30-23:30 tonight, they are not asked for again."""
    _, url, day = evening
    page = page_at(browser, url, PORTRAIT)
    open_page(page, "visitors")
    expect(page.locator("#f-phone")).to_have_js_property("required", False)
    expect(page.get_by_text(NOTICE)).to_have_count(0)

    tomorrow = datetime.combine(day + timedelta(days=1), time(9), TZ)
    _type_window(page, tomorrow, tomorrow + timedelta(hours=2))
    for field in CLOSED_FIELDS:
        expect(page.locator(field)).to_have_js_property("required", True)
        _marked(page, field).to_contain_text("*")
    expect(page.get_by_text(NOTICE)).to_be_visible()

    tonight = datetime.combine(day, time(21, 30), TZ)
    _type_window(page, tonight, tonight + timedelta(hours=2))
    for field in CLOSED_FIELDS:
        expect(page.locator(field)).to_have_js_property("required", False)
        _marked(page, field).not_to_contain_text("*")
    expect(page.get_by_text(NOTICE)).to_be_hidden()
    assert page.errors == []


def _row_marked(page: Any, row: int, field: str) -> Any:
    return expect(page.locator("[data-occupant-row]").nth(row).locator(f"label:has([data-field={field}])"))


def test_each_person_in_the_car_is_marked_for_their_id_number_and_phone(
    evening: tuple[Site, str, date],
    browser: Any,  # noqa: F811
) -> None:
    """Review 65 D1: where the window takes in closed hours, each row of the people in the vehicle
    gets its ID number and phone marked * and required, as the visitor's own are: the rows there are
    when the window is typed, and those added after; 添加访客本人 copies the visitor's numbers into
    them. Typed back out of the closed hours, no row asks for them."""
    _, url, day = evening
    page = page_at(browser, url, PORTRAIT)
    open_page(page, "visitors")
    page.click("#occupant-add")  # the driver, before the window is typed
    _row_marked(page, 0, "id_number").not_to_contain_text("*")

    tomorrow = datetime.combine(day + timedelta(days=1), time(9), TZ)
    _type_window(page, tomorrow, tomorrow + timedelta(hours=2))
    page.fill("#f-name", "王五")
    page.fill("#f-phone", "13800138000")
    page.fill("#f-id", "11010519491231002X")
    page.click("#occupant-add-visitor")
    page.click("#occupant-add")
    rows = page.locator("[data-occupant-row]")
    for row in range(3):
        for field in ("id_number", "phone"):
            expect(rows.nth(row).locator(f"[data-field={field}]")).to_have_js_property("required", True)
            _row_marked(page, row, field).to_contain_text("*")
    expect(rows.nth(1).locator("[data-field=id_number]")).to_have_value("11010519491231002X")
    expect(rows.nth(1).locator("[data-field=phone]")).to_have_value("13800138000")

    tonight = datetime.combine(day, time(21, 30), TZ)
    _type_window(page, tonight, tonight + timedelta(hours=2))
    page.click("#occupant-add")
    for row in range(4):
        for field in ("id_number", "phone"):
            expect(rows.nth(row).locator(f"[data-field={field}]")).to_have_js_property("required", False)
            _row_marked(page, row, field).not_to_contain_text("*")
    assert page.errors == []

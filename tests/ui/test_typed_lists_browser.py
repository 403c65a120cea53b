"""The visitor form and the plate dialog on a real headless Chromium, typed as a guard's Chinese
keyboard types (review s43_ime): a list separated as Chinese lists are, a plate's mistake said."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from tests.ui.conftest import ADMIN, Site, stored

pytest.importorskip("playwright.sync_api")

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    open_page,
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)


def test_visitor_plate_typed_with_letter_o_says_plates_have_no_o(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The guard copies the visitor's plate 苏E8888O from the car, the last character the letter O
    for the digit 0 (on the plate they look alike). 登记 answers only 以下项目填写有误： 车牌（驾车时）;
    the field shows what is on the car, and nothing says what is wrong, so the visitor waits while
    he retypes the same thing. The plate dialog and the admin page say a plate has no I or O
    (err.invalid_plate, docs/guard-app.md "the page says 车牌格式不对 and that plates have no I or
    O"); the visitor form must say it too (the gateway's own message names the plate)."""
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "visitors")
    page.fill("#f-name", "李四")
    page.fill("#f-building", "3栋")
    page.fill("#f-unit", "2单元")
    page.focus("#f-plate")
    page.keyboard.insert_text("苏E8888O")  # as the tablet's keyboard commits it
    page.click("#visitor-submit")
    toast = page.locator("#toast.bad")
    toast.wait_for()
    text = toast.inner_text()
    assert stored(site, "SELECT count(*) FROM passes WHERE name = '李四'") == [(0,)]
    assert "O" in text or "格式" in text, text


def test_contractor_hours_listed_with_chinese_enumeration_comma_are_taken(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The admin issues a renovation crew's pass at the tablet: work 08:00-12:00 and 14:00-18:00,
    typed as Chinese lists are written, with the enumeration comma 、 (the key a Chinese keyboard
    gives for '\\'): 08:00-12:00、14:00-18:00. The page splits windows on ; ； , ， but not 、, sends
    one window '08:00-12:00、14:00-18:00', and the pass is refused (以下项目填写有误). It should be
    issued with the two windows, as with ，."""
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/contractors")
    form = page.locator("#contractor-form")
    form.locator('[name="name"]').fill("赵六")
    form.locator('[name="host_building"]').fill("3栋")
    form.locator('[name="host_unit"]').fill("2单元")
    form.locator('[name="company"]').fill("好家装修")
    form.locator('[name="valid_to"]').fill((site.gw.now() + timedelta(days=30)).date().isoformat())
    form.locator('[name="hours"]').focus()
    page.keyboard.insert_text("08:00-12:00、14:00-18:00")
    form.locator("[type=submit]").click()
    try:
        page.wait_for_url(re.compile(r"/passes/\d+$"), timeout=5000)
    except Exception:  # noqa: BLE001  (refused: the toast says why)
        pytest.fail("not issued: " + page.inner_text("#toast"))
    assert stored(site, "SELECT hours FROM passes WHERE name = '赵六'") == [("08:00-12:00,14:00-18:00",)]

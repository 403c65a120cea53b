"""The visitor form's people-in-the-vehicle rows, in a real headless Chromium (REQUIREMENTS 9)."""

from __future__ import annotations

import re
import sqlite3

import pytest

from tests.ui.conftest import Site

pytest.importorskip("playwright.sync_api")

from tests.ui.test_guard_browser import (  # noqa: E402  (after the skip)
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    open_page,
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
    shot,
)


def test_a_guard_lists_the_driver_and_a_passenger_of_a_visitors_car(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "visitors")
    page.fill("#f-name", "李四")
    page.fill("#f-phone", "13800138000")
    page.fill("#f-building", "3栋")
    page.fill("#f-unit", "2单元")
    page.fill("#f-plate", "苏E77777")
    page.select_option("#f-vehicle-class", "motorcycle")
    page.click("#occupant-add")
    rows = page.locator("[data-occupant-row]")
    rows.nth(0).locator('[data-field="name"]').fill("王驾驶")
    rows.nth(0).locator('[data-field="id_number"]').fill("110101199003077774")
    page.click("#occupant-add-visitor")  # the visitor rides along: copied from the form
    page.click("#occupant-add")
    assert rows.count() == 3 and page.input_value("#f-passengers") == "3"
    assert rows.nth(1).locator('[data-field="name"]').input_value() == "李四"
    assert rows.nth(0).locator(".occupant-role").inner_text().startswith("驾驶人")
    rows.nth(2).locator("[data-occupant-remove]").click()
    assert rows.count() == 2 and page.input_value("#f-passengers") == "2"
    shot(page, "visitor-occupants")
    page.click("#visitor-submit")
    page.wait_for_url(re.compile(r"/passes/\d+$"))
    listed = page.inner_text("#pass-occupants")
    assert "王**" in listed and "**7774" in listed and "李*" in listed and "138****8000" in listed
    assert "王驾驶" not in page.content() and "110101199003077774" not in page.content()
    assert page.inner_text("#pass-vehicle-class") == "摩托车"
    pass_id = int(page.url.rsplit("/", 1)[1])
    with sqlite3.connect(site.gw.db_path) as conn:
        people = conn.execute(
            "SELECT position, name, id_masked FROM pass_people WHERE pass_id = ? ORDER BY position",
            (pass_id,),
        ).fetchall()
        vclass = conn.execute("SELECT vehicle_class FROM passes WHERE id = ?", (pass_id,)).fetchone()[0]
    assert people == [(0, "王驾驶", "**************7774"), (1, "李四", "")] and vclass == "motorcycle"
    assert page.errors == []

"""Plates typed on the guard and admin pages in a real Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import ADMIN, Site, script_errors, stored

pytest.importorskip("playwright.sync_api")

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)


def test_province_key_after_full_width_typing_keeps_the_office_letter(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The guard's tablet input method is in full-width mode (全角), which docs/plates.md's
    normalize() and docs/guard-app.md accept ("letters, digits typed full-width count as their
    ASCII selves"). At 输入车牌 he types the plate's letters and digits, here Ｅ５Ｂ１２３, then
    taps 苏 on the province keyboard. The keyboard deleted his office letter Ｅ (it replaced the
    first character that was not an ASCII letter or digit, meant for an old province), leaving
    苏５Ｂ１２３, which the gateway then refused. The tap only puts the province in front:
    苏Ｅ５Ｂ１２３, accepted as 苏E5B123; a second tap replaces that province."""
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    page.click("#lane-car-in [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.fill("#plate-input", "Ｅ５Ｂ１２３")
    page.locator("#plate-dialog [data-province]", has_text="苏").click()
    assert page.input_value("#plate-input") == "苏Ｅ５Ｂ１２３"
    page.locator("#plate-dialog [data-province]", has_text="皖").click()
    assert page.input_value("#plate-input") == "皖Ｅ５Ｂ１２３"
    assert script_errors(page) == []


def test_admin_page_says_a_refused_vehicle_plate_is_the_plate(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """An admin registers a resident's car on /admin (新增车辆) and types 皖A1234O, a letter O for
    the digit 0 (Chinese plates have no I or O). The page's toast said 号码格式不对，请重新输入 ("Not
    a valid number; type it again"), the words for a card number, naming neither the plate nor the
    rule. The guard's plate dialog refuses the same text with 车牌格式不对...不含字母 I、O; the
    admin is told the same: that it is the plate, and that it has no I or O."""
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/admin")
    form = page.locator('form[data-api="/api/vehicles"]')
    form.get_by_label("业主编号").fill(str(site.resident_id))
    form.get_by_label("车牌").fill("皖A1234O")
    form.get_by_role("button", name="添加").click()
    toast = page.locator("#toast.bad")
    toast.wait_for()
    text = toast.inner_text()
    assert stored(site, "SELECT count(*) FROM vehicles WHERE plate IN ('皖A1234O', '皖A12340')") == [(0,)]
    assert "车牌" in text and "O" in text, text

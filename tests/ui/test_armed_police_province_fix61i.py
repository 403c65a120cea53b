"""The province keyboard of 输入车牌 / 纠正车牌 and an armed-police plate, in a real Chromium.

An armed-police car (WJ京12345: docs/plates.md, the camera never reads one, a guard types it) came
to the gate. The guard typed the letters and digits, WJ12345, and tapped 京 on the province
keyboard: the field read 京WJ12345, the province put in front as for every other plate. The
gateway took it, a valid green new-energy plate (office letter W, energy kind J), and the lane
decided a plate that was not the car's. The armed police's province is third (WJ{province}...):
after a typed WJ the tap goes there.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import Site, script_errors, stored

pytest.importorskip("playwright.sync_api")

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)


def tap(page: Any, province: str) -> str:
    """Tap a key of the dialog's province keyboard; what the plate field then reads."""
    page.locator("#plate-dialog [data-province]", has_text=province).click()
    return str(page.input_value("#plate-input"))


def test_armed_police_plate_typed_with_the_province_key_is_decided_as_typed(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    page.click("#lane-car-in [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.fill("#plate-input", "WJ12345")
    assert tap(page, "京") == "WJ京12345"
    assert tap(page, "沪") == "WJ沪12345"  # a second tap replaces the province, as elsewhere
    assert tap(page, "京") == "WJ京12345"
    page.click("#plate-ok")
    page.wait_for_selector("#lane-car-in [data-latest] >> text=WJ京12345", timeout=30_000)
    assert stored(site, "SELECT value FROM access_log WHERE lane = 'car-in'") == [("WJ京12345",)]
    assert script_errors(page) == []


def test_province_key_after_wj_typed_lower_case_or_full_width(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The tablet's input method may give wj or ＷＪ (全角), which the gateway reads as WJ."""
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    page.click("#lane-car-in [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.fill("#plate-input", "wj1234X")
    assert tap(page, "粤") == "wj粤1234X"
    page.fill("#plate-input", "ＷＪ１２３４５")
    assert tap(page, "京") == "ＷＪ京１２３４５"
    page.fill("#plate-input", "A12345")  # every other plate keeps its province in front
    assert tap(page, "京") == "京A12345"
    assert script_errors(page) == []

"""交班 Shift handover in a real Chromium: the guard takes two 7元 fees in cash at the exit, opens
交班, sees 14.00 元 of cash and both cars, types a count 0.50 short, sees 短款 before confirming,
hands over, is told the difference and offered 退出登录, and the page then starts from zero."""

from __future__ import annotations

import time
from datetime import timedelta

from playwright.sync_api import expect

from gateway.core import Presented
from tests.ui.conftest import Site, script_errors, stored
from tests.ui.test_guard_browser import ARTIFACTS, LANDSCAPE, browser, page_at, pytestmark  # noqa: F401

PLATES = ("鲁B12345", "鲁B54321")


def _take_cash(site: Site, page, plate: str, method: str = "cash") -> None:  # type: ignore[no-untyped-def]
    """A car two hours in held at the exit to pay 7元; the guard taps 现金已收 (or 扫码已付) in the fee
    dialog."""
    now = site.gw.now()
    site.gw.present(Presented("car-in", "plate", plate, 0.99, now - timedelta(hours=2), "cam"))
    site.gw.present(Presented("car-out", "plate", plate, 0.99, now, "cam"))
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={plate}")
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    page.click(f"#pay-{method}")
    # Stored, not only toasted: the first fee's 已收费 may still show as the second is tapped, and
    # 交班 opened before the second is written shows one fee for good (a loaded CI box).
    deadline = time.monotonic() + 15
    while not stored(site, "SELECT 1 FROM payments WHERE plate = ?", plate):
        assert time.monotonic() < deadline, f"the fee for {plate} was never stored"
        time.sleep(0.05)
    page.wait_for_selector("#toast >> text=已收费")


def test_a_guard_hands_over_a_drawer_short_and_the_next_shift_starts_from_zero(
    fresh_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = fresh_site
    page = page_at(browser, url, LANDSCAPE)
    for plate in PLATES:
        _take_cash(site, page, plate)

    page.click("#nav-shift")
    expect(page.locator("#shift-totals [data-method=cash]")).to_contain_text("14.00")
    page.wait_for_load_state("load")  # shift.js wired up: a click before it does nothing
    expect(page.locator("#shift-totals [data-method=cash]")).to_contain_text("2")
    expect(page.locator("#shift-cash")).to_have_text("14.00")
    for plate in PLATES:
        expect(page.locator("#shift-payments")).to_contain_text(plate)

    page.fill("#shift-counted", "十三块")  # not an amount: said so, and what was typed stays
    page.click("#shift-submit")
    expect(page.locator("#toast")).to_contain_text("请输入清点的现金金额")
    expect(page.locator("#shift-counted")).to_have_value("十三块")

    page.fill("#shift-counted", "13.50")
    page.fill("#shift-note", "找零少了五毛")
    expect(page.locator("#shift-difference")).to_have_text("短款 0.50 元")
    page.set_viewport_size({"width": 800, "height": 1280})
    page.screenshot(path=str(ARTIFACTS / "shift-portrait.png"), full_page=True)
    page.click("#shift-submit")
    expect(page.locator("#shift-dialog")).to_be_visible()
    expect(page.locator("#shift-confirm-difference")).to_have_text("短款 0.50 元")
    page.click("#shift-confirm")

    done = page.locator("#shift-done-text")
    expect(done).to_contain_text("记录现金 14.00 元，清点 13.50 元，短款 0.50 元")
    expect(page.locator("#shift-logout")).to_be_visible()
    (detail,) = stored(site, "SELECT detail FROM audit WHERE action = 'shift.handover'")[0]
    assert detail.startswith("cash recorded 1400 fen, counted 1350 fen, difference -50 fen"), detail
    page.set_viewport_size({"width": 600, "height": 1024})
    page.screenshot(path=str(ARTIFACTS / "shift-done-7inch.png"), full_page=True)

    page.reload()
    expect(page.locator("#shift-cash")).to_have_text("0.00")
    expect(page.locator("#shift-no-payments")).to_be_visible()
    # Nothing on the 7-inch tablet is wider than its screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 600
    assert script_errors(page) == []

    page.click("#logout")
    page.wait_for_url("**/login**")

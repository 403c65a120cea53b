"""A fee recorded with the wrong method, corrected on the 交班 page in a real Chromium: the guard takes
two 7元 fees, one in cash and one tapped 扫码已付 though the driver paid cash; the page shows 7.00 of
cash on record; 改为现金 on the QR row asks why (no lane's quick reasons), and the page comes back
with 14.00 of cash, no QR, the row now offering 改为扫码, and the correction on the audit trail."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.ui.conftest import Site, script_errors, stored
from tests.ui.test_guard_browser import ARTIFACTS, LANDSCAPE, browser, page_at, pytestmark  # noqa: F401
from tests.ui.test_shift_handover_browser import _take_cash


def _take(site: Site, page, plate: str, method: str) -> None:  # type: ignore[no-untyped-def]
    _take_cash(site, page, plate, method)


def test_a_qr_fee_paid_in_cash_is_corrected_and_the_drawer_matches(
    fresh_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = fresh_site
    page = page_at(browser, url, LANDSCAPE)
    _take(site, page, "鲁B11111", "cash")
    _take(site, page, "鲁B22222", "qr")

    page.click("#nav-shift")
    expect(page.locator("#shift-cash")).to_have_text("7.00")
    page.wait_for_load_state("load")  # shift.js wired up: a click before it does nothing
    expect(page.locator("#shift-totals [data-method=qr]")).to_contain_text("7.00")
    qr_row = page.locator("#shift-payments tr", has_text="鲁B22222")
    expect(qr_row).to_contain_text("扫码支付")
    expect(page.locator("#shift-payments tr", has_text="鲁B11111").locator("[data-method-to]")).to_have_text(
        "改为扫码"
    )

    qr_row.locator("[data-method-to=cash]").click()
    expect(page.locator("#reason-dialog")).to_be_visible()
    expect(page.locator("#reason-title")).to_contain_text("改为现金")
    expect(page.locator("#reason-dialog .quick")).to_be_hidden()  # 访客已登记 is no payment's reason
    page.fill("#reason-input", "司机付的现金，点错成扫码")
    page.click("#reason-ok")

    expect(page.locator("#toast")).to_contain_text("已更正收费方式")
    expect(page.locator("#shift-cash")).to_have_text("14.00")
    expect(page.locator("#shift-totals [data-method=cash]")).to_contain_text("14.00")
    expect(page.locator("#shift-totals [data-method=qr]")).to_contain_text("0.00")
    fixed = page.locator("#shift-payments tr", has_text="鲁B22222")
    expect(fixed).to_contain_text("现金")
    expect(fixed.locator("[data-method-to]")).to_have_text("改为扫码")
    ((actor, detail),) = stored(site, "SELECT actor, detail FROM audit WHERE action = 'payment.method'")
    assert actor == "guard1" and detail == "700 fen qr -> cash; 司机付的现金，点错成扫码", detail
    assert stored(site, "SELECT method FROM payments ORDER BY id") == [("cash",), ("cash",)]

    page.fill("#shift-counted", "14")  # the drawer now matches the record
    expect(page.locator("#shift-difference")).to_have_text("账款相符")
    page.set_viewport_size({"width": 600, "height": 1024})
    page.screenshot(path=str(ARTIFACTS / "shift-method-7inch.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 600
    assert script_errors(page) == []

    page.goto(f"{url}/audit")  # the audit page words it in the guard's language
    expect(page.locator("body")).to_contain_text("更正收费方式")
    expect(page.locator("body")).to_contain_text("7元 · 扫码支付 → 现金 · 司机付的现金，点错成扫码")

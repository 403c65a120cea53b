"""A guard takes the fee at an exit lane in cash, no receipt number typed, in a real Chromium: the
toast gives the receipt number the gateway made, the one stored and sent upstream, to hand the
driver (docs/parking.md: receipt numbers are the guard's or made by the gateway)."""

from __future__ import annotations

import sqlite3

from tests.ui.conftest import Site, script_errors
from tests.ui.test_english_fee_browser import paying_site  # noqa: F401
from tests.ui.test_guard_browser import browser, pytestmark  # noqa: F401
from tests.ui.test_guard_fee_words_browser import _held_to_pay


def test_the_fee_toast_gives_the_receipt_number_made_by_the_gateway(
    paying_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    site, url = paying_site
    page = _held_to_pay(site, url, browser, "鲁B12345", "zh")
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    page.click("#pay-cash")
    page.wait_for_selector("#toast >> text=已收费")
    shown = page.inner_text("#toast")
    with sqlite3.connect(site.gw.db_path) as db:
        (made,) = db.execute("SELECT receipt FROM payments").fetchone()
    assert f"收据号 {made}" in shown, shown
    assert script_errors(page) == []

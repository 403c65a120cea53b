"""Enter in the 收费放行 dialog's receipt field, in a real Chromium (the review of 786ff5c, which
made Enter in the 纠正车牌 dialog take only the default button, looked at the other dialogs).

docs/guard-app.md, *收费放行*: "The dialog comes with an optional receipt number ... **扫码已付 (Paid
by QR)** or **现金已收 (Cash taken)** records it". The dialog has two submit buttons and no default:
Enter in the receipt field (the tablet keyboard's 前往/Go, or a barcode scanner reading a paper
receipt, which ends with Enter) "clicks" the form's first submit button, 扫码已付. A fee taken in cash
is stored as a QR payment: the daily report's revenue_by_method_fen moves it from cash to qr, and the
cash box no longer matches the report.
"""

from __future__ import annotations

import sqlite3

from tests.ui.conftest import Site, script_errors
from tests.ui.test_english_fee_browser import paying_site  # noqa: F401
from tests.ui.test_guard_browser import browser, pytestmark  # noqa: F401
from tests.ui.test_guard_fee_words_browser import _held_to_pay


def _methods(site: Site) -> list[str]:
    with sqlite3.connect(site.gw.db_path) as db:
        return [m for (m,) in db.execute("SELECT method FROM payments")]


def test_enter_in_the_receipt_field_records_no_payment_method_the_guard_did_not_choose(
    paying_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """The guard took 7元 in cash, types the paper receipt's number and presses Enter. What the
    accountant then reads: a QR payment of 7元. Enter should record nothing until the guard taps
    现金已收 or 扫码已付 (or take the method he taps next)."""
    site, url = paying_site
    page = _held_to_pay(site, url, browser, "鲁B12345", "zh")
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    page.fill("#pay-receipt", "NO-0042")
    page.press("#pay-receipt", "Enter")
    page.wait_for_timeout(1500)
    assert _methods(site) == [], (
        f"Enter in the receipt field recorded a payment the guard never chose: {_methods(site)}"
    )
    page.click("#pay-cash")
    page.wait_for_selector("#toast >> text=已收费")
    assert _methods(site) == ["cash"], _methods(site)
    assert script_errors(page) == []

"""Review 57l: the 交班 confirmation told the guard one thing and the handover recorded another.

(1) A handover whose answer was lost on the Wi-Fi: tapped again, the page asked for the shift afresh
-- the new, empty one -- and showed his 14.00 drawer, counted even, as 长款 14.00 over. The page now
sends the lost one again with its key and shows what it made.

(2) A fee taken for him (a booth token, `actor` guard1) while the confirm dialog was open was
recorded 短款 7.00 against a cash figure he never saw. The page sends the figure it showed
(`recorded_cash_fen`); the gateway answers `shift_changed` and the page asks again with the new one."""

from __future__ import annotations

from datetime import timedelta

import httpx2
from playwright.sync_api import expect

from gateway.core import Presented
from tests.ui.conftest import Site, bearer, stored
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark  # noqa: F401
from tests.ui.test_shift_handover_browser import _take_cash

PLATES = ("鲁B12345", "鲁B54321")


def _shift_page_with_14_cash(site: Site, url: str, chromium: object):  # type: ignore[no-untyped-def]
    page = page_at(chromium, url, LANDSCAPE)
    for plate in PLATES:
        _take_cash(site, page, plate)
    page.click("#nav-shift")
    expect(page.locator("#shift-cash")).to_have_text("14.00")
    page.wait_for_load_state("load")  # shift.js wired up: a click before it does nothing
    page.fill("#shift-counted", "14.00")
    return page


def test_a_handover_retried_after_a_lost_answer_is_not_shown_as_the_whole_drawer_over(
    fresh_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = fresh_site
    page = _shift_page_with_14_cash(site, url, browser)
    page.click("#shift-submit")
    expect(page.locator("#shift-confirm-difference")).to_have_text("账款相符")

    lost = {"n": 0}

    def lose_the_answer(route):  # type: ignore[no-untyped-def]
        if lost["n"] == 0:
            lost["n"] += 1
            route.fetch()  # the gateway records the handover ...
            route.abort("connectionreset")  # ... and its answer never reaches the tablet
        else:
            route.continue_()

    page.route("**/api/shift/handover", lose_the_answer)
    page.click("#shift-confirm")
    expect(page.locator("#shift-submit")).to_be_enabled()
    assert len(stored(site, "SELECT id FROM audit WHERE action = 'shift.handover'")) == 1

    page.click("#shift-submit")  # tapped again: the lost handover is sent again, not asked afresh
    expect(page.locator("#shift-done-text")).to_contain_text("账款相符")
    expect(page.locator("#shift-done-text")).to_contain_text("14.00")
    expect(page.locator("#shift-dialog")).to_be_hidden()
    assert len(stored(site, "SELECT id FROM audit WHERE action = 'shift.handover'")) == 1


def test_a_fee_taken_while_the_confirm_dialog_is_open_is_not_recorded_short_behind_his_back(
    fresh_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = fresh_site
    page = _shift_page_with_14_cash(site, url, browser)
    page.click("#shift-submit")
    expect(page.locator("#shift-confirm-difference")).to_have_text("账款相符")

    now = site.gw.now()  # another car pays 7元 for guard1 while he reads the dialog
    site.gw.present(Presented("car-in", "plate", "鲁B77777", 0.99, now - timedelta(hours=2), "cam"))
    site.gw.present(Presented("car-out", "plate", "鲁B77777", 0.99, now, "cam"))
    for _ in range(100):
        paid = httpx2.post(
            f"{url}/api/parking/lanes/car-out/pay",
            json={"plate": "鲁B77777", "amount_fen": 700, "method": "cash", "actor": "guard1"},
            headers=bearer(site.guard_token),
        )
        if paid.status_code == 200:
            break
        page.wait_for_timeout(50)
    assert paid.status_code == 200, paid.text

    page.click("#shift-confirm")  # he confirms 账款相符, as the dialog says
    # Nothing stored: the dialog is shown again with the fee taken meanwhile.
    expect(page.locator("#shift-dialog")).to_be_visible()
    expect(page.locator("#shift-confirm-recorded")).to_have_text("21.00")
    expect(page.locator("#shift-confirm-difference")).to_have_text("短款 7.00 元")
    expect(page.locator("#shift-cash")).to_have_text("21.00")
    assert stored(site, "SELECT id FROM audit WHERE action = 'shift.handover'") == []

    page.click("#shift-confirm")  # he confirms what he now sees
    expect(page.locator("#shift-done-text")).to_be_visible()
    ((detail,),) = stored(site, "SELECT detail FROM audit WHERE action = 'shift.handover'")
    assert detail.startswith("cash recorded 2100 fen, counted 1400 fen, difference -700 fen"), detail

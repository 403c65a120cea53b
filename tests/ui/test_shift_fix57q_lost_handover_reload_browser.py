"""Review 57q: 82821f9 kept a handover whose answer was lost (网关没有回应) only in shift.js's memory.
A guard who then reloaded the 交班 page had lost it: the page asked afresh, showed the new, empty
shift, and his drawer counted even was confirmed as 长款 14.00, a second handover on record. Found by
reviewer q. It is now kept in the tab's sessionStorage, by guard, until an answer comes."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.ui.conftest import Site, fresh_site, stored  # noqa: F401
from tests.ui.test_guard_browser import browser, pytestmark  # noqa: F401
from tests.ui.test_shift_fix57l_confirm_browser import _shift_page_with_14_cash


def test_a_lost_handover_is_sent_again_not_made_anew_after_a_reload(
    fresh_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    site, url = fresh_site
    page = _shift_page_with_14_cash(site, url, browser)
    page.click("#shift-submit")
    expect(page.locator("#shift-confirm-difference")).to_have_text("账款相符")

    def lose_the_answer(route):  # type: ignore[no-untyped-def]
        route.fetch()  # the gateway records the handover ...
        route.abort("connectionreset")  # ... and its answer never reaches the tablet

    page.route("**/api/shift/handover", lose_the_answer)
    page.click("#shift-confirm")
    expect(page.locator("#shift-submit")).to_be_enabled()
    page.unroute("**/api/shift/handover")
    assert len(stored(site, "SELECT id FROM audit WHERE action = 'shift.handover'")) == 1

    page.reload()  # 网关没有回应: he reloads the page, as one does
    page.fill("#shift-counted", "14.00")
    page.click("#shift-submit")
    shown = page.locator("#shift-confirm-difference")
    page.wait_for_timeout(1000)  # the page asks the gateway for the shift afresh
    said = None
    if page.locator("#shift-dialog").is_visible():
        said = shown.text_content()
        page.click("#shift-confirm")  # he confirms what the dialog shows
        page.wait_for_timeout(1000)
    details = [d for (d,) in stored(site, "SELECT detail FROM audit WHERE action = 'shift.handover'")]
    assert len(details) == 1, f"the dialog said {said!r}; handovers on record: {details}"
    expect(page.locator("#shift-done-text")).to_contain_text("账款相符")  # the one he confirmed

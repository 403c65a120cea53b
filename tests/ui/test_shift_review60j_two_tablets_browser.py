"""Review 60j: 交班 for one drawer on two tablets (the guard logged in at both booths). The second
tablet was told a fee was taken meanwhile (确认期间又有收费记入本班：系统记录现金现为 0.00 元) and asked
to confirm his 14元 drawer as 长款 14.00 元, a second handover for the accountant if he did. The page
now says the shift was handed over (when) and reloads with the next one, nothing stored."""

from __future__ import annotations

import httpx2
from playwright.sync_api import expect

from tests.ui.conftest import GUARD, Site, stored
from tests.ui.test_guard_browser import browser, pytestmark  # noqa: F401
from tests.ui.test_shift_fix57l_confirm_browser import _shift_page_with_14_cash

HANDOVERS = "SELECT id FROM audit WHERE action = 'shift.handover'"


def _hand_over_on_the_other_tablet(url: str) -> None:
    """guard1 logged in on the east booth's tablet too: its page shows the same shift; 交班 there."""
    with httpx2.Client(base_url=url) as east:
        csrf = east.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]}).json()["csrf"]
        start = east.get("/api/shift").json()["start"]
        body = {"counted_cash_fen": 1400, "recorded_cash_fen": 1400, "shift_start": start}
        done = east.post("/api/shift/handover", json=body, headers={"X-CSRF-Token": csrf})
        assert done.status_code == 201, done.text


def test_a_shift_handed_over_on_the_other_tablet_while_the_dialog_is_open_is_said_done(
    fresh_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = fresh_site
    page = _shift_page_with_14_cash(site, url, browser)
    page.click("#shift-submit")
    expect(page.locator("#shift-confirm-difference")).to_have_text("账款相符")

    _hand_over_on_the_other_tablet(url)
    page.click("#shift-confirm")  # both confirm in the same moment
    expect(page.locator("#toast")).to_contain_text("本班已于")
    expect(page.locator("#toast")).to_contain_text("交班（本账号在另一台平板上），无需再交")
    expect(page.locator("#toast")).not_to_contain_text("长款")
    expect(page.locator("#shift-cash")).to_have_text("0.00")  # reloaded: the shift begun there
    expect(page.locator("#shift-dialog")).to_be_hidden()
    assert len(stored(site, HANDOVERS)) == 1


def test_a_page_drawn_before_the_other_tablets_handover_asks_nothing(
    fresh_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = fresh_site
    page = _shift_page_with_14_cash(site, url, browser)
    _hand_over_on_the_other_tablet(url)

    page.click("#shift-submit")  # the page still shows the 14元 shift handed over on the other tablet
    expect(page.locator("#toast")).to_contain_text("交班（本账号在另一台平板上），无需再交")
    expect(page.locator("#shift-cash")).to_have_text("0.00")
    expect(page.locator("#shift-dialog")).to_be_hidden()  # never 长款 14.00 元 to confirm
    assert len(stored(site, HANDOVERS)) == 1

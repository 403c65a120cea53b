"""docs/guard-app.md, *A session that ends mid-form*: what was typed comes back in the form it was typed
into, after the login. Reviewer 60f found two gaps: 交班 (sent by shift.js, not app.js) kept nothing,
and a kept form was found again by its place among the page's forms, so that on 查询 what the admin
typed into 禁用 under a search's 续期 came back in 解除禁用 (unblock) on the page without the search."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.ui.conftest import ADMIN, CARD, GUARD, Site

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Page, expect  # noqa: E402

from tests.ui.test_guard_browser import (  # noqa: E402
    PORTRAIT,
    browser,  # noqa: F401
    browser_site,  # noqa: F401
    open_page,
    page_at,
    pytestmark,  # noqa: F401
    sign_in,
)
from tests.ui.test_guard_forms_browser import _end_guard_sessions  # noqa: E402

SiteUrl = tuple[Site, str]


def _end_admin_sessions(site: Site) -> None:
    def run(conn: Any) -> None:
        conn.execute(
            "DELETE FROM sessions WHERE account_id = (SELECT id FROM accounts WHERE username = ?)",
            (ADMIN[0],),
        )
        conn.commit()

    site.gw.on_worker(run).result(timeout=10)


def test_the_counted_cash_and_note_come_back_after_the_session_ends(
    browser_site: SiteUrl,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The guard counts the drawer at the end of a night shift, types the cash and a note, taps 交班,
    and his 12-hour session has just ended: after the login both are there, the difference shown."""
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    open_page(page, "shift")
    page.fill("#shift-counted", "356.50")
    page.fill("#shift-note", "抽屉里有一张50元假币，已交经理")
    _end_guard_sessions(site)
    page.click("#shift-submit")
    page.wait_for_url(re.compile(r"/login\?next=%2Fshift"))
    sign_in(page, GUARD)
    page.wait_for_url(re.compile(r"/shift$"))
    page.wait_for_load_state("load")
    expect(page.locator("#toast")).to_contain_text("已恢复")
    assert page.input_value("#shift-counted") == "356.50", "the cash he counted is gone"
    assert page.input_value("#shift-note") == "抽屉里有一张50元假币，已交经理", "his note is gone"
    expect(page.locator("#shift-difference")).not_to_be_empty()  # 长款 / 短款, as when he typed it


def _search_then_block_as_the_session_ends(page: Page, site: Site, renew_to: str | None) -> None:
    open_page(page, "lookup")
    with page.expect_navigation(wait_until="load"):
        page.fill("#lookup-q", "3栋")
        page.press("#lookup-q", "Enter")
    expect(page.locator("form.renew")).to_have_count(1)  # the resident's car, 续期
    if renew_to:
        page.fill("form.renew input[name=monthly_until]", renew_to)
    page.fill("#block-form input[name=value]", CARD)
    page.fill("#block-form input[name=reason]", "业主报卡丢失")
    _end_admin_sessions(site)
    page.click("#block-form button[type=submit]")
    page.wait_for_url(re.compile(r"/login\?next=%2Flookup"))
    sign_in(page, ADMIN)
    page.wait_for_url(re.compile(r"/lookup$"))
    page.wait_for_load_state("load")


def test_what_was_typed_into_block_comes_back_in_block_not_unblock(
    browser_site: SiteUrl,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """A search's result draws a 续期 form above 禁用; the page after the login (no search) has none."""
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT, who=ADMIN)
    _search_then_block_as_the_session_ends(page, site, None)
    assert page.input_value("#unblock-form input[name=value]") == "", "his card was filled into 解除禁用"
    assert page.input_value("#unblock-form input[name=reason]") == "", "his reason was filled into 解除禁用"
    assert page.input_value("#block-form input[name=value]") == CARD
    assert page.input_value("#block-form input[name=reason]") == "业主报卡丢失"


def test_a_renewal_typed_into_a_search_result_is_named_as_not_back(
    browser_site: SiteUrl,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The 续期 he typed is not on the page after the login: filled in nowhere, and the toast says so."""
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT, who=ADMIN)
    _search_then_block_as_the_session_ends(page, site, "2031-12-31")
    toast = page.locator("#toast")
    expect(toast).to_contain_text("已恢复")  # 禁用's
    expect(toast).to_contain_text("“续期”中填写的内容未恢复")
    dates = page.eval_on_selector_all("input[type=date]", "els => els.map((e) => e.value)")
    assert "2031-12-31" not in dates, f"the renewal's date came back in another form: {dates}"
    assert page.input_value("#block-form input[name=value]") == CARD

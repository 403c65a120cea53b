"""A guard's 查询 by a resident's phone number, in the real Chromium: the number is never left in the
shared tablet's address bar and history (docs/guard-app.md: nothing of a resident kept on a shared
tablet; a form's fields are never put in the address for that reason). The search is sent as a
form (POST, with the session's CSRF token); the answer's address is plain /lookup."""

from __future__ import annotations

import re
import sqlite3
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import CARD, GUARD, PHONE, PLATE, Site, log_in
from tests.ui.test_guard_browser import (  # noqa: F401
    CHROMIUM,
    LANDSCAPE,
    browser,
    browser_site,
    open_page,
    page_at,
    sign_in,
)

in_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the Debian chromium package")


def _search(page: Any, text: str) -> None:
    page.fill("#lookup-q", text)
    with page.expect_navigation(wait_until="load"):
        page.press("#lookup-q", "Enter")


def _end_guard_sessions(site: Site) -> None:
    def run(conn: sqlite3.Connection) -> None:
        conn.execute(
            "DELETE FROM sessions WHERE account_id = (SELECT id FROM accounts WHERE username = ?)",
            (GUARD[0],),
        )
        conn.commit()

    site.gw.on_worker(run).result(timeout=10)


@in_chromium
def test_a_lookup_by_phone_leaves_the_number_out_of_the_tablets_address(browser, browser_site) -> None:  # noqa: F811
    """A guard looks a resident up by phone on 查询; the resident is found (phone shown masked), and
    the whole number is in neither the page's address nor so the shared tablet's history."""
    _, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "lookup")
    _search(page, PHONE)
    page.wait_for_selector("[data-resident]")
    assert "139****5678" in page.inner_text("[data-resident]")  # found, shown masked
    visited = unquote(page.url)
    history = page.evaluate("history.length")
    page.context.close()
    assert visited == f"{url}/lookup", (
        f"the resident's whole phone number is in the tablet's address and history: {visited} "
        f"(history has {history} entries)"
    )


@in_chromium
def test_a_search_by_plate_then_a_card_blocked_shows_the_same_search_again(browser, browser_site) -> None:  # noqa: F811
    """The page reloads itself after a card is blocked: it sends the search again (never the
    browser's "confirm form resubmission"), so the guard sees the card blocked among the results.
    Reloaded by the guard, the page asks nothing and is the lookup afresh."""
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "lookup")
    _search(page, PLATE)
    page.wait_for_selector("[data-resident]")
    with page.expect_navigation(wait_until="load"):
        page.click("[data-resident] tr:has(td:text-is('卡')) button.danger")
        page.fill("#reason-input", "挂失")
        page.click("#reason-ok")
    page.wait_for_selector("[data-resident] tr.refused:has(td:text-is('卡'))")
    assert page.url == f"{url}/lookup"
    assert page.input_value("#lookup-q") == PLATE
    with sqlite3.connect(site.gw.db_path) as conn:
        assert conn.execute("SELECT blocked FROM credentials WHERE value = ?", (CARD,)).fetchone()[0]
    page.reload(wait_until="load")  # no form data kept for it: a plain /lookup
    assert page.url == f"{url}/lookup" and page.input_value("#lookup-q") == ""
    assert page.locator("[data-resident]").count() == 0
    assert page.errors == []
    page.context.close()


@in_chromium
def test_a_session_ended_mid_search_goes_to_login_and_back_without_the_query(browser, browser_site) -> None:  # noqa: F811
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "lookup")
    _end_guard_sessions(site)  # the 12-hour session ran out while the guard typed
    page.fill("#lookup-q", PHONE)
    page.press("#lookup-q", "Enter")
    page.wait_for_url(re.compile(r"/login\?next="))
    assert PHONE not in unquote(page.url) and unquote(page.url).endswith("next=/lookup"), page.url
    sign_in(page, GUARD)
    page.wait_for_url(re.compile(r"/lookup$"))
    _search(page, "张三丰")  # by name, as ever
    assert "139****5678" in page.inner_text("[data-resident]")
    page.context.close()


def _csrf(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]


def test_the_search_is_sent_as_a_form_with_the_sessions_token(client: TestClient) -> None:
    log_in(client, GUARD)
    page = client.get("/lookup").text
    assert re.search(r'<form method="post" action="/lookup"', page), "the search form is not a POST"
    found = client.post("/lookup", data={"q": CARD, "csrf": _csrf(page)}, follow_redirects=False)
    assert found.status_code == 200 and "data-resident=" in found.text and "139****5678" in found.text
    assert PHONE not in found.text
    assert found.headers["cache-control"] == "no-store"


def test_a_search_without_the_sessions_token_answers_the_lookup_afresh(client: TestClient) -> None:
    """A form from another site, or a page drawn for a session since replaced: nothing searched,
    the page drawn again (with this session's token) to search from."""
    log_in(client, GUARD)
    for csrf in ("forged", ""):
        r = client.post("/lookup", data={"q": PHONE, "csrf": csrf}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/lookup"
    page = client.get("/lookup").text
    other = client.post(
        "/lookup",
        data={"q": PHONE, "csrf": _csrf(page)},
        headers={"Origin": "http://evil.example"},
        follow_redirects=False,
    )
    assert other.status_code == 303 and other.headers["location"] == "/lookup"


def test_a_search_with_no_session_goes_to_login_without_the_query(client: TestClient) -> None:
    r = client.post("/lookup", data={"q": PHONE, "csrf": "x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/lookup"

"""The guard's forms when things go wrong: errors in the page's language, a second tap, a session
that ended mid-form, a login on another tab, a login page left open, a pass's state."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config.models import ClosedManagement
from tests.ui.conftest import ADMIN, GUARD, LiveServer, Site, bearer
from tests.ui.test_guard_visitor_edges import TZ, closed_site

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402  (after the skip)

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    PORTRAIT,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    open_page,
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
    sign_in,
)

SiteUrl = tuple[Site, str]

ENGLISH_PHRASE = re.compile(r"[A-Za-z]{4,}(?: [A-Za-z]{2,}){2,}")


def _passes_named(site: Site, name: str) -> int:
    with sqlite3.connect(f"file:{site.gw.db_path}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM passes WHERE name = ?", (name,)).fetchone()[0])


def _end_guard_sessions(site: Site) -> None:
    def run(conn: sqlite3.Connection) -> None:
        conn.execute(
            "DELETE FROM sessions WHERE account_id = (SELECT id FROM accounts WHERE username = ?)",
            (GUARD[0],),
        )
        conn.commit()

    site.gw.on_worker(run).result(timeout=10)


def _toast(page: Any) -> str:
    toast = page.locator("#toast")
    expect(toast).to_be_visible()
    return str(toast.inner_text())


def test_errors_are_in_chinese_with_the_fields_named(
    browser_site: SiteUrl,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    open_page(page, "visitors")
    page.fill("#f-name", "李四")
    page.fill("#f-phone", "12345")  # mistyped
    page.click("#visitor-submit")
    text = _toast(page)
    assert "以下项目填写有误：" in text and "手机号" in text and not ENGLISH_PHRASE.search(text), text
    assert page.input_value("#f-name") == "李四"
    page.route("**/api/visitors", lambda route: route.abort())  # the Wi-Fi is down
    page.fill("#f-phone", "13800138000")
    page.click("#visitor-submit")
    expect(page.locator("#toast")).to_contain_text("网关没有回应")
    assert "Failed to fetch" not in _toast(page)


def test_closed_management_refusal_names_its_fields(tmp_path: Path) -> None:
    today = datetime.now(TZ).date()
    site = closed_site(tmp_path, ClosedManagement(first_day=today, last_day=today, hours=["00:00-23:59"]))
    try:
        with TestClient(create_app(site.gw)) as client:
            r = client.post("/api/visitors", json={"name": "王五"}, headers=bearer(site.guard_token))
        error = r.json()["error"]
        assert r.status_code == 422 and error["code"] == "refused", r.text
        assert "id_number" in error["fields"] and "closed management" in error["message"]
    finally:
        site.gw.stop()


@pytest.fixture(scope="module")
def slow_pass_site(browser_site: SiteUrl) -> Iterator[SiteUrl]:  # noqa: F811
    """The same gateway, but the pass page takes 1.5 s to come (a busy Raspberry Pi)."""
    site, _ = browser_site
    inner = create_app(site.gw)

    async def slow(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http" and re.fullmatch(r"/passes/\d+", scope["path"]):
            await asyncio.sleep(1.5)
        await inner(scope, receive, send)

    with LiveServer(slow) as url:  # type: ignore[arg-type]
        yield site, url


def test_a_second_tap_while_the_pass_page_loads_registers_once(
    slow_pass_site: SiteUrl,
    browser: Any,  # noqa: F811
) -> None:
    site, url = slow_pass_site
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "visitors")
    page.fill("#f-name", "双击")
    page.fill("#f-phone", "13800138001")
    # Saved, the pass page on its way: nothing seems to happen, so the guard taps again.
    still_off = page.evaluate("""async () => {
      const button = document.getElementById("visitor-submit");
      button.click();
      await new Promise((r) => setTimeout(r, 500));
      const off = button.disabled;
      button.click();
      return off;
    }""")
    assert still_off
    page.wait_for_url(re.compile(r"/passes/\d+$"), timeout=10000)
    assert _passes_named(site, "双击") == 1


def test_a_repeated_idempotency_key_returns_the_same_pass(browser_site: SiteUrl) -> None:  # noqa: F811
    site, url = browser_site
    headers = {**bearer(site.guard_token), "Idempotency-Key": "repeat-1"}
    body = {"name": "重发", "host_building": "3栋", "host_unit": "2单元"}
    with httpx2.Client(base_url=url) as client:
        first, again = (client.post("/api/visitors", json=body, headers=headers) for _ in range(2))
    assert first.status_code == again.status_code == 201, again.text
    assert first.json()["id"] == again.json()["id"] and _passes_named(site, "重发") == 1
    with httpx2.Client(base_url=url) as client:  # the same key for a corrected registration
        changed = client.post("/api/visitors", json={**body, "name": "重发改"}, headers=headers)
    assert changed.status_code == 422 and changed.json()["error"]["code"] == "idempotency_mismatch"
    assert _passes_named(site, "重发改") == 0  # never silently answered with the first pass


def test_what_one_guard_typed_is_not_filled_in_for_another(
    browser_site: SiteUrl,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """A shared booth tablet: guard A's session ends mid-form; guard B logs in."""
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    open_page(page, "visitors")
    page.fill("#f-name", "王五")
    page.fill("#f-destination", "501")
    _end_guard_sessions(site)
    page.click("#visitor-submit")
    page.wait_for_url(re.compile(r"/login\?next=%2Fvisitors"))
    sign_in(page, ADMIN)
    page.wait_for_url(re.compile(r"/visitors$"))
    expect(page.locator("#visitor-form")).to_be_visible()
    assert page.input_value("#f-name") == "" and page.input_value("#f-destination") == ""


def test_session_ended_mid_form_keeps_what_was_typed_but_the_numbers(
    browser_site: SiteUrl,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    open_page(page, "visitors")
    typed = {"#f-name": "王五", "#f-building": "5栋", "#f-unit": "1单元", "#f-destination": "501"}
    for sel, value in typed.items():
        page.fill(sel, value)
    page.fill("#f-phone", "13800138002")
    _end_guard_sessions(site)  # the 12-hour session ran out while the guard typed
    page.click("#visitor-submit")
    page.wait_for_url(re.compile(r"/login\?next=%2Fvisitors"))
    assert "13800138002" not in page.evaluate("JSON.stringify(sessionStorage)")
    sign_in(page, GUARD)
    page.wait_for_url(re.compile(r"/visitors$"))
    expect(page.locator("#toast")).to_contain_text("请重新输入")
    assert {sel: page.input_value(sel) for sel in typed} == typed
    assert page.input_value("#f-phone") == ""  # phone and ID numbers are typed again
    # A page opened with a query comes back with it.
    _end_guard_sessions(site)
    page.goto(f"{url}/lookup?q=3栋")
    sign_in(page, GUARD)
    page.wait_for_url(re.compile(r"/lookup\?q="))
    assert page.input_value("input[name=q]") == "3栋"


def test_after_logging_in_on_another_tab_the_old_tab_still_registers(
    browser_site: SiteUrl,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "visitors")
    page.fill("#f-name", "赵六")
    page.fill("#f-phone", "13800138003")
    _end_guard_sessions(site)  # overnight; the guard logged in again on a second tab
    other = page.context.new_page()
    other.goto(f"{url}/login")
    sign_in(other, GUARD)
    other.wait_for_selector("#lanes")
    page.bring_to_front()
    page.click("#visitor-submit")
    page.wait_for_url(re.compile(r"/passes/\d+$"))
    assert _passes_named(site, "赵六") == 1


def test_a_login_page_left_open_still_logs_in(
    browser_site: SiteUrl,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    context = browser.new_context(viewport=PORTRAIT, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30000)  # a loaded CI machine (four test workers), not a speed check
    page.goto(f"{url}/login")
    (login,) = [c for c in context.cookies() if c["name"] == "egw_login"]
    assert login["expires"] == -1  # kept while the browser runs, not an hour
    context.clear_cookies()  # the browser was restarted: the form's token is gone
    sign_in(page, GUARD)
    expect(page.locator("#login-error")).to_have_text("页面已过期，请重新登录")
    assert page.input_value("#username") == GUARD[0]  # only the password to type again
    page.fill("#password", GUARD[1])
    page.click("#login-submit")
    page.wait_for_selector("#lanes")
    context.close()


def test_checking_a_pass_says_its_state_in_words(
    browser_site: SiteUrl,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    with httpx2.Client(base_url=url) as client:
        made = client.post(
            "/api/visitors",
            json={"name": "钱七", "host_building": "3栋", "host_unit": "2单元"},
            headers=bearer(site.guard_token),
        )
    assert made.status_code == 201, made.text
    page = page_at(browser, url, PORTRAIT)
    open_page(page, "visitors")
    page.fill("input[name=token]", made.json()["qr"])
    page.click("form[data-then=pass-state] [type=submit]")
    expect(page.locator("#pass-state")).to_contain_text("→ 有效")
    assert "active" not in page.inner_text("#pass-state")

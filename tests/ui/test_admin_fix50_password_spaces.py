"""A password given on the admin page is the password the person then types at the login."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.ui.conftest import ADMIN, Site, bearer

pytest.importorskip("playwright.sync_api")

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    open_page,
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
    sign_in,
)

PASSWORD = "men gang 2024 "  # a passphrase of a few words; the tablet keyboard's space after the last


def logs_in(url: str, username: str, password: str) -> int:
    return httpx2.post(f"{url}/api/session", json={"username": username, "password": password}).status_code


def signs_in_on_the_tablet(chromium: Any, url: str, who: tuple[str, str]) -> str:
    """The booth tablet's login page, `who` typing his password: the page it ends on."""
    tablet = chromium.new_context(viewport=LANDSCAPE, locale="zh-CN").new_page()
    tablet.goto(f"{url}/login")
    sign_in(tablet, who)
    tablet.wait_for_load_state("load")
    return str(tablet.url)


def test_a_password_set_on_the_add_account_form_logs_in_as_typed(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The admin adds guard zhao with the password `men gang 2024 ` (a space at its end, allowed:
    no composition rules, and `gateway user add` and the login keep it); the page stripped it before
    sending, so zhao typing exactly what he was given was refused 用户名或密码错误 (five times: locked
    out). The password stored is the one typed."""
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    open_page(page, "admin")
    form = page.locator("#account-form")
    form.locator("input[name=username]").fill("zhao")
    form.locator("input[name=display_name]").fill(" 赵师傅 ")  # a name is still stored trimmed
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation(wait_until="load"):
        form.get_by_role("button").click()
    assert page.locator("tr[data-account='zhao']").count() == 1  # the account was made
    landed = signs_in_on_the_tablet(browser, url, ("zhao", PASSWORD))
    assert "error=failed" not in landed, (
        f"zhao typing the password he was given is refused ({landed}); the stored password is the "
        f"one with its space cut off (logging in with it: {logs_in(url, 'zhao', PASSWORD.strip())})"
    )
    shown = site.gw.conn.execute("SELECT display_name FROM accounts WHERE username = 'zhao'").fetchone()
    assert shown == ("赵师傅",)
    assert page.errors == []


def test_a_password_changed_on_the_own_password_form_logs_in_as_typed(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """修改我的密码 sends its fields as the add form did, trimmed: an admin who changes his own
    password to `men gang 2024 ` could not log in with it afterwards. It is stored as typed."""
    site, url = browser_site
    who = ("qian", "qian old passphrase")
    made = httpx2.post(
        f"{url}/api/accounts",
        json={"username": who[0], "password": who[1], "role": "admin"},
        headers=bearer(site.admin_token),
    )
    assert made.status_code == 201, made.text
    page = page_at(browser, url, LANDSCAPE, who=who)
    open_page(page, "admin")
    form = page.locator("form[data-api='/api/me/password']")
    form.locator("input[name=current]").fill(who[1])
    form.locator("input[name=new]").fill(PASSWORD)
    with page.expect_navigation(wait_until="load"):
        form.get_by_role("button").click()
    assert "/login" in page.url  # the change ends the session, as documented
    landed = signs_in_on_the_tablet(browser, url, (who[0], PASSWORD))
    assert "error=failed" not in landed, (
        f"qian typing his new password is refused ({landed}); logging in with it trimmed: "
        f"{logs_in(url, who[0], PASSWORD.strip())}"
    )
    assert page.errors == []

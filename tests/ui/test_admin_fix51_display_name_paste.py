"""The admin page's 显示名 field and the API disagree on a pasted 40-character name."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.ui.conftest import Site, bearer

pytest.importorskip("playwright.sync_api")

from tests.ui.test_admin_fix50_reset_password_dialog import admin_page  # noqa: E402
from tests.ui.test_guard_browser import (  # noqa: E402
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    pytestmark,  # noqa: F401  (skipped without chromium)
)

PASTED_40 = "\u200b" + "王" * 40 + " "  # 40 characters shown; a WeChat paste's U+200B and a space besides


def test_a_pasted_40_character_display_name_keeps_its_last_character_on_the_admin_page(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """An admin pastes a 40-character 显示名 from WeChat (a U+200B before it, a space after) into the
    add-account form: the field's maxlength=40 cuts it and the account is made with 39 characters,
    without a word. docs/guard-app.md and the API (cc66ae1) take it whole: 40 characters once cleaned."""
    site, url = browser_site
    page = admin_page(browser, site, url, "zh")
    form = page.locator("#account-form")
    form.locator("input[name=username]").fill("wang40p")
    form.locator("input[name=display_name]").fill(PASTED_40)
    form.locator("input[name=password]").fill("a long passphrase")
    with page.expect_navigation(wait_until="load"):  # the page reloads once the account is made
        form.locator("button[type=submit]").click()
    accounts = httpx2.get(f"{url}/api/accounts", headers=bearer(site.admin_token)).json()
    rows = accounts if isinstance(accounts, list) else accounts.get("accounts", accounts.get("items", []))
    made = [a for a in rows if a["username"] == "wang40p"]
    assert made, f"no account made: {accounts}"
    name = made[0]["display_name"]
    assert name == "王" * 40, (
        f"the 40-character name pasted on the admin page was stored as {len(name)} characters: {name!r}"
    )
